/* Referral boards (the centre's command board, the sender's page, a referral page): live without reload.
 *
 * alerts.js owns the one websocket and re-emits every message as an "anmu:message" DOM event. On a
 * referral change ({"type": "changed", "kind": "referral"}), a referral alert, or a reconnect (a fresh backlog), the board
 * fetches its rows again from its own scoped view; a referral page reloads when its referral changed.
 * Countdowns to the response deadline tick every second from the server's ISO timestamps.
 */
(function () {
  "use strict";

  var gettext = function (text) {
    return typeof window.gettext === "function" ? window.gettext(text) : text;
  };

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) {
        return;
      }
      var left = Math.round((due - now) / 1000);
      var abs = Math.abs(left);
      var text = Math.floor(abs / 60) + ":" + String(abs % 60).padStart(2, "0");
      el.textContent = left >= 0 ? text : gettext("overdue") + " " + text;
      el.classList.toggle("is-overdue", left < 0);
    });
  }

  function boardRefresher(board) {
    var url = board.dataset.boardUrl;
    var target = board.querySelector("[data-board-rows]");
    var pending = null;
    var running = false;
    function refresh() {
      if (running) {
        pending = pending || setTimeout(refresh, 300);
        return;
      }
      pending = null;
      running = true;
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.text();
        })
        .then(function (html) {
          target.innerHTML = html;
          board.dataset.refreshed = String(Date.now());
          tick();
        })
        .catch(function () {
          setStatus("offline");
        })
        .finally(function () {
          running = false;
        });
    }
    return function () {
      if (!pending) {
        pending = setTimeout(refresh, 150);
      }
    };
  }

  function setStatus(status) {
    document.querySelectorAll("[data-board-status]").forEach(function (el) {
      var offline = status === "offline" || status === "reconnecting";
      el.classList.toggle("is-offline", offline);
      el.textContent = offline ? gettext("offline: the board may be out of date") : gettext("live");
    });
  }

  function isReferralMessage(message) {
    if ((message.type === "changed" && message.kind === "referral") || message.type === "backlog") {
      return true;
    }
    return message.type === "alert" && message.alert && String(message.alert.kind || "").indexOf("referral.") === 0;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.querySelector("[data-board-url]");
    var refresh = board ? boardRefresher(board) : null;
    var page = document.querySelector("[data-referral-page]");
    document.addEventListener("anmu:message", function (event) {
      var message = event.detail || {};
      if (refresh && isReferralMessage(message) && message.type !== "backlog") {
        refresh();
      }
      if (refresh && message.type === "backlog" && board.dataset.seenBacklog) {
        refresh(); // reconnected: what changed while we were away
      }
      if (board && message.type === "backlog") {
        board.dataset.seenBacklog = "1";
      }
      if (page && message.type === "changed" && message.kind === "referral" && message.id === page.dataset.referralPage &&
          message.state !== page.dataset.state) {
        window.location.reload();
      }
    });
    document.addEventListener("anmu:status", function (event) {
      setStatus((event.detail || {}).status);
    });
    tick();
    setInterval(tick, 1000);
  });
})();
