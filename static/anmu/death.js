/* Death-report pages: each legal deadline ([data-clock], an ISO time from the server) counts down every
 * second in days, hours and minutes, and turns red once it has passed. */
(function () {
  "use strict";

  var gettext = function (text) {
    return typeof window.gettext === "function" ? window.gettext(text) : text;
  };

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      var due = Date.parse(el.dataset.clock);
      if (isNaN(due)) {
        return;
      }
      var left = Math.round((due - now) / 1000);
      var abs = Math.abs(left);
      var days = Math.floor(abs / 86400);
      var text = (days ? days + gettext("d") + " " : "") + pad(Math.floor((abs % 86400) / 3600)) + ":" +
        pad(Math.floor((abs % 3600) / 60)) + ":" + pad(abs % 60);
      el.textContent = left >= 0 ? gettext("left") + " " + text : gettext("overdue") + " " + text;
      el.classList.toggle("is-overdue", left < 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
})();
