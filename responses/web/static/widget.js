/* ZynorLink privacy assistant: the web chat.
 *
 * On the chat page it drives the panel already in the page. Embedded elsewhere with
 *   <script src="https://ASSISTANT-HOST/widget.js" async></script>
 * it adds a chat bubble (in a shadow root, so the site's styles do not leak in) and fetches the panel.
 *
 * User and assistant text is only ever put in the page with textContent. Unsent messages are kept in
 * localStorage with an idempotency id and sent again after a reload or a lost connection.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var api = base + "/api";
  var keys = { session: "privacybot.session", outbox: "privacybot.outbox" };

  function load(key, fallback) {
    try {
      var value = localStorage.getItem(key);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* private browsing: the chat still works for this page view */ }
  }

  function newId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function start(panel) {
    var $ = function (name) { return panel.querySelector("[data-pb-" + name + "]"); };
    var text = panel.dataset;
    var scroller = $("scroll"), log = $("log"), typing = $("typing"), errorBox = $("error");
    var quick = $("quick"), form = $("form"), input = $("input");
    var ticketBox = $("ticket"), ticketRef = $("ticket-ref");
    var sessionId = load(keys.session, null);
    var outbox = load(keys.outbox, []);
    var sending = false, retryTimer = null, retryDelay = 1000, socket = null, socketDelay = 1000;

    function scrollDown() { scroller.scrollTop = scroller.scrollHeight; }

    function addMessage(author, body, pendingId) {
      var item = document.createElement("li");
      item.className = "pb-msg pb-" + author;
      if (pendingId) {
        item.className += " pb-pending";
        item.dataset.pending = pendingId;
      }
      var who = document.createElement("span");
      who.className = "pb-visually-hidden";
      who.textContent = (author === "person" ? text.textYou : text.textAssistant) + ": ";
      var content = document.createElement("span");
      content.className = "pb-text";
      content.textContent = body;
      item.appendChild(who);
      item.appendChild(content);
      log.appendChild(item);
      scrollDown();
      return item;
    }

    function pendingItem(id) {
      var items = log.querySelectorAll(".pb-pending");
      for (var i = 0; i < items.length; i++) if (items[i].dataset.pending === id) return items[i];
      return null;
    }

    function showQuick(choices) {
      quick.textContent = "";
      (choices || []).forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "pb-chip";
        button.textContent = choice.label;
        button.addEventListener("click", function () { send(choice.label, choice.payload); });
        quick.appendChild(button);
      });
      scrollDown();
    }

    function showTicket(reference) {
      if (!reference) return;
      ticketRef.textContent = reference;
      ticketBox.hidden = false;
    }

    function showError(message) {
      errorBox.textContent = message;
      errorBox.hidden = !message;
    }

    function showReply(reply) {
      addMessage("assistant", reply.text);
      showQuick(reply.quick_replies);
      showTicket(reply.ticket_reference);
    }

    async function ensureSession() {
      if (sessionId) return sessionId;
      var response = await fetch(api + "/sessions", { method: "POST" });
      var data = await response.json();
      if (!response.ok) throw new Error(data.error ? data.error.message : text.textOffline);
      sessionId = data.session_id;
      save(keys.session, sessionId);
      return sessionId;
    }

    function forgetSession() {
      sessionId = null;
      save(keys.session, null);
      if (socket) socket.close();
    }

    async function loadHistory() {
      var response = await fetch(api + "/sessions/" + encodeURIComponent(sessionId) + "/messages");
      if (response.status === 400 || response.status === 404) {
        forgetSession();
        await ensureSession();
        return;
      }
      if (!response.ok) throw new Error(text.textRetrying);
      var data = await response.json();
      log.textContent = "";
      data.messages.forEach(function (message) {
        addMessage(message.author, message.text);
        showTicket(message.ticket_reference);
      });
      outbox.forEach(function (item) { addMessage("person", item.text, item.id); });
    }

    function retryLater(message, seconds) {
      showError(message);
      clearTimeout(retryTimer);
      var delay = seconds ? seconds * 1000 : retryDelay;
      retryDelay = Math.min(retryDelay * 2, 30000);
      retryTimer = setTimeout(flush, delay);
    }

    async function post(item) {
      await ensureSession();
      return fetch(api + "/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session_id: sessionId, text: item.text, message_id: item.id, payload: item.payload }),
      });
    }

    async function flush() {
      if (sending) return;
      sending = true;
      typing.hidden = outbox.length === 0;
      scrollDown();
      try {
        while (outbox.length) {
          var item = outbox[0], response;
          try {
            response = await post(item);
          } catch (e) {
            return retryLater(text.textOffline);
          }
          if (response.status === 429) {
            var refused = await response.json();
            return retryLater(refused.error.message, Number(response.headers.get("Retry-After")) || 5);
          }
          if (response.status >= 500) return retryLater(text.textRetrying);
          var data = await response.json();
          if (response.status === 404 || (data.error && data.error.code === "malformed_session")) {
            forgetSession();  // the server no longer knows this session: start a new one and send again
            continue;
          }
          outbox.shift();
          save(keys.outbox, outbox);
          retryDelay = 1000;
          var mine = pendingItem(item.id);
          if (!response.ok) {
            showError(data.error.message);
            if (mine) mine.className = "pb-msg pb-person pb-failed";
            continue;
          }
          showError("");
          if (mine) mine.className = "pb-msg pb-person";
          if (data.duplicate) {
            await loadHistory();
            continue;
          }
          data.replies.forEach(function (reply, index) {
            addMessage("assistant", reply);
            if (index === data.replies.length - 1) showQuick(data.quick_replies);
          });
          showTicket(data.ticket_reference);
        }
      } finally {
        sending = false;
        typing.hidden = true;
        scrollDown();
        if (sessionId && !socket) connect();
      }
    }

    function send(message, payload) {
      message = message.trim();
      if (!message) return;
      var item = { id: newId(), text: message };
      if (payload) item.payload = payload;  // a tapped quick reply: the server reads its id, not its label
      outbox.push(item);
      save(keys.outbox, outbox);
      addMessage("person", message, item.id);
      showQuick([]);
      flush();
    }

    function connect() {
      if (!sessionId || socket) return;
      var url = base.replace(/^http/, "ws") + "/api/sessions/" + encodeURIComponent(sessionId) + "/ws";
      var opened = false;
      socket = new WebSocket(url);
      socket.addEventListener("open", function () {
        if (socketDelay > 1000 && !sending) loadHistory().catch(function () {});  // catch up after a gap
        opened = true;
        socketDelay = 1000;
      });
      socket.addEventListener("message", function (event) {
        var pushed = JSON.parse(event.data);
        if (pushed.type === "message") showReply(pushed);
      });
      socket.addEventListener("close", function () {
        socket = null;
        if (!opened) socketDelay = Math.min(socketDelay * 2, 30000);
        else socketDelay = 2000;
        setTimeout(connect, socketDelay);
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var message = input.value;
      input.value = "";
      send(message);
      input.focus();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });

    (async function () {
      try {
        await ensureSession();
        await loadHistory();
        connect();
        flush();
      } catch (e) {
        retryLater(text.textOffline);
      }
    })();
  }

  function embed() {
    var host = document.createElement("div");
    host.className = "privacybot-host";
    var shadow = host.attachShadow({ mode: "open" });
    var style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = base + "/static/widget.css";
    shadow.appendChild(style);
    fetch(base + "/widget/panel").then(function (response) { return response.text(); }).then(function (markup) {
      var root = document.createElement("div");
      root.className = "pb-root pb-embedded";
      root.innerHTML = markup;  // our own server-rendered template: it holds no user or assistant text
      shadow.appendChild(root);
      document.body.appendChild(host);
      var panel = root.querySelector("[data-privacybot-panel]");
      var bubble = root.querySelector("[data-pb-bubble]");
      var close = root.querySelector("[data-pb-close]");
      function toggle(open) {
        panel.hidden = !open;
        bubble.setAttribute("aria-expanded", String(open));
        if (open) panel.querySelector("[data-pb-input]").focus();
        else bubble.focus();
      }
      bubble.addEventListener("click", function () { toggle(panel.hidden); });
      close.addEventListener("click", function () { toggle(false); });
      panel.addEventListener("keydown", function (event) { if (event.key === "Escape") toggle(false); });
      start(panel);
    });
  }

  var inline = document.querySelector("[data-privacybot-panel]");
  if (inline) start(inline);
  else if (document.body) embed();
  else document.addEventListener("DOMContentLoaded", embed);
})();
