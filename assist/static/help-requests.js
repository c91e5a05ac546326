/* "Ask a supervisor", both ends (issue 8).
 *
 * Agent: HotlineHelp.mountAgent(sidebarRoot, {contactId}) turns the sidebar's
 * "hotline:ask-supervisor" event into POST /api/v1/assist/help-requests and shows the
 * request's status live in the sidebar ("waiting" → "a supervisor is coming" → "joined"),
 * following WS /api/v1/assist/help-requests/live?contact_id=…; a reload catches up from the
 * store. On a page that dispatches "hotline:contact" (the agent desktop) it mounts itself on
 * #assist, like the sidebar does.
 *
 * Supervisor: HotlineHelp.mountSupervisor(el) keeps the table of active requests live
 * (WS /api/v1/assist/help-requests/live) with Acknowledge / Join (listen) / Close.
 * Options: apiBase ("/api/v1"), token (else the JWT cookie).
 */
(function () {
  "use strict";

  const RANK = { open: 0, acknowledged: 1, joined: 2, closed: 3 };

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) el.append(c);
    return el;
  }

  function client(opts) {
    const api = opts.apiBase || "/api/v1";
    return {
      async call(method, path, body) {
        const r = await fetch(api + path, {
          method, credentials: "same-origin",
          headers: Object.assign({ "content-type": "application/json" },
            opts.token ? { authorization: "Bearer " + opts.token } : {}),
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const data = await r.json().catch(() => ({}));
        if (!r.ok) throw new Error(data.message || r.statusText);
        return data;
      },
      // A socket that reconnects with backoff; onMessage gets parsed JSON, onState the state.
      live(path, onMessage, onState) {
        let ws = null, closed = false, retry = 0, timer = null;
        const connect = () => {
          if (closed) return;
          const proto = location.protocol === "https:" ? "wss:" : "ws:";
          const sep = path.includes("?") ? "&" : "?";
          const q = opts.token ? `${sep}token=${encodeURIComponent(opts.token)}` : "";
          ws = new WebSocket(`${proto}//${location.host}${api}${path}${q}`);
          onState("connecting");
          ws.onmessage = (ev) => {
            let msg;
            try { msg = JSON.parse(ev.data); } catch (_) { return; }
            if (msg.type === "caught_up") { retry = 0; onState("live"); } else onMessage(msg);
          };
          ws.onclose = () => {
            if (closed) return;
            onState("offline");
            retry = Math.min(retry + 1, 6);
            timer = setTimeout(connect, 250 * 2 ** retry);
          };
        };
        connect();
        return { close() { closed = true; clearTimeout(timer); if (ws) ws.close(); },
                 reconnect() { if (ws) ws.close(); } };
      },
    };
  }

  // Later news wins: a status never goes back (a late "acknowledged" after "joined").
  function merge(known, msg) {
    const old = known.get(msg.id);
    if (old && RANK[old.status] > RANK[msg.status]) return old;
    const next = Object.assign({}, old || {}, msg);
    known.set(msg.id, next);
    return next;
  }

  function statusText(r) {
    const who = r.supervisor_id ? `Supervisor ${r.supervisor_id}` : "A supervisor";
    switch (r.status) {
      case "open": return "Supervisor asked: waiting for one to pick it up…";
      case "acknowledged": return `${who} is coming.`;
      case "joined": return `${who} joined (${r.mode === "listen" || !r.mode ? "listening" : r.mode}).`;
      default: return "Help request closed.";
    }
  }

  function mountAgent(root, opts) {
    if (!root || !opts || !opts.contactId) throw new Error("HotlineHelp.mountAgent(el, {contactId})");
    if (root._hotlineHelp) root._hotlineHelp.close();
    const contactId = String(opts.contactId);
    const c = client(opts);
    const known = new Map();
    let current = null;

    function box() {  // the sidebar may re-render its root: put the banner back if needed
      let el = root.querySelector(".ha-help");
      if (!el) {
        el = h("div", { class: "ha-help ha-section", role: "status", "aria-live": "polite", hidden: true },
          h("span", { class: "ha-help-text" }),
          h("button", { type: "button", class: "ha-help-close", text: "Close request", hidden: true,
            onclick: closeRequest }));
        const head = root.querySelector(".ha-head");
        if (head) head.after(el); else root.prepend(el);
      }
      return el;
    }

    function active() { return current && current.status !== "closed"; }

    function syncButtons() {
      // only touch what differs: the MutationObserver below calls this on every change
      const on = !!active(), text = on ? "Supervisor asked" : "Ask a supervisor";
      root.querySelectorAll(".ha-ask").forEach((b) => {
        if (b.disabled !== on) b.disabled = on;
        if (b.textContent !== text) b.textContent = text;
      });
    }

    function show() {
      const el = box();
      if (!current) { el.hidden = true; syncButtons(); return; }
      el.hidden = false;
      el.dataset.status = current.status;
      el.dataset.requestId = current.id;
      el.querySelector(".ha-help-text").textContent = statusText(current);
      el.querySelector(".ha-help-close").hidden = !active();
      syncButtons();
    }

    function take(msg) {
      if (msg.type !== "help" || msg.contact_id !== contactId) return;
      const r = merge(known, msg);
      // show the newest active request, else the newest one
      const all = [...known.values()].sort((a, b) => (a.created_at || "").localeCompare(b.created_at || ""));
      const live = all.filter((x) => x.status !== "closed");
      current = live.length ? live[live.length - 1] : all[all.length - 1] || r;
      show();
    }

    async function ask(e) {
      const s = (e.detail && e.detail.suggestion) || {};
      try {
        const r = await c.call("POST", "/assist/help-requests",
          { contact_id: contactId, reason: s.title || "", source: s.source || null });
        take(Object.assign({ type: "help" }, r));
      } catch (err) {
        const el = box();
        el.hidden = false;
        el.dataset.status = "error";
        el.querySelector(".ha-help-text").textContent = "Supervisor not asked: " + err.message;
        current = null;
        syncButtons();
      }
    }

    async function closeRequest() {
      if (!active()) return;
      try {
        take(Object.assign({ type: "help" }, await c.call("POST",
          `/assist/help-requests/${encodeURIComponent(current.id)}/close`)));
      } catch (_) { /* the live socket will tell */ }
    }

    root.addEventListener("hotline:ask-supervisor", ask);
    const observer = new MutationObserver(() => { if (current) syncButtons(); if (current && !root.querySelector(".ha-help")) show(); });
    observer.observe(root, { childList: true, subtree: true });
    const sock = c.live(`/assist/help-requests/live?contact_id=${encodeURIComponent(contactId)}`,
      take, (state) => { root.dataset.helpLive = state; });
    const handle = {
      contactId,
      status: () => (current ? current.status : null),
      close() { sock.close(); observer.disconnect(); root.removeEventListener("hotline:ask-supervisor", ask); root._hotlineHelp = null; },
      reconnect() { sock.reconnect(); },
    };
    root._hotlineHelp = handle;
    return handle;
  }

  function mountSupervisor(el, opts) {
    opts = opts || {};
    const c = client(opts);
    const known = new Map();
    const rows = el.querySelector("#hr-rows");
    const empty = el.querySelector("#hr-empty");
    const error = el.querySelector("#hr-error");
    const liveState = el.querySelector("#hr-live");

    function fail(err) { error.hidden = false; error.textContent = err.message; }

    async function act(r, action, body) {
      error.hidden = true;
      try {
        render(Object.assign({ type: "help" }, await c.call("POST",
          `/assist/help-requests/${encodeURIComponent(r.id)}/${action}`, body)));
      } catch (err) { fail(err); }
    }

    function row(r) {
      const since = (r.created_at || "").replace("T", " ").slice(0, 19);
      return h("tr", { "data-id": r.id, "data-status": r.status, "data-contact-id": r.contact_id },
        h("td", { text: since }),
        h("td", {}, h("a", { href: `/assist/${encodeURIComponent(r.contact_id)}`, text: r.contact_id })),
        h("td", { text: r.agent_id }),
        h("td", { text: r.reason || "" }),
        h("td", { class: "hr-status", text: r.status + (r.supervisor_id ? ` · ${r.supervisor_id}` : "") }),
        h("td", {},
          r.status === "open" ? h("button", { type: "button", class: "hr-ack", text: "Acknowledge",
            onclick: () => act(r, "acknowledge") }) : null,
          r.status !== "joined" ? h("button", { type: "button", class: "hr-join", text: "Join (listen)",
            onclick: () => act(r, "join", { mode: "listen" }) }) : null,
          h("button", { type: "button", class: "hr-close", text: "Close", onclick: () => act(r, "close") })));
    }

    function render(msg) {
      if (msg.type !== "help") return;
      const r = merge(known, msg);
      const old = rows.querySelector(`tr[data-id="${CSS.escape(r.id)}"]`);
      if (r.status === "closed") { if (old) old.remove(); }
      else if (old) old.replaceWith(row(r));
      else rows.append(row(r));
      empty.hidden = rows.children.length > 0;
    }

    const sock = c.live("/assist/help-requests/live", render, (state) => {
      liveState.dataset.live = state; liveState.textContent = state === "live" ? "live" : state + "…";
    });
    return { close: () => sock.close(), reconnect: () => sock.reconnect(), count: () => rows.children.length };
  }

  window.HotlineHelp = { mountAgent, mountSupervisor };
  document.addEventListener("hotline:contact", (e) => {
    const el = document.getElementById("assist");
    const id = e.detail && (e.detail.contact_id || e.detail.id);
    if (el && id) mountAgent(el, { contactId: id });
  });
})();
