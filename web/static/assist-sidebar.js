/* Live-assist sidebar: mounts into an element for one contact and follows its suggestions.
 *
 *   const sidebar = window.HotlineAssist.mount(document.getElementById("assist"), {contactId});
 *   sidebar.close();
 *
 * Opens WS /api/v1/assist/contacts/{id}/live (the JWT cookie authenticates it; pass
 * {token} for ?token=). The server first replays the contact's suggestions so far, then
 * streams new ones; on a drop the sidebar reconnects and drops ids it already shows.
 * Options: contactId (required), token, apiBase ("/api/v1"), showCard (false),
 * onAskSupervisor(contactId) — also dispatched as the "hotline:ask-supervisor" DOM event.
 * If the page has #assist and dispatches "hotline:contact" (the agent desktop does), the
 * sidebar mounts itself there.
 */
(function () {
  "use strict";

  const KINDS = ["deescalation", "compliance", "knowledge", "script", "disclosure", "entity", "summary"];
  const RATED = new Set(["knowledge", "script", "deescalation"]);

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

  function section(kind, title, hint) {
    return h("section", { class: `ha-section ha-${kind}`, "data-section": kind, hidden: true },
      h("h4", { text: title }), hint ? h("p", { class: "ha-hint", text: hint }) : null,
      h("div", { class: "ha-items" }));
  }

  function mount(root, opts) {
    if (!root || !opts || !opts.contactId) throw new Error("HotlineAssist.mount(el, {contactId})");
    if (root._hotlineAssist) root._hotlineAssist.close();
    const contactId = String(opts.contactId);
    const api = opts.apiBase || "/api/v1";
    const seen = new Set();
    let ws = null, closed = false, retry = 0, timer = null, summaryDirty = false;

    root.classList.add("ha-root");
    root.dataset.contactId = contactId;
    root.textContent = "";
    const status = h("span", { class: "ha-status", "data-live": "connecting", text: "connecting…" });
    const sections = {
      deescalation: section("deescalation", "Calm the customer"),
      compliance: section("compliance", "Compliance alerts"),
      knowledge: section("knowledge", "Knowledge"),
      script: section("script", "Next best step"),
      disclosure: section("disclosure", "Disclosures", "Ticks itself when said."),
      entity: section("entity", "Captured details"),
      summary: section("summary", "After-contact summary"),
    };
    const card = h("section", { class: "ha-section ha-card", "data-section": "card", hidden: true },
      h("h4", { text: "Customer" }), h("div", { class: "ha-items" }));
    const empty = h("p", { class: "ha-hint ha-empty", text: "Suggestions appear here during the contact." });
    root.append(
      h("header", { class: "ha-head" }, h("h3", { text: "Assist" }), status),
      empty, card, ...KINDS.map((k) => sections[k]),
    );
    const summaryBox = h("textarea", { class: "ha-summary-text", rows: 6, "aria-label": "Summary",
      oninput: () => { summaryDirty = true; } });
    const summaryMsg = h("span", { class: "ha-hint ha-summary-msg" });
    sections.summary.querySelector(".ha-items").append(summaryBox, h("div", { class: "ha-row" },
      h("button", { type: "button", class: "ha-save", onclick: saveSummary, text: "Save summary" }),
      summaryMsg));

    function setStatus(state, text) { status.dataset.live = state; status.textContent = text; }
    function items(kind) { sections[kind].hidden = false; empty.hidden = true; return sections[kind].querySelector(".ha-items"); }

    async function call(method, path, body) {
      const r = await fetch(api + path, {
        method, credentials: "same-origin",
        headers: Object.assign({ "content-type": "application/json" },
          opts.token ? { authorization: "Bearer " + opts.token } : {}),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(data.message || r.statusText);
      return data;
    }

    function rateButtons(s) {
      const box = h("span", { class: "ha-rate", role: "group", "aria-label": "Was this useful?" });
      const mk = (useful, label, text) => h("button", { type: "button", class: "ha-vote", title: label,
        "aria-label": label, "data-useful": String(useful), text,
        onclick: async (e) => {
          const btn = e.currentTarget;
          try {
            await call("POST", `/assist/suggestions/${encodeURIComponent(s.id)}/rating`, { useful });
            box.querySelectorAll("button").forEach((b) => b.classList.toggle("ha-voted", b === btn));
            box.dataset.rated = String(useful);
          } catch (err) { box.title = "Rating not saved: " + err.message; box.dataset.rated = "error"; }
        } });
      box.append(mk(true, "Useful", "useful"), mk(false, "Not useful", "not useful"));
      return box;
    }

    function item(s, ...extra) {
      return h("div", { class: `ha-item ha-${s.kind}`, "data-id": s.id, "data-kind": s.kind,
        "data-source": s.source || "" },
        h("div", { class: "ha-title" }, h("strong", { text: s.title }), RATED.has(s.kind) ? rateButtons(s) : null),
        s.body ? h("div", { class: "ha-body", text: s.body }) : null, ...extra);
    }

    function render(s) {
      if (seen.has(s.id) || !sections[s.kind]) return;
      seen.add(s.id);
      const box = items(s.kind);
      switch (s.kind) {
        case "disclosure": {  // one line per disclosure: score 0 = still to say, 1 = said
          const key = s.source || s.title;
          let row = [...box.children].find((r) => r.dataset.key === key);
          const said = s.score === 1;
          if (!row) {
            row = h("label", { class: "ha-item ha-disclosure", "data-key": key, "data-kind": "disclosure" },
              h("input", { type: "checkbox", disabled: true }), h("span", { class: "ha-title" }),
              h("div", { class: "ha-body" }));
            box.append(row);
          }
          if (row.dataset.state === "said" && !said) return;  // never un-tick
          row.dataset.id = s.id;
          row.dataset.state = said ? "said" : "pending";
          row.querySelector("input").checked = said;
          row.querySelector(".ha-title").textContent = s.title;
          row.querySelector(".ha-body").textContent = s.body || "";
          return;
        }
        case "entity": {  // latest value per captured name
          let row = [...box.children].find((r) => r.dataset.name === s.title);
          if (!row) {
            row = h("div", { class: "ha-item ha-entity", "data-kind": "entity", "data-name": s.title },
              h("span", { class: "ha-name", text: s.title }), h("span", { class: "ha-value" }));
            box.append(row);
          }
          row.dataset.id = s.id;
          row.querySelector(".ha-value").textContent = s.body;
          return;
        }
        case "script": {  // the newest step is the one to say; older ones fade
          box.querySelectorAll(".ha-item").forEach((r) => r.classList.add("ha-done"));
          box.prepend(item(s));
          return;
        }
        case "deescalation": {
          const ask = s.source === "deescalation:escalate"
            ? h("button", { type: "button", class: "ha-ask", text: "Ask a supervisor", onclick: (e) => {
                e.currentTarget.disabled = true;
                e.currentTarget.textContent = "Supervisor asked";
                root.dispatchEvent(new CustomEvent("hotline:ask-supervisor",
                  { bubbles: true, detail: { contactId, suggestion: s } }));
                if (opts.onAskSupervisor) opts.onAskSupervisor(contactId, s);
              } })
            : null;
          box.prepend(item(s, ask));
          return;
        }
        case "compliance":
          box.prepend(item(s));
          box.firstChild.classList.add(s.score === 1 ? "ha-high" : "ha-medium");
          box.firstChild.setAttribute("role", "alert");
          return;
        case "summary":
          sections.summary.dataset.id = s.id;
          if (!summaryDirty) summaryBox.value = s.body || s.title;
          return;
        default:
          box.prepend(item(s));
      }
    }

    async function saveSummary() {
      summaryMsg.textContent = "saving…";
      try {
        const out = await call("PUT", `/assist/contacts/${encodeURIComponent(contactId)}/summary`,
          { text: summaryBox.value });
        summaryDirty = false;
        summaryMsg.textContent = "saved";
        sections.summary.dataset.saved = out.text;
      } catch (err) { summaryMsg.textContent = "not saved: " + err.message; }
    }

    async function loadCard() {
      try {
        const c = await call("GET", `/assist/contacts/${encodeURIComponent(contactId)}/card`);
        if (!c.customer) return;
        const box = card.querySelector(".ha-items");
        const p = c.products || {};
        box.replaceChildren(
          h("div", { class: "ha-title" }, h("strong", { text: c.customer.name }),
            h("span", { class: "ha-hint", text: ` ${c.customer.phone} · ${c.customer.segment}` })),
          h("ul", { class: "ha-list" }, ...(p.accounts || []).map((a) => h("li", {
            text: `${a.kind} ${a.number}: ${a.balance} ${a.currency}` })),
            ...(p.cards || []).map((x) => h("li", { text: `${x.kind} card ••${x.last4} (${x.status})` }))),
          ...(c.open_follow_ups || []).map((f) => h("div", { class: "ha-hint", text: `open: ${f.kind} ${f.id}` })),
          ...(c.recent_contacts || []).filter((x) => x.id !== contactId).slice(0, 5).map((x) =>
            h("div", { class: "ha-past" , text: `${x.started_at.slice(0, 10)} ${x.channel} · ${x.outcome || x.status}${x.summary ? " — " + x.summary : ""}` })),
        );
        card.hidden = false;
      } catch (_) { /* no card for this contact: the sidebar still works */ }
    }

    function connect() {
      if (closed) return;
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const q = opts.token ? `?token=${encodeURIComponent(opts.token)}` : "";
      ws = new WebSocket(`${proto}//${location.host}${api}/assist/contacts/${encodeURIComponent(contactId)}/live${q}`);
      setStatus("connecting", retry ? "reconnecting…" : "connecting…");
      ws.onmessage = (ev) => {
        let msg;
        try { msg = JSON.parse(ev.data); } catch (_) { return; }
        if (msg.type === "suggestion") render(msg);
        else if (msg.type === "caught_up") { retry = 0; setStatus("live", "live"); }
      };
      ws.onclose = () => {
        if (closed) return;
        setStatus("offline", "reconnecting…");
        retry = Math.min(retry + 1, 6);
        timer = setTimeout(connect, 250 * 2 ** retry);
      };
    }

    const handle = {
      contactId,
      close() { closed = true; clearTimeout(timer); if (ws) ws.close(); root._hotlineAssist = null; },
      reconnect() { if (ws) ws.close(); },  // testing / manual: onclose reconnects
      seen: () => seen.size,
    };
    root._hotlineAssist = handle;
    if (opts.showCard) loadCard();
    connect();
    return handle;
  }

  window.HotlineAssist = { mount };
  document.addEventListener("hotline:contact", (e) => {
    const el = document.getElementById("assist");
    const id = e.detail && (e.detail.contact_id || e.detail.id);
    if (el && id) mount(el, { contactId: id });
  });
})();
