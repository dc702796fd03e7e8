/* ZynorLink privacy assistant: the web chat.
 *
 * On the chat page it drives the panel already in the page. Embedded elsewhere with
 *   <script src="https://ASSISTANT-HOST/widget.js" async></script>
 * it adds a chat launcher (in a shadow root, so the site's styles do not leak in) and fetches the panel.
 *
 * User and assistant text is only ever put in the page with textContent: the light formatting of replies
 * (lists, **bold**, "> " quotes, the quoted policy passage) builds elements, never HTML from text. Unsent
 * messages are kept in localStorage with an idempotency id and sent again after a reload or a lost
 * connection.
 *
 * The panel's own words come from the server, rendered in a language (GET /widget/panel?lang=..). When the
 * person switches language, or the server answers in another one, the panel is fetched in that language and
 * its named words (data-pb-i18n, data-pb-i18n-attr, data-text-*) are copied onto the open panel.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var api = base + "/api";
  var keys = { session: "privacybot.session", outbox: "privacybot.outbox", lang: "privacybot.lang" };
  var LANGS = ["en", "az", "ru"];
  var OPEN_QUOTE_CHARS = 320;  // a longer quoted passage starts folded

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

  /* The language the person picked before, else the browser's, else English. */
  function initialLang() {
    var saved = load(keys.lang, null);
    var guess = saved || (navigator.language || "en").slice(0, 2).toLowerCase();
    return LANGS.indexOf(guess) >= 0 ? guess : "en";
  }

  function panelUrl(lang) {
    return base + "/widget/panel?lang=" + encodeURIComponent(lang);
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  /* Markdown-lite: **bold** inside a line, as text nodes and <strong> elements. */
  function inlineText(parent, line) {
    var parts = line.split(/\*\*(?=\S)(.+?\S)\*\*/);
    parts.forEach(function (part, index) {
      if (!part) return;
      parent.appendChild(index % 2 ? el("strong", "", part) : document.createTextNode(part));
    });
  }

  /* Markdown-lite blocks: paragraphs, "- " / "* " / "• " lists, "1. " lists and "> " quotes. */
  function blocks(parent, body) {
    var kinds = [
      { name: "ul", test: /^\s*[-*•]\s+/ },
      { name: "ol", test: /^\s*\d+[.)]\s+/ },
      { name: "blockquote", test: /^\s*>\s?/ },
    ];
    var current = null, currentKind = null, paragraph = null;
    body.split("\n").forEach(function (line) {
      var kind = null;
      for (var i = 0; i < kinds.length; i++) if (kinds[i].test.test(line)) kind = kinds[i];
      if (!line.trim()) {
        current = currentKind = paragraph = null;
        return;
      }
      if (kind) {
        paragraph = null;
        if (currentKind !== kind) {
          current = el(kind.name, "pb-" + kind.name);
          currentKind = kind;
          parent.appendChild(current);
        }
        var stripped = line.replace(kind.test, "");
        if (kind.name === "blockquote") {
          if (current.childNodes.length) current.appendChild(document.createElement("br"));
          inlineText(current, stripped);
        } else {
          var item = el("li");
          inlineText(item, stripped);
          current.appendChild(item);
        }
        return;
      }
      current = currentKind = null;
      if (paragraph) paragraph.appendChild(document.createElement("br"));
      else {
        paragraph = el("p", "pb-p");
        parent.appendChild(paragraph);
      }
      inlineText(paragraph, line);
    });
  }

  /* The quoted policy passage as a collapsible block; short passages start open. */
  function quoteBlock(quote, label) {
    var details = el("details", "pb-quote");
    details.open = quote.text.length <= OPEN_QUOTE_CHARS;
    var summary = el("summary", "pb-quote-summary");
    summary.appendChild(el("span", "pb-quote-label", label + " "));
    summary.appendChild(el("span", "pb-quote-section", quote.section));
    details.appendChild(summary);
    var passage = el("blockquote", "pb-quote-text");
    blocks(passage, quote.text);
    details.appendChild(passage);
    return details;
  }

  function render(parent, body, quote, label) {
    var at = quote ? body.indexOf(quote.text) : -1;
    if (at < 0) {
      blocks(parent, body);
      return;
    }
    var before = body.slice(0, at).replace(/["“«]\s*$/, "");
    var after = body.slice(at + quote.text.length).replace(/^\s*["”»]/, "");
    blocks(parent, before);
    parent.appendChild(quoteBlock(quote, label));
    blocks(parent, after);
  }

  function clock(date) {
    var sameDay = date.toDateString() === new Date().toDateString();
    var options = { hour: "2-digit", minute: "2-digit" };
    if (!sameDay) { options.day = "numeric"; options.month = "short"; }
    return date.toLocaleString([], options);
  }

  function start(panel) {
    var $ = function (name) { return panel.querySelector("[data-pb-" + name + "]"); };
    var text = panel.dataset;
    var scroller = $("scroll"), log = $("log"), typing = $("typing"), errorBox = $("error");
    var quick = $("quick"), form = $("form"), input = $("input"), sendButton = $("send");
    var counter = $("count"), limitBox = $("limit"), announce = $("announce");
    var ticketBox = $("ticket"), ticketRef = $("ticket-ref"), newButton = $("new");
    var langButtons = panel.querySelectorAll("[data-pb-lang]");
    var maxChars = Number(text.maxChars) || 0;
    var sessionId = load(keys.session, null);
    var outbox = load(keys.outbox, []);
    var lang = load(keys.lang, null);
    var langChosen = lang !== null;  // only a language the person picked is sent; else the server detects it
    var sending = false, retryTimer = null, retryDelay = 1000, socket = null, socketDelay = 1000;
    var scope = panel.getRootNode();  // the page, or the shadow root holding the launcher and the panel

    function authorLabel(author) {
      return { person: text.textYou, officer: text.textOfficer }[author] || text.textAssistant;
    }

    function apiHeaders(extra) {
      var headers = { "Accept-Language": lang || "en" };  // the server's error messages come in it
      for (var name in extra || {}) headers[name] = extra[name];
      return headers;
    }

    function scrollDown() { scroller.scrollTop = scroller.scrollHeight; }

    function setMeta(item, status) {
      var meta = item.querySelector(".pb-meta");
      meta.querySelector(".pb-state").textContent = status ? " · " + status : "";
    }

    function addMessage(author, body, options) {
      options = options || {};
      var item = el("div", "pb-msg pb-" + author);
      var meta = el("p", "pb-meta");
      var authorBox = el("span", "pb-author", authorLabel(author));
      authorBox.dataset.author = author;
      meta.appendChild(authorBox);
      var at = options.at ? new Date(options.at) : new Date();
      var time = el("time", "pb-time", clock(at));
      time.dateTime = at.toISOString();
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(time);
      meta.appendChild(el("span", "pb-state"));
      var content = el("div", "pb-text");
      if (author === "person") content.textContent = body;  // what a person typed is shown as typed
      else render(content, body, options.quote, text.textQuoted);
      item.appendChild(meta);
      item.appendChild(content);
      if (options.pendingId) {
        item.className += " pb-pending";
        item.dataset.pending = options.pendingId;
        setMeta(item, text.textSending);
      }
      log.appendChild(item);
      scrollDown();
      return item;
    }

    function pendingItem(id) {
      var items = log.querySelectorAll(".pb-pending");
      for (var i = 0; i < items.length; i++) if (items[i].dataset.pending === id) return items[i];
      return null;
    }

    function choiceOf(choice) {
      return typeof choice === "string" ? { label: choice, payload: null } : choice;
    }

    function showQuick(choices) {
      quick.textContent = "";
      (choices || []).forEach(function (raw) {
        var choice = choiceOf(raw);
        var button = el("button", "pb-chip", choice.label);
        button.type = "button";
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
      addMessage(reply.author || "assistant", reply.text, { at: reply.at, quote: reply.quote });
      if (reply.quick_replies && reply.quick_replies.length) showQuick(reply.quick_replies);
      showTicket(reply.ticket_reference);
    }

    function updateCount() {
      var length = input.value.length;
      var over = maxChars > 0 && length > maxChars;
      counter.textContent = maxChars ? fill(text.textCount, { length: length, limit: maxChars }) : "";
      counter.className = "pb-count" + (over ? " pb-over" : length > maxChars * 0.9 ? " pb-near" : "");
      limitBox.textContent = over ? fill(text.textTooLong, { length: length, limit: maxChars }) : "";
      limitBox.hidden = !over;
      input.setAttribute("aria-invalid", String(over));
      sendButton.disabled = over;
      return !over;
    }

    /* Copy the words of ``fresh`` (the panel's markup in another language) onto the open panel. */
    function relabel(fresh) {
      var next = fresh.querySelector("[data-privacybot-panel]");
      Array.prototype.forEach.call(next.attributes, function (attr) {
        if (attr.name.indexOf("data-text-") === 0) panel.setAttribute(attr.name, attr.value);
      });
      panel.lang = panel.dataset.lang = next.dataset.lang;
      function twins(marker, copy) {
        Array.prototype.forEach.call(scope.querySelectorAll("[" + marker + "]"), function (node) {
          var twin = fresh.querySelector("[" + marker + '="' + node.getAttribute(marker) + '"]');
          if (twin) copy(node, twin);
        });
      }
      twins("data-pb-i18n", function (node, twin) { node.textContent = twin.textContent; });
      twins("data-pb-i18n-attr", function (node, twin) {
        ["aria-label", "placeholder", "title"].forEach(function (name) {
          if (twin.hasAttribute(name)) node.setAttribute(name, twin.getAttribute(name));
        });
      });
      Array.prototype.forEach.call(log.querySelectorAll(".pb-author"), function (node) {
        node.textContent = authorLabel(node.dataset.author);
      });
      Array.prototype.forEach.call(log.querySelectorAll(".pb-quote-label"), function (node) {
        node.textContent = text.textQuoted + " ";
      });
      if (scope === document) {  // the chat page is ours: its language and title follow
        document.documentElement.lang = next.dataset.lang;
        document.title = fresh.querySelector("[data-pb-i18n=title]").textContent;
      }
      updateCount();
    }

    async function showLanguage(wanted) {
      if (panel.dataset.lang === wanted) return;
      try {
        var response = await fetch(panelUrl(wanted));
        if (!response.ok || lang !== wanted) return;
        var fresh = document.createElement("template");
        fresh.innerHTML = await response.text();  // our own server-rendered template, inert in a <template>
        if (lang === wanted) relabel(fresh.content);
      } catch (e) { /* offline: the words stay as they are until the next switch */ }
    }

    function setLang(value, chosen) {
      lang = LANGS.indexOf(value) >= 0 ? value : "en";
      if (chosen) {
        langChosen = true;
        save(keys.lang, lang);
      }
      Array.prototype.forEach.call(langButtons, function (button) {
        button.setAttribute("aria-pressed", String(button.dataset.pbLang === lang));
      });
      showLanguage(lang);
    }

    async function ensureSession() {
      if (sessionId) return sessionId;
      var response = await fetch(api + "/sessions", { method: "POST", headers: apiHeaders() });
      var data = await response.json();
      if (!response.ok) throw new Error(data.error ? data.error.message : text.textOffline);
      sessionId = data.session_id;
      if (data.max_message_chars) maxChars = data.max_message_chars;  // the server's limit
      updateCount();
      save(keys.session, sessionId);
      return sessionId;
    }

    function forgetSession() {
      sessionId = null;
      save(keys.session, null);
      if (socket) socket.close();
    }

    async function loadHistory() {
      var response = await fetch(api + "/sessions/" + encodeURIComponent(sessionId) + "/messages", {
        headers: apiHeaders(),
      });
      if (response.status === 400 || response.status === 404) {
        forgetSession();
        await ensureSession();
        return;
      }
      if (!response.ok) throw new Error(text.textRetrying);
      var data = await response.json();
      log.textContent = "";
      data.messages.forEach(function (message) {
        addMessage(message.author, message.text, { at: message.at, quote: message.quote });
        showTicket(message.ticket_reference);
      });
      outbox.forEach(function (item) { addMessage("person", item.text, { pendingId: item.id }); });
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
      var body = { session_id: sessionId, text: item.text, message_id: item.id };
      if (item.lang) body.lang = item.lang;
      if (item.payload) body.payload = item.payload;
      return fetch(api + "/chat", {
        method: "POST",
        headers: apiHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify(body),
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
          if (mine) {
            mine.classList.remove("pb-pending");
            setMeta(mine, response.ok ? "" : text.textNotSent);
          }
          if (!response.ok) {
            showError(data.error.message);
            if (mine) mine.classList.add("pb-failed");
            continue;
          }
          showError("");
          if (data.duplicate) {
            await loadHistory();
            continue;
          }
          var quotes = data.quotes || [];
          data.replies.forEach(function (reply, index) {
            addMessage("assistant", reply, { quote: quotes[index] });
          });
          showQuick(data.quick_replies);
          showTicket(data.ticket_reference);
          if (data.lang && !langChosen) setLang(data.lang, false);  // the switch shows the detected language
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
      if (!message || !updateCount()) return;
      var item = { id: newId(), text: message, lang: langChosen ? lang : null };
      if (payload) item.payload = payload;
      outbox.push(item);
      save(keys.outbox, outbox);
      addMessage("person", message, { pendingId: item.id });
      showQuick([]);
      flush();
    }

    async function startOver() {
      clearTimeout(retryTimer);
      outbox = [];
      save(keys.outbox, outbox);
      forgetSession();
      log.textContent = "";
      showQuick([]);
      showError("");
      ticketBox.hidden = true;
      ticketRef.textContent = "";
      input.value = "";
      updateCount();
      announce.textContent = text.textNewStarted;
      input.focus();
      try {
        await ensureSession();
        connect();
      } catch (e) {
        retryLater(text.textOffline);
      }
    }

    function connect() {
      if (!sessionId || socket) return;
      var url = base.replace(/^http/, "ws") + "/api/sessions/" + encodeURIComponent(sessionId) + "/ws";
      var opened = false;
      var mine = socket = new WebSocket(url);
      mine.addEventListener("open", function () {
        if (socketDelay > 1000 && !sending) loadHistory().catch(function () {});  // catch up after a gap
        opened = true;
        socketDelay = 1000;
      });
      mine.addEventListener("message", function (event) {
        var pushed = JSON.parse(event.data);
        if (pushed.type === "message" && socket === mine) showReply(pushed);
      });
      mine.addEventListener("close", function () {
        if (socket !== mine) return;  // replaced by a new conversation's socket
        socket = null;
        if (!opened) socketDelay = Math.min(socketDelay * 2, 30000);
        else socketDelay = 2000;
        setTimeout(connect, socketDelay);
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!updateCount()) return;
      var message = input.value;
      input.value = "";
      send(message);
      updateCount();
      input.focus();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    input.addEventListener("input", updateCount);
    newButton.addEventListener("click", startOver);
    Array.prototype.forEach.call(langButtons, function (button) {
      button.addEventListener("click", function () { setLang(button.dataset.pbLang, true); });
    });
    setLang(initialLang());
    updateCount();

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
    fetch(panelUrl(initialLang())).then(function (response) { return response.text(); }).then(function (markup) {
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
        root.classList.toggle("pb-open", open);
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
