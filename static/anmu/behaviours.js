// Small page behaviours bound through data attributes rather than inline handlers, which the
// Content-Security-Policy forbids: one listener per kind on the document, so they survive Turbo
// page changes.
//   <select data-autosubmit>   submits its form when changed
//   <button data-print>        prints the page
(function () {
  "use strict";
  if (window.anmuBehaviours) { return; }
  window.anmuBehaviours = true;
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.matches("[data-autosubmit]") || !target.form) { return; }
    if (typeof target.form.requestSubmit === "function") { target.form.requestSubmit(); } else { target.form.submit(); }
  });
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) { event.preventDefault(); window.print(); }
  });
})();
