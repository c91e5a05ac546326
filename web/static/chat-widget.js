/* Hotline web-chat widget: embeddable, dependency-free.
 *
 *   <script src="/static/chat-widget.js" data-endpoint="/webhooks/rest/webhook"
 *           data-title="Demo Bank" data-open="true" defer></script>
 *
 * Talks to the Rasa-compatible REST channel. Every text (customer's or bot's) is inserted
 * with textContent, never innerHTML, so markup in a message is shown, not run.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = (script && script.dataset.endpoint) || "/webhooks/rest/webhook";
  var pollUrl = (script && script.dataset.poll) || endpoint.replace(/webhook$/, "poll");
  var title = (script && script.dataset.title) || "Chat";
  var startOpen = script && script.dataset.open === "true";
  var key = "hotline-chat-sender";
  var sender = null;
  try { sender = window.sessionStorage.getItem(key); } catch (e) { /* private mode */ }
  if (!sender) {
    sender = "web-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    try { window.sessionStorage.setItem(key, sender); } catch (e) { /* ignore */ }
  }
  // The REST channel drops a message whose seq is not above the last one it saw, so the
  // counter survives page reloads together with the sender id.
  var seq = 0;
  try { seq = parseInt(window.sessionStorage.getItem(key + "-seq") || "0", 10) || 0; } catch (e) { /* ignore */ }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  var style = el("style");
  style.textContent =
    ".hl-chat{position:fixed;right:16px;bottom:16px;width:340px;max-width:95vw;font:14px system-ui,sans-serif;z-index:9999}" +
    ".hl-chat .hl-panel{display:none;flex-direction:column;height:460px;background:#fff;border:1px solid #ccd;border-radius:10px;box-shadow:0 4px 16px #0003}" +
    ".hl-chat.open .hl-panel{display:flex}.hl-chat.open .hl-toggle{display:none}" +
    ".hl-head{padding:10px;background:#1f4e79;color:#fff;border-radius:10px 10px 0 0;font-weight:600}" +
    ".hl-log{flex:1;overflow-y:auto;padding:8px}" +
    ".hl-msg{margin:6px 0;padding:7px 10px;border-radius:8px;max-width:85%;white-space:pre-wrap;word-wrap:break-word}" +
    ".hl-user{background:#dbeafe;margin-left:auto}.hl-bot{background:#f1f1f4}" +
    ".hl-agent{background:#dcfce7;border-left:3px solid #16a34a}" +
    ".hl-buttons button{margin:2px 4px 2px 0;padding:4px 8px;border:1px solid #1f4e79;background:#fff;border-radius:12px;cursor:pointer}" +
    ".hl-form{display:flex;border-top:1px solid #ccd}.hl-form input{flex:1;border:0;padding:10px}.hl-form button{border:0;background:#1f4e79;color:#fff;padding:0 14px}" +
    ".hl-toggle{float:right;padding:10px 16px;border-radius:20px;border:0;background:#1f4e79;color:#fff;cursor:pointer}";
  document.head.appendChild(style);

  var root = el("div", "hl-chat");
  var toggle = el("button", "hl-toggle", title);
  toggle.type = "button";
  var panel = el("div", "hl-panel");
  var head = el("div", "hl-head", title);
  var log = el("div", "hl-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form", "hl-form");
  var input = el("input");
  input.setAttribute("aria-label", "Message");
  input.placeholder = "Type a message…";
  input.maxLength = 4000;
  var send = el("button", null, "Send");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(toggle);
  root.appendChild(panel);

  function add(text, who) {
    var cls = who === "user" ? "hl-user" : who === "agent" ? "hl-bot hl-agent" : "hl-bot";
    var m = el("div", "hl-msg " + cls, text);
    m.dataset.who = who;
    log.appendChild(m);
    log.scrollTop = log.scrollHeight;
    return m;
  }

  function showReplies(replies) {
    (replies || []).forEach(function (r) {
      if (r.text) add(String(r.text), r.from === "agent" ? "agent" : "bot");
      if (r.buttons && r.buttons.length) {
        var box = el("div", "hl-buttons");
        r.buttons.forEach(function (b) {
          var btn = el("button", null, String(b.title));
          btn.type = "button";
          btn.addEventListener("click", function () { post(String(b.payload), String(b.title)); });
          box.appendChild(btn);
        });
        log.appendChild(box);
      }
    });
    log.scrollTop = log.scrollHeight;
  }

  function post(message, shown) {
    add(shown || message, "user");
    seq += 1;
    try { window.sessionStorage.setItem(key + "-seq", String(seq)); } catch (e) { /* ignore */ }
    var body = {
      sender: sender, message: message, seq: seq,
      message_id: sender + "-" + seq
    };
    return fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : []; })
      .then(showReplies)
      .catch(function () { add("Connection problem, please try again.", "bot"); });
  }

  function poll() {
    if (!root.classList.contains("open")) return;
    fetch(pollUrl + "?sender=" + encodeURIComponent(sender))
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(showReplies)
      .catch(function () { /* try again next tick */ });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    post(text);
  });
  toggle.addEventListener("click", function () { root.classList.add("open"); input.focus(); });

  function mount() {
    document.body.appendChild(root);
    if (startOpen) root.classList.add("open");
    window.setInterval(poll, 2000);  // agent messages and hand-backs arrive between turns
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  window.HotlineChat = { sender: sender, send: post };
})();
