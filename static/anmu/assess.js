/* Live risk grading on the assessment form: as the doctor types measurements or ticks findings, the
   form asks POST /api/risk/evaluate/ (the same engine the server saves with) and shows the colour and
   every matched row. Works with Turbo page visits: it binds each form once. */
(function () {
  "use strict";
  var MEASUREMENTS = ["age_years", "height_cm", "weight_kg", "hb_g_l", "platelets_1e9_l",
                      "pa_pressure_mmhg", "uterine_surgeries", "fetuses"];
  var INTEGERS = {age_years: true, uterine_surgeries: true, fetuses: true};
  // Django's JavaScript catalogue defines gettext; makemessages -d djangojs extracts the calls below.
  var gettext = window.gettext || function (s) { return s; };
  var COLOURS = {green: gettext("Green"), yellow: gettext("Yellow"), orange: gettext("Orange"), red: gettext("Red")};

  function csrf(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function payload(form) {
    var data = {ruleset: form.dataset.ruleset};
    MEASUREMENTS.forEach(function (name) {
      var input = form.elements[name];
      if (!input || input.value.trim() === "") return;
      var value = Number(input.value);
      data[name] = isNaN(value) ? input.value : (INTEGERS[name] && Number.isInteger(value) ? value : value);
    });
    var findings = [];
    form.querySelectorAll("input[data-finding]:checked").forEach(function (box) { findings.push(box.value); });
    if (findings.length) data.findings = findings;
    return data;
  }

  // The engine names measurements by key (hb_g_l); the doctor reads the form's label for it. BMI has no
  // field of its own on the form (it comes from height and weight): its label is on the form element.
  function label(form, name) {
    if (name === "bmi" && form.dataset.bmiLabel) return form.dataset.bmiLabel;
    var input = form.elements[name];
    var tag = input && input.id ? form.querySelector("label[for='" + input.id + "']") : null;
    return tag ? tag.textContent.replace(/[:：]\s*$/, "").trim() : name;
  }

  function show(form, result) {
    var chip = form.querySelector("[data-live-colour]");
    var purple = form.querySelector("[data-live-purple]");
    var rows = form.querySelector("[data-live-rows]");
    var status = form.querySelector("[data-live-status]");
    chip.className = "anmu-colour anmu-colour--big anmu-colour--" + result.colour;
    chip.textContent = COLOURS[result.colour] || result.colour;
    chip.dataset.colour = result.colour;
    purple.hidden = !result.purple;
    status.textContent = result.not_assessed.length
      ? gettext("Not assessed:") + " " + result.not_assessed.map(function (name) { return label(form, name); }).join(", ")
      : "";
    rows.innerHTML = "";
    result.matched.forEach(function (row) {
      var li = document.createElement("li");
      var code = document.createElement("code");
      code.textContent = row.code;
      li.appendChild(code);
      li.appendChild(document.createTextNode(" " + row.text));
      li.dataset.colour = row.colour;
      rows.appendChild(li);
    });
  }

  function showErrors(form, errors) {
    var status = form.querySelector("[data-live-status]");
    var parts = [];
    Object.keys(errors).forEach(function (field) { parts.push(label(form, field) + ": " + errors[field].join(" ")); });
    status.textContent = parts.join("；");
  }

  function bind(form) {
    if (form.dataset.liveBound) return;
    form.dataset.liveBound = "1";
    var timer = null;
    var sequence = 0;
    function evaluate() {
      var mine = ++sequence;
      fetch(form.dataset.evaluateUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(form), "Accept": "application/json"},
        body: JSON.stringify(payload(form))
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (answer) {
        if (mine !== sequence) return;  // a newer request is on its way
        if (answer.ok) { show(form, answer.body); } else { showErrors(form, answer.body); }
      }).catch(function () {
        form.querySelector("[data-live-status]").textContent = gettext("Offline: the colour is computed when you save.");
      });
    }
    function later() { clearTimeout(timer); timer = setTimeout(evaluate, 200); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    evaluate();
  }

  function init() { document.querySelectorAll("form[data-evaluate-url]").forEach(bind); }
  document.addEventListener("turbo:load", init);
  if (document.readyState !== "loading") init(); else document.addEventListener("DOMContentLoaded", init);
})();
