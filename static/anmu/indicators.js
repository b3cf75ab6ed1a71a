/* The indicators dashboard (templates/indicators/dashboard.html) and its print view.
 *
 * Charts: Apache ECharts (static/vendor/echarts/, served by Anmu) draws the chosen indicator by month (a line)
 * and by sub-area (bars; a click on a bar or its name goes down one level). The figures come from the page
 * itself (<script type="application/json" id="indicators-chart-data">, Django's json_script): no inline
 * script and no eval, as the Content-Security-Policy requires.
 *
 * Live: every few seconds the page asks its live URL for the area's change stamp (a hash of the latest
 * change to deliveries, visits and death reports there); only when it differs from the page's does it fetch
 * the page body again (tiles, tables and chart data, rendered by the server) and swap it in. Polling stops
 * while the tab is hidden and when Turbo leaves the page.
 *
 * Period picker: only the fields of the chosen kind of period are shown (without script all are, and the
 * server ignores the others).
 */
(function () {
  "use strict";
  if (window.anmuIndicators) { return; }
  window.anmuIndicators = true;

  var COLOURS = { met: "#2e7d32", unmet: "#c62828", none: "#8e2453", line: "#8e2453", target: "#00796b" };
  var timer = null;
  var busy = false;

  function chartData(root) {
    var el = (root || document).querySelector("#indicators-chart-data");
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function locale() {
    return (document.documentElement.lang || "zh-hans").toLowerCase().indexOf("zh") === 0 ? "ZH" : "EN";
  }

  function fmt(value, data) {
    if (value === null || value === undefined) { return "—"; }
    var text = data.unit === "count" ? String(Math.round(value)) : Number(value).toFixed(2);
    return data.suffix ? text + " " + data.suffix : text;
  }

  function go(url) {
    if (!url) { return; }
    if (window.Turbo && typeof window.Turbo.visit === "function") { window.Turbo.visit(url); } else { window.location.assign(url); }
  }

  function targetLine(data) {
    if (!data.target) { return undefined; }
    return {
      silent: true, symbol: "none",
      lineStyle: { color: COLOURS.target, type: "dashed", width: 1.5 },
      // Horizontal on the chart by month (its label above the line's end); vertical on the bars, whose
      // category axis runs top down, so its start is the top (the label above the bars, clear of the x axis).
      label: { formatter: data.target.label, position: data.months ? "insideEndTop" : "start", color: COLOURS.target },
      data: [data.months ? { yAxis: data.target.value } : { xAxis: data.target.value }]
    };
  }

  function make(el) {
    var old = window.echarts.getInstanceByDom(el);
    if (old) { old.dispose(); }
    return window.echarts.init(el, null, { renderer: "svg", locale: locale() });
  }

  function drawMonths(el, data) {
    var chart = make(el);
    var line = targetLine({ target: data.target, months: true });
    chart.setOption({
      animation: false,
      grid: { left: 56, right: 24, top: 28, bottom: 36 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return fmt(v, data); } },
      xAxis: { type: "category", data: data.months.map(function (m) { return m.name; }), axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", name: data.suffix || "", scale: data.unit !== "count", axisLabel: { hideOverlap: true } },
      series: [{
        name: data.indicator, type: "line", connectNulls: false, symbolSize: 7,
        itemStyle: { color: COLOURS.line }, lineStyle: { width: 2.5 },
        data: data.months.map(function (m) { return m.value; }), markLine: line
      }]
    });
    return chart;
  }

  function drawAreas(el, data) {
    var rows = data.areas;
    el.style.height = Math.max(180, 56 + 34 * rows.length) + "px";
    var chart = make(el);
    var names = rows.map(function (r) { return r.name; });
    chart.setOption({
      animation: false,
      grid: { left: 12, right: 64, top: 30, bottom: 28, containLabel: true },
      tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + fmt(rows[p.dataIndex].value, data); } },
      xAxis: { type: "value", name: data.suffix || "", axisLabel: { hideOverlap: true } },
      yAxis: { type: "category", data: names, inverse: true, triggerEvent: true,
               axisLabel: { color: "#8e2453", width: 180, overflow: "truncate" } },
      series: [{
        name: data.indicator, type: "bar", barMaxWidth: 26, cursor: "pointer",
        label: { show: true, position: "right", formatter: function (p) { return fmt(rows[p.dataIndex].value, data); } },
        data: rows.map(function (r) {
          var colour = r.met === true ? COLOURS.met : r.met === false ? COLOURS.unmet : COLOURS.none;
          return { value: r.value, itemStyle: { color: colour } };
        }),
        markLine: targetLine({ target: data.target })
      }]
    });
    chart.on("click", function (params) {
      var index = params.componentType === "yAxis" ? names.indexOf(params.value) : params.dataIndex;
      if (index >= 0 && rows[index]) { go(rows[index].url); }
    });
    return chart;
  }

  function drawAll(root, tries) {
    if (!window.echarts) {
      // Arriving by Turbo, the vendored script may still be loading (scripts added to <head> run in any order).
      if ((tries || 0) < 100) { setTimeout(function () { drawAll(root, (tries || 0) + 1); }, 100); }
      return;
    }
    var data = chartData(root);
    if (!data) { return; }
    (root || document).querySelectorAll("[data-indicators-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-indicators-chart");
      if (kind === "months" && data.months) { drawMonths(el, data); }
      if (kind === "areas" && data.areas && data.areas.length) { drawAreas(el, data); }
      el.setAttribute("data-drawn", "1");
    });
  }

  function disposeAll() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-indicators-chart]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) { chart.dispose(); }
    });
  }

  function setStatus(live, text, offline) {
    live.classList.toggle("is-offline", !!offline);
    live.querySelectorAll("[data-indicators-status]").forEach(function (el) { el.textContent = text; });
  }

  function clock() {
    var d = new Date();
    var p = function (n) { return String(n).padStart(2, "0"); };
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }

  function poll(live) {
    if (busy || document.hidden || !document.body.contains(live)) { return; }
    busy = true;
    var headers = { "Accept": "application/json", "X-Requested-With": "fetch" };
    fetch(live.dataset.liveUrl, { credentials: "same-origin", headers: headers })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (answer) {
        if (answer.stamp === live.dataset.stamp) {
          setStatus(live, live.dataset.labelLive);
          return null;
        }
        return fetch(live.dataset.bodyUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
          .then(function (response) {
            if (!response.ok) { throw new Error(String(response.status)); }
            return response.text();
          })
          .then(function (html) {
            disposeAll();
            live.innerHTML = html;
            var body = live.querySelector("[data-indicators-body]");
            live.dataset.stamp = body ? body.getAttribute("data-stamp") : answer.stamp;
            live.dataset.refreshed = String(Date.now());
            drawAll(live);
            setStatus(live, live.dataset.labelUpdated + " " + clock());
          });
      })
      .catch(function () { setStatus(live, live.dataset.labelOffline, true); })
      .finally(function () { busy = false; });
  }

  function periodFields(form) {
    var select = form.querySelector("[data-period-kind]");
    if (!select) { return; }
    var kind = select.value || "year";
    form.querySelectorAll("[data-period-for]").forEach(function (input) {
      var kinds = (input.getAttribute("data-period-for") || "").split(" ");
      var wrapper = input.closest("[data-period-field]") || input;
      wrapper.hidden = kinds.indexOf(kind) < 0;
    });
  }

  function init() {
    if (timer) { clearInterval(timer); timer = null; }
    document.querySelectorAll("[data-period-form]").forEach(periodFields);
    drawAll(document);
    var live = document.querySelector("[data-indicators-live]");
    if (live) {
      var every = parseInt(live.dataset.pollMs, 10) || 10000;
      timer = setInterval(function () { poll(live); }, every);
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof Element && target.matches("[data-period-kind]") && target.form) { periodFields(target.form); }
  });
  document.addEventListener("visibilitychange", function () {
    var live = document.querySelector("[data-indicators-live]");
    if (live && !document.hidden) { poll(live); }
  });
  window.addEventListener("resize", function () {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-indicators-chart]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) { chart.resize(); }
    });
  });
  document.addEventListener("turbo:before-render", function () {
    if (timer) { clearInterval(timer); timer = null; }
    disposeAll();
  });
  document.addEventListener("turbo:load", init);
  if (document.readyState !== "loading") { init(); } else { document.addEventListener("DOMContentLoaded", init); }
})();
