// The officer dashboard's live inbox: a websocket at /officer/live announces every change on any ticket;
// the queue re-reads its counters and rows together and marks changed tickets unread (until opened), a ticket page re-reads its
// transcript, facts, deliveries and audit trail. The transcript is kept scrolled to the newest message.
(function () {
  "use strict";
  var KEY = "pb-officer-unread";
  var body = document.body;
  var ticket = body.dataset.ticket || null;

  function unread() {
    try {
      var list = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (e) {
      return [];
    }
  }

  function save(list) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(list));
    } catch (e) { /* private mode: markers last for this page only */ }
  }

  function markUnread(reference) {
    var list = unread();
    if (list.indexOf(reference) < 0) {
      list.push(reference);
      save(list);
    }
  }

  function showMarkers() {
    var list = unread();
    var rows = document.querySelectorAll("table.queue tbody tr[data-reference]");
    Array.prototype.forEach.call(rows, function (row) {
      var isUnread = list.indexOf(row.getAttribute("data-reference")) >= 0;
      row.classList.toggle("unread", isUnread);
      var marker = row.querySelector(".unread-marker");
      if (marker) {
        marker.textContent = isUnread ? "\u25CF" : "";
        if (isUnread) {
          marker.setAttribute("role", "img");
          marker.setAttribute("aria-label", "unread");
        } else {
          marker.removeAttribute("role");
          marker.removeAttribute("aria-label");
        }
      }
    });
  }

  function scrollToNewest() {
    var newest = document.getElementById("newest");
    var transcript = document.getElementById("transcript");
    if (transcript) {
      transcript.scrollTop = transcript.scrollHeight;
    }
    if (newest) {
      newest.scrollIntoView({ block: "nearest" });
    }
  }

  function refresh(selectors) {
    return window.fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new window.DOMParser().parseFromString(html, "text/html");
        selectors.forEach(function (selector) {
          var old = document.querySelector(selector);
          var replacement = fresh.querySelector(selector);
          if (old && replacement) {
            old.replaceWith(replacement);
          }
        });
      });
  }

  function onEvent(event) {
    if (!event || !event.reference) {
      return;
    }
    if (ticket && event.reference === ticket) {
      refresh(["#facts", "#transcript", "#deliveries", "#audit"]).then(scrollToNewest);
      return;
    }
    markUnread(event.reference);
    if (!ticket) {
      refresh(["#queue-counts", "#queue-list"]).then(showMarkers);  // the counters and rows, one read
    }
  }

  function connect(delay) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new window.WebSocket(scheme + window.location.host + "/officer/live");
    socket.onopen = function () {
      body.setAttribute("data-live", "on");
      delay = 1000;
    };
    socket.onmessage = function (message) {
      try {
        onEvent(JSON.parse(message.data));
      } catch (e) { /* not an event */ }
    };
    socket.onclose = function () {
      body.setAttribute("data-live", "off");
      window.setTimeout(function () { connect(Math.min(delay * 2, 30000)); }, delay);
    };
  }

  if (ticket) {
    save(unread().filter(function (reference) { return reference !== ticket; }));
    scrollToNewest();
  }
  showMarkers();
  if (body.dataset.signedIn && "WebSocket" in window) {
    connect(1000);
  }
})();
