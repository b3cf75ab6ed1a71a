/* Anmu live alerts: the bell in the toolbar, a toast per new alert, an alarm sound for critical ones.
 *
 * Toasts never cover the work: they live in a rail at the right edge, below the toolbar, and while the
 * rail shows anything the page's content gives it room (html.anmu-rail-open pads <main>). A critical
 * toast can be minimised (it stays in the bell and the inbox, and the alarm keeps reminding); beyond
 * two, critical toasts stack into one "N critical alerts" pill in the toolbar that expands on click.
 * What is minimised or expanded is kept for the tab (sessionStorage).
 *
 * One websocket per browser tab (protocol: README, "Alert messages"). This file sits in <head>, so
 * Turbo runs it once per tab; the socket and the state live on `window.AnmuAlerts` and survive page
 * visits, and the bell is found again after every `turbo:load`. The server's table is the truth: on
 * every (re)connect its backlog replaces what this tab believed. Every server string is inserted as
 * text, never as HTML. UI strings come from Django's JavaScript catalog (`gettext`, /jsi18n/).
 */
(function () {
  "use strict";
  if (window.AnmuAlerts) {
    return;
  }

  var gettext = function (text) {
    return typeof window.gettext === "function" ? window.gettext(text) : text;
  };
  var ngettext = function (singular, plural, count) {
    return typeof window.ngettext === "function" ? window.ngettext(singular, plural, count)
      : (count === 1 ? singular : plural);
  };
  var interpolate = function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_match, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  };

  var BACKOFF_MIN_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  var PING_EVERY_MS = 25000;
  var PONG_TIMEOUT_MS = 10000;
  var FADE_MS = { routine: 8000, urgent: 20000 };
  var REMIND_EVERY_MS = 60000;
  var BACKLOG_TOASTS = 5;
  var SOUND_KEY = "anmu.alerts.sound";
  var VIEW_KEY = "anmu.alerts.view"; // sessionStorage: {minimised: [alert ids], expanded: bool}
  var STACK_AFTER = 2; // more open critical toasts than this stack into the pill

  var state = {
    socket: null,
    // idle (no bell on this page) | connecting | online | offline (waiting to retry) | reconnecting
    status: "idle",
    attempts: 0,
    everOnline: false,
    wanted: false,
    url: null,
    user: null,
    unread: null,
    alerts: new Map(), // id → alert message: the user's unacknowledged alerts, as the server last said
    toasts: new Map(), // id → {el, alert, timer}
    retryTimer: null,
    pingTimer: null,
    pongTimer: null,
    audio: null,
    minimised: new Set(), // ids of critical toasts the user minimised
    expanded: false, // the user opened the pill: every critical toast shows, stacked or not
  };

  // --- The socket ------------------------------------------------------------------------------------

  function socketUrl(path) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + path;
  }

  function send(message) {
    var socket = state.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return false;
    }
    socket.send(JSON.stringify(message));
    return true;
  }

  function connect() {
    clearTimeout(state.retryTimer);
    state.retryTimer = null;
    if (!state.wanted || !state.url) {
      return;
    }
    if (state.socket && state.socket.readyState <= WebSocket.OPEN) {
      return; // connecting or open already
    }
    var socket;
    try {
      socket = new WebSocket(state.url);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    state.socket = socket;
    setStatus(state.everOnline ? "reconnecting" : "connecting");
    socket.onmessage = function (event) {
      if (socket !== state.socket) {
        return;
      }
      alive();
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handle(message);
    };
    socket.onclose = function () {
      lost(socket);
    };
    socket.onerror = function () {
      // onclose follows and schedules the retry.
    };
  }

  // The connection is gone (closed, or silent past the pong timeout): show it and try again later.
  function lost(socket) {
    if (socket !== state.socket) {
      return;
    }
    state.socket = null;
    clearTimeout(state.pingTimer);
    clearTimeout(state.pongTimer);
    try {
      socket.onclose = null;
      socket.close();
    } catch (error) {
      // already closed
    }
    if (state.wanted) {
      setStatus("offline");
      scheduleReconnect();
    } else {
      setStatus("idle");
    }
  }

  // 1 s, doubling to 30 s, each with jitter (half to all of it) so that a restarted server is not
  // hit by every browser at the same instant.
  function scheduleReconnect() {
    if (state.retryTimer || !state.wanted) {
      return;
    }
    var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, state.attempts));
    var delay = ceiling / 2 + Math.random() * (ceiling / 2);
    state.attempts += 1;
    state.retryTimer = setTimeout(connect, delay);
  }

  function disconnect() {
    clearTimeout(state.retryTimer);
    state.retryTimer = null;
    var socket = state.socket;
    state.socket = null;
    clearTimeout(state.pingTimer);
    clearTimeout(state.pongTimer);
    if (socket) {
      socket.onclose = null;
      try {
        socket.close();
      } catch (error) {
        // already closed
      }
    }
    setStatus("idle");
  }

  // Any message proves the line is alive; a ping after a quiet spell finds a dead one.
  function alive() {
    clearTimeout(state.pongTimer);
    clearTimeout(state.pingTimer);
    var socket = state.socket;
    state.pingTimer = setTimeout(function () {
      if (socket !== state.socket) {
        return;
      }
      send({ type: "ping" });
      state.pongTimer = setTimeout(function () {
        lost(socket);
      }, PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  // --- Messages --------------------------------------------------------------------------------------

  function handle(message) {
    // Pages that follow the socket (the referral boards) listen to every message.
    document.dispatchEvent(new CustomEvent("anmu:message", { detail: message }));
    switch (message.type) {
      case "backlog":
        onBacklog(message.alerts || [], message.unread);
        break;
      case "alert":
        onAlert(message.alert, message.unread);
        break;
      case "closed":
      case "acked":
        onClosed(message.alert, message.unread);
        break;
      case "count":
        setUnread(message.unread);
        break;
      case "error":
        onError(message);
        break;
      default:
        break; // pong
    }
  }

  function onBacklog(alerts, unread) {
    state.attempts = 0;
    state.everOnline = true;
    setStatus("online");
    var fresh = new Map();
    alerts.forEach(function (alert) {
      fresh.set(alert.id, alert);
    });
    // The backlog replaces the local state: toasts of alerts closed meanwhile go away.
    Array.from(state.toasts.keys()).forEach(function (id) {
      if (!fresh.has(id) && !state.toasts.get(id).closed) {
        removeToast(id);
      }
    });
    state.alerts = fresh;
    Array.from(state.minimised).forEach(function (id) {
      if (!fresh.has(id)) {
        state.minimised.delete(id);
      }
    });
    saveView();
    setUnread(unread);
    if (alerts.length) {
      send({ type: "receipt", ids: alerts.map(function (alert) { return alert.id; }) });
    }
    // Critical ones always show (they stay until acknowledged); others only if no browser had them yet.
    var due = alerts.filter(function (alert) {
      return !state.toasts.has(alert.id) && (alert.priority === "critical" || !alert.delivered);
    });
    due.sort(function (a, b) {
      return (b.priority === "critical") - (a.priority === "critical");
    });
    due.slice(0, BACKLOG_TOASTS).reverse().forEach(function (alert) {
      showToast(alert);
    });
    if (due.length > BACKLOG_TOASTS) {
      showSummaryToast(due.length - BACKLOG_TOASTS);
    }
    if (due.some(function (alert) { return alert.priority === "critical"; })) {
      playAlarm();
    }
  }

  function onAlert(alert, unread) {
    if (!alert) {
      return;
    }
    state.alerts.set(alert.id, alert);
    setUnread(unread);
    send({ type: "receipt", ids: [alert.id] });
    showToast(alert);
    if (alert.priority === "critical") {
      playAlarm();
    }
  }

  function onClosed(alert, unread) {
    setUnread(unread);
    if (!alert) {
      return;
    }
    state.alerts.delete(alert.id);
    var toast = state.toasts.get(alert.id);
    if (!toast) {
      return;
    }
    toast.closed = true;
    var status = toast.el.querySelector(".anmu-toast__status");
    // "Dealt with by …" or why it closed by itself, in the socket's language; older messages lack it.
    status.textContent = alert.closed || (alert.acknowledged_by
      ? interpolate(gettext("Acknowledged by %(name)s"), { name: alert.acknowledged_by })
      : gettext("Acknowledged"));
    toast.el.classList.add("anmu-toast--closed");
    toast.el.querySelectorAll("[data-action=ack], [data-action=minimise]").forEach(function (button) {
      button.remove();
    });
    state.minimised.delete(alert.id);
    if (!openCritical().length) {
      state.expanded = false;
    }
    saveView();
    layout();
    fadeLater(alert.id, 3000);
  }

  function onError(message) {
    var toast = message.id ? state.toasts.get(message.id) : null;
    if (toast) {
      toast.el.querySelector(".anmu-toast__status").textContent = message.message || "";
      toast.el.querySelectorAll("[data-action=ack]").forEach(function (button) {
        button.disabled = false;
      });
    }
  }

  function acknowledge(id) {
    var toast = state.toasts.get(id);
    var status = toast ? toast.el.querySelector(".anmu-toast__status") : null;
    if (!send({ type: "ack", id: id })) {
      if (status) {
        status.textContent = gettext("Offline: acknowledge again when the connection is back.");
      }
      return;
    }
    if (toast) {
      toast.el.querySelectorAll("[data-action=ack]").forEach(function (button) {
        button.disabled = true;
      });
      status.textContent = gettext("Acknowledging…");
    }
  }

  // --- The bell --------------------------------------------------------------------------------------

  function setUnread(unread) {
    if (typeof unread === "number") {
      state.unread = unread;
    }
    renderBell();
  }

  function setStatus(status) {
    state.status = status;
    document.dispatchEvent(new CustomEvent("anmu:status", { detail: { status: status } }));
    renderBell();
  }

  function renderBell() {
    var bell = document.querySelector("[data-anmu-bell]");
    if (!bell) {
      return;
    }
    var count = bell.querySelector("[data-anmu-count]");
    var label = bell.querySelector("[data-anmu-status]");
    var unread = state.unread || 0;
    var offline = state.status === "offline" || state.status === "reconnecting";
    bell.dataset.status = state.status;
    bell.dataset.unread = String(unread);
    bell.classList.toggle("anmu-bell--offline", offline);
    bell.classList.toggle("anmu-bell--connecting", state.status === "connecting");
    if (count) {
      count.textContent = unread > 99 ? "99+" : String(unread);
      count.hidden = unread === 0;
    }
    var text = "";
    if (offline) {
      text = gettext("Offline, reconnecting…");
    } else if (state.status === "connecting") {
      text = gettext("Connecting…");
    }
    if (label) {
      label.textContent = text;
      label.hidden = !text;
    }
    bell.title = text || interpolate(gettext("Alerts: %(count)s unread"), { count: unread });
  }

  // --- Toasts ----------------------------------------------------------------------------------------

  function container() {
    var box = document.getElementById("anmu-toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "anmu-toasts";
      box.className = "anmu-toasts";
      box.setAttribute("data-turbo-permanent", "");
      document.body.appendChild(box);
    }
    return box;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  var PRIORITY_LABELS = {
    routine: function () { return gettext("Routine"); },
    urgent: function () { return gettext("Urgent"); },
    critical: function () { return gettext("Critical"); },
  };

  function safeLink(link) {
    return typeof link === "string" && link.charAt(0) === "/" && link.charAt(1) !== "/" ? link : "";
  }

  function clock(iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) {
      return "";
    }
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(when.getHours()) + ":" + pad(when.getMinutes());
  }

  function showToast(alert) {
    var priority = PRIORITY_LABELS[alert.priority] ? alert.priority : "routine";
    var existing = state.toasts.get(alert.id);
    if (existing) {
      existing.el.remove();
      clearTimeout(existing.timer);
    }
    var toast = element("div", "anmu-toast anmu-toast--" + priority);
    toast.setAttribute("role", priority === "critical" ? "alertdialog" : "status");
    toast.dataset.alertId = alert.id;
    toast.dataset.priority = priority;
    toast.dataset.testid = "alert-toast";

    var head = element("div", "anmu-toast__head");
    head.appendChild(element("span", "anmu-prio anmu-prio--" + priority, PRIORITY_LABELS[priority]()));
    head.appendChild(element("span", "anmu-toast__time", clock(alert.created_at)));
    if (priority === "critical") {
      var minimise = element("button", "anmu-toast__minimise", gettext("Minimise"));
      minimise.type = "button";
      minimise.dataset.action = "minimise";
      minimise.dataset.testid = "toast-minimise";
      minimise.title = gettext("Minimise: the alert stays in the bell and the inbox, and the alarm keeps reminding you");
      minimise.addEventListener("click", function () {
        minimiseToast(alert.id);
      });
      head.appendChild(minimise);
    } else {
      var close = element("button", "anmu-toast__close", "×");
      close.type = "button";
      close.setAttribute("aria-label", gettext("Close"));
      close.addEventListener("click", function () {
        removeToast(alert.id);
      });
      head.appendChild(close);
    }
    toast.appendChild(head);
    toast.appendChild(element("div", "anmu-toast__title", alert.title));
    if (alert.body) {
      toast.appendChild(element("div", "anmu-toast__body", alert.body));
    }

    var actions = element("div", "anmu-toast__actions");
    var link = safeLink(alert.link);
    if (link) {
      var open = element("a", "mdc-button", gettext("Open the record"));
      open.href = link;
      open.addEventListener("click", function () {
        send({ type: "read", ids: [alert.id] });
      });
      actions.appendChild(open);
    }
    if (!alert.acknowledged_at) {
      var ack = element("button", "mdc-button mdc-button--raised anmu-toast__ack", gettext("Acknowledge"));
      ack.type = "button";
      ack.dataset.action = "ack";
      ack.dataset.testid = "toast-ack";
      ack.addEventListener("click", function () {
        acknowledge(alert.id);
      });
      actions.appendChild(ack);
    }
    if (priority === "critical" && !soundPlaying()) {
      var sound = element("button", "mdc-button anmu-toast__sound", gettext("Enable sound"));
      sound.type = "button";
      sound.addEventListener("click", function () {
        setSound(true);
        sound.remove();
      });
      actions.appendChild(sound);
    }
    toast.appendChild(actions);
    toast.appendChild(element("div", "anmu-toast__status"));

    var entry = { el: toast, alert: alert, timer: null, closed: false };
    state.toasts.set(alert.id, entry);
    container().appendChild(toast);
    layout();
    if (FADE_MS[priority]) {
      fadeLater(alert.id, FADE_MS[priority]);
      toast.addEventListener("mouseenter", function () {
        clearTimeout(entry.timer);
      });
      toast.addEventListener("mouseleave", function () {
        fadeLater(alert.id, 3000);
      });
    }
  }

  function showSummaryToast(more) {
    var id = "summary";
    removeToast(id);
    var toast = element("div", "anmu-toast anmu-toast--routine");
    toast.dataset.testid = "alert-toast-summary";
    var text = interpolate(gettext("%(count)s more unacknowledged alerts."), { count: more });
    toast.appendChild(element("div", "anmu-toast__title", text));
    var bell = document.querySelector("[data-anmu-bell]");
    if (bell) {
      var actions = element("div", "anmu-toast__actions");
      var open = element("a", "mdc-button", gettext("Open the inbox"));
      open.href = bell.getAttribute("href");
      actions.appendChild(open);
      toast.appendChild(actions);
    }
    state.toasts.set(id, { el: toast, alert: null, timer: null, closed: true });
    container().appendChild(toast);
    layout();
    fadeLater(id, FADE_MS.urgent);
  }

  function fadeLater(id, ms) {
    var entry = state.toasts.get(id);
    if (!entry) {
      return;
    }
    clearTimeout(entry.timer);
    entry.timer = setTimeout(function () {
      entry.el.classList.add("anmu-toast--leaving");
      entry.timer = setTimeout(function () {
        removeToast(id);
      }, 400);
    }, ms);
  }

  function removeToast(id) {
    var entry = state.toasts.get(id);
    if (!entry) {
      return;
    }
    clearTimeout(entry.timer);
    entry.el.remove();
    state.toasts.delete(id);
    layout();
  }

  function clearToasts() {
    Array.from(state.toasts.keys()).forEach(removeToast);
    state.minimised = new Set();
    state.expanded = false;
    saveView();
    layout();
  }

  // Turbo keeps #anmu-toasts (data-turbo-permanent); should a page lack it, put the toasts back.
  function reattachToasts() {
    var box = container();
    state.toasts.forEach(function (entry) {
      if (entry.el.parentNode !== box) {
        box.appendChild(entry.el);
      }
    });
    layout();
  }

  // --- The rail, minimised toasts and the pill -------------------------------------------------------

  function loadView() {
    try {
      var view = JSON.parse(window.sessionStorage.getItem(VIEW_KEY) || "{}");
      state.minimised = new Set(Array.isArray(view.minimised) ? view.minimised : []);
      state.expanded = view.expanded === true;
    } catch (error) {
      // no storage (private mode) or a bad value: start with nothing minimised
    }
  }

  function saveView() {
    try {
      window.sessionStorage.setItem(VIEW_KEY, JSON.stringify({
        minimised: Array.from(state.minimised), expanded: state.expanded,
      }));
    } catch (error) {
      // private mode: the choice lasts until the page is reloaded
    }
  }

  function openCritical() {
    var open = [];
    state.toasts.forEach(function (entry, id) {
      if (!entry.closed && entry.alert && entry.alert.priority === "critical") {
        open.push(id);
      }
    });
    return open;
  }

  function minimiseToast(id) {
    state.minimised.add(id);
    var critical = openCritical();
    if (critical.every(function (other) { return state.minimised.has(other); })) {
      state.expanded = false;
    }
    saveView();
    layout();
  }

  function minimiseAll() {
    openCritical().forEach(function (id) {
      state.minimised.add(id);
    });
    state.expanded = false;
    saveView();
    layout();
  }

  function expand() {
    state.minimised = new Set();
    state.expanded = true;
    saveView();
    layout();
    var first = container().querySelector(".anmu-toast--critical:not([hidden]) button");
    if (first) {
      first.focus({ preventScroll: true });
    }
  }

  // Which toasts show, the rail's room in the page, the pill's count. Runs after every change.
  function layout() {
    var box = document.getElementById("anmu-toasts");
    var critical = openCritical();
    var stacked = !state.expanded && critical.length > STACK_AFTER;
    var hidden = 0;
    critical.forEach(function (id) {
      var hide = stacked || state.minimised.has(id);
      state.toasts.get(id).el.hidden = hide;
      hidden += hide ? 1 : 0;
    });
    var head = box ? box.querySelector("[data-anmu-rail-head]") : null;
    var showHead = state.expanded && critical.length - hidden > 1;
    if (box && showHead && !head) {
      head = element("div", "anmu-toasts__head");
      head.setAttribute("data-anmu-rail-head", "");
      var all = element("button", "mdc-button anmu-toasts__minimise", gettext("Minimise all"));
      all.type = "button";
      all.dataset.testid = "toasts-minimise-all";
      all.addEventListener("click", minimiseAll);
      head.appendChild(all);
      box.insertBefore(head, box.firstChild);
    } else if (head && !showHead) {
      head.remove();
    }
    var showing = false;
    state.toasts.forEach(function (entry) {
      showing = showing || !entry.el.hidden;
    });
    document.documentElement.classList.toggle("anmu-rail-open", showing);
    if (box) {
      box.classList.toggle("anmu-toasts--open", showing);
    }
    placeRail();
    renderPill(hidden);
  }

  // The rail starts below the toolbar; once the toolbar has scrolled away it uses the full height.
  var railQueued = false;
  function placeRail() {
    railQueued = false;
    var box = document.getElementById("anmu-toasts");
    var toolbar = document.querySelector(".vf-page__body-toolbar");
    if (box && toolbar && window.matchMedia("(min-width: 1024px)").matches) {
      box.style.top = Math.max(0, Math.round(toolbar.getBoundingClientRect().bottom)) + "px";
    } else if (box) {
      box.style.top = "";
    }
  }
  window.addEventListener("scroll", function () {
    if (!railQueued && document.documentElement.classList.contains("anmu-rail-open")) {
      railQueued = true;
      window.requestAnimationFrame(placeRail);
    }
  }, { passive: true, capture: true });
  window.addEventListener("resize", placeRail, { passive: true });

  function renderPill(count) {
    var pill = document.querySelector("[data-anmu-pill]");
    if (!pill) {
      return;
    }
    if (!pill.dataset.bound) {
      pill.dataset.bound = "1";
      pill.addEventListener("click", expand);
    }
    var before = Number(pill.dataset.count || 0);
    pill.dataset.count = String(count);
    pill.hidden = count === 0;
    pill.setAttribute("aria-expanded", state.expanded ? "true" : "false");
    var label = pill.querySelector("[data-anmu-pill-label]") || pill;
    label.textContent = interpolate(ngettext("%(count)s critical alert", "%(count)s critical alerts", count),
      { count: count });
    if (count > before) {
      // A new one joined: the pill pulses again (restarting the animation).
      pill.classList.remove("anmu-pill--new");
      void pill.offsetWidth;
      pill.classList.add("anmu-pill--new");
    }
  }

  // --- Sound: generated with WebAudio; browsers keep it muted until a click or key press ----------------

  function soundWanted() {
    try {
      return window.localStorage.getItem(SOUND_KEY) === "on";
    } catch (error) {
      return false;
    }
  }

  function audioContext() {
    if (!state.audio) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) {
        return null;
      }
      state.audio = new Context();
    }
    return state.audio;
  }

  function soundPlaying() {
    return soundWanted() && state.audio !== null && state.audio.state === "running";
  }

  // Called from a user gesture: the only moment a browser lets a page start audio.
  function unlockAudio() {
    if (!soundWanted()) {
      return;
    }
    var context = audioContext();
    if (context && context.state === "suspended") {
      context.resume().then(renderSoundButton, function () {});
    }
  }

  function tone(context, at, frequency, length) {
    var oscillator = context.createOscillator();
    var gain = context.createGain();
    oscillator.type = "square";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
    oscillator.connect(gain);
    gain.connect(context.destination);
    oscillator.start(at);
    oscillator.stop(at + length + 0.02);
  }

  // Two rising three-tone bursts: unlike any everyday notification sound.
  function playAlarm(short) {
    if (!soundWanted()) {
      return false;
    }
    var context = audioContext();
    if (!context) {
      return false;
    }
    if (context.state === "suspended") {
      context.resume().catch(function () {});
    }
    var start = context.currentTime + 0.05;
    var bursts = short ? [0] : [0, 1.2];
    bursts.forEach(function (offset) {
      [660, 880, 1100].forEach(function (frequency, index) {
        tone(context, start + offset + index * 0.22, frequency, 0.18);
      });
    });
    state.lastAlarm = Date.now();
    return true;
  }

  function setSound(on) {
    try {
      window.localStorage.setItem(SOUND_KEY, on ? "on" : "off");
    } catch (error) {
      // private mode: the choice lasts for this page only
    }
    if (on) {
      var context = audioContext();
      if (context && context.state === "suspended") {
        context.resume().catch(function () {});
      }
      playAlarm(true);
    }
    renderSoundButton();
  }

  function renderSoundButton() {
    var button = document.querySelector("[data-anmu-sound]");
    if (!button) {
      return;
    }
    var on = soundWanted();
    button.textContent = on ? "volume_up" : "volume_off";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.title = on ? gettext("Sound for critical alerts is on (click to mute)")
      : gettext("Enable sound for critical alerts");
  }

  function remind() {
    var open = false;
    state.toasts.forEach(function (entry) {
      if (!entry.closed && entry.alert && entry.alert.priority === "critical") {
        open = true;
      }
    });
    if (open && (!state.lastAlarm || Date.now() - state.lastAlarm >= REMIND_EVERY_MS - 1000)) {
      playAlarm();
    }
  }

  // --- Each page ------------------------------------------------------------------------------------

  function bind() {
    var bell = document.querySelector("[data-anmu-bell]");
    if (!bell) {
      // Signed out (or a page without the shell): no socket, nothing left of the last user.
      state.wanted = false;
      disconnect();
      clearToasts();
      state.alerts = new Map();
      state.unread = null;
      state.user = null;
      state.everOnline = false;
      return;
    }
    var user = bell.getAttribute("data-user");
    if (state.user !== null && state.user !== user) {
      disconnect();
      clearToasts();
      state.alerts = new Map();
      state.unread = null;
      state.everOnline = false;
    }
    state.user = user;
    state.wanted = true;
    state.url = socketUrl(bell.getAttribute("data-ws-path") || "/ws/alerts/");
    var soundButton = document.querySelector("[data-anmu-sound]");
    if (soundButton && !soundButton.dataset.bound) {
      soundButton.dataset.bound = "1";
      soundButton.addEventListener("click", function () {
        setSound(!soundWanted());
      });
    }
    renderSoundButton();
    renderBell();
    reattachToasts();
    // A page showing one alert (the inbox's detail page) has just marked it read: refresh the count.
    var reading = document.querySelector("[data-anmu-read]");
    if (reading) {
      send({ type: "read", ids: [reading.getAttribute("data-anmu-read")] });
    }
    if (!state.socket && !state.retryTimer) {
      connect();
    }
  }

  loadView();
  document.addEventListener("turbo:load", bind);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", bind);
  } else {
    bind();
  }
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, unlockAudio, { capture: true, passive: true });
  });
  window.addEventListener("online", function () {
    if (state.wanted && !state.socket) {
      state.attempts = 0;
      connect();
    }
  });
  window.addEventListener("offline", function () {
    if (state.socket) {
      lost(state.socket);
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && state.wanted && !state.socket) {
      connect();
    }
  });
  setInterval(remind, 5000);

  window.AnmuAlerts = {
    state: state,
    bind: bind,
    connect: connect,
    disconnect: disconnect,
    acknowledge: acknowledge,
    playAlarm: playAlarm,
    setSound: setSound,
    minimise: minimiseToast,
    minimiseAll: minimiseAll,
    expand: expand,
  };
})();
