/* The customer's open tickets in the assist sidebar, and the wrap-up's follow-up ticket.
 *
 *   HotlineTickets.mount(sidebarRoot, {contactId});
 *
 * Lists the open / pending tickets of the contact's customer (GET
 * /api/v1/assist/contacts/{id}/card → open_tickets; without a card, GET
 * /api/v1/tickets?contact_id=…&status=active) and offers "Create follow-up ticket"
 * (POST /api/v1/assist/contacts/{id}/follow-up: drafted from the after-contact summary
 * unless a title is typed; asking twice returns the same ticket). Options: apiBase, token.
 */
(function () {
  "use strict";

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

  function mount(root, opts) {
    if (!root || !opts || !opts.contactId) throw new Error("HotlineTickets.mount(el, {contactId})");
    if (root._hotlineTickets) root._hotlineTickets.close();
    const contactId = String(opts.contactId);
    const api = opts.apiBase || "/api/v1";
    const path = `/assist/contacts/${encodeURIComponent(contactId)}`;

    async function call(method, sub, body, base) {
      const r = await fetch(api + (base === undefined ? path : base) + sub, {
        method, credentials: "same-origin",
        headers: Object.assign({ "content-type": "application/json" },
          opts.token ? { authorization: "Bearer " + opts.token } : {}),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(data.message || r.statusText);
      return data;
    }

    const list = h("ul", { class: "ha-list ha-ticket-list" });
    const none = h("p", { class: "ha-hint", text: "No open tickets." });
    const title = h("input", { type: "text", class: "ha-ticket-title", maxlength: 300,
      placeholder: "Title (empty: from the summary)", "aria-label": "Follow-up ticket title" });
    const msg = h("span", { class: "ha-hint ha-ticket-msg", role: "status" });
    const section = h("section", { class: "ha-section ha-tickets", "data-section": "tickets" },
      h("h4", { text: "Open tickets" }), none, list,
      h("div", { class: "ha-row" }, title,
        h("button", { type: "button", class: "ha-follow-up", text: "Create follow-up ticket", onclick: create }),
        msg));

    function place() {  // the sidebar re-renders its root on (re)mount: put the section back
      if (section.isConnected && root.contains(section)) return;
      const summary = root.querySelector('[data-section="summary"]');
      if (summary) summary.before(section); else root.append(section);
    }

    function show(tickets) {
      list.replaceChildren(...tickets.map((t) => h("li", { class: "ha-ticket", "data-id": t.id,
        "data-status": t.status, text: `${t.id} · ${t.title} (${t.kind}, ${t.status})` })));
      none.hidden = tickets.length > 0;
    }

    async function refresh() {
      try { show((await call("GET", "/card")).open_tickets || []); return; } catch (_) { /* below */ }
      try {  // no card (the customer is not in the CRM): the contact's own open tickets
        const q = `?contact_id=${encodeURIComponent(contactId)}&status=active`;
        show((await call("GET", q, undefined, "/tickets")).data || []);
      } catch (_) { show([]); }
    }

    async function create() {
      msg.textContent = "creating…";
      try {
        const out = await call("POST", "/follow-up", title.value.trim() ? { title: title.value.trim() } : {});
        msg.textContent = (out.created ? "opened " : "already open: ") + out.ticket.id;
        msg.dataset.ticketId = out.ticket.id;
        title.value = "";
        await refresh();
      } catch (err) { msg.textContent = "not created: " + err.message; }
    }

    place();
    const observer = new MutationObserver(place);
    observer.observe(root, { childList: true });
    refresh();
    const handle = { contactId, refresh,
      close() { observer.disconnect(); section.remove(); root._hotlineTickets = null; } };
    root._hotlineTickets = handle;
    return handle;
  }

  window.HotlineTickets = { mount };
  document.addEventListener("hotline:contact", (e) => {
    const el = document.getElementById("assist");
    const id = e.detail && (e.detail.contact_id || e.detail.id);
    if (el && id) mount(el, { contactId: id });
  });
})();
