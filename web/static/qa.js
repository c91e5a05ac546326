// QA review page: list of scores, contact view with transcript synced to playback,
// evidence highlighted per item, overrides and disputes. All data via /api/v1/qa (cookie).
(() => {
  "use strict";
  const root = document.getElementById("qa");
  if (!root) return;
  const API = root.dataset.api;
  const reviewer = !!root.dataset.reviewer;
  const analyst = !!root.dataset.analyst;
  const $ = (sel) => document.querySelector(sel);
  let current = null; // the score detail shown

  function el(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k ?? "")));
    return e;
  }

  async function api(path, opts = {}) {
    const r = await fetch(API + path, {
      credentials: "same-origin",
      headers: opts.body ? { "content-type": "application/json" } : {},
      ...opts,
    });
    const body = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
    if (!r.ok) throw new Error((body && (body.message || JSON.stringify(body.detail))) || r.statusText);
    return body;
  }

  const fmtScore = (s) => (s === null || s === undefined ? "–" : Number(s).toFixed(1));
  const fmtTime = (t) => `${Math.floor(t / 60)}:${String(Math.floor(t % 60)).padStart(2, "0")}`;
  const verdictSpan = (v) => el("span", { class: `verdict-${v}` }, v);

  // ---- list ---------------------------------------------------------------------------
  async function loadList() {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData($("#filters"))) if (v) params.set(k, v);
    $("#list-error").textContent = "";
    try {
      const rows = await api("/scores?" + params);
      const tbody = $("#score-list tbody");
      tbody.replaceChildren(...rows.map(rowFor));
      loadTrend(params);
    } catch (e) {
      $("#list-error").textContent = e.message;
    }
  }

  function rowFor(r) {
    const tr = el("tr", { "data-score-id": r.score_id, onclick: () => openScore(r.score_id) });
    const cells = [
      new Date(r.scored_at.endsWith("Z") || r.scored_at.includes("+") ? r.scored_at : r.scored_at + "Z").toLocaleString(),
      r.contact_id, r.agent_id || "–", r.channel || "–",
      r.status === "scored" ? fmtScore(r.score) + (r.auto_fail ? " ⚠ auto-fail" : "") : r.status,
      r.failed_items.join(", "), r.open_disputes || "",
    ];
    for (const c of cells) tr.append(el("td", {}, c));
    if (current && current.score_id === r.score_id) tr.classList.add("selected");
    return tr;
  }

  async function loadTrend(params) {
    const p = new URLSearchParams();
    for (const k of ["agent", "date_from", "date_to"]) if (params.get(k)) p.set(k, params.get(k));
    try {
      const pts = await api("/trends?" + p);
      $("#trend tbody").replaceChildren(
        ...pts.map((t) => {
          const tr = el("tr");
          for (const c of [t.day, t.group, t.contacts, fmtScore(t.average)]) tr.append(el("td", {}, c));
          return tr;
        })
      );
    } catch (e) { /* the trend is secondary: the list shows the error if the API is down */ }
  }

  // ---- contact view -------------------------------------------------------------------
  async function openScore(id) {
    try {
      show(await api("/scores/" + encodeURIComponent(id)));
      history.replaceState(null, "", "/qa?score=" + encodeURIComponent(id));
    } catch (e) {
      $("#list-error").textContent = e.message;
    }
  }

  function show(d) {
    current = d;
    document.querySelectorAll("#score-list tr[data-score-id]").forEach((tr) =>
      tr.classList.toggle("selected", tr.dataset.scoreId === d.score_id));
    $("#detail").hidden = false;
    $("#detail").dataset.scoreId = d.score_id;
    $("#d-contact").textContent = d.contact_id;
    $("#d-score").textContent = d.status === "scored" ? fmtScore(d.score) : d.status;
    $("#d-autofail").hidden = !d.auto_fail;
    const ce = d.customer_emotion;
    $("#d-emotion").textContent = ce
      ? `Customer: ${ce.label}` + (ce.trend ? `, ${ce.trend}` : "") +
        (ce.peak && ce.peak !== ce.label ? ` (peak ${ce.peak})` : "") +
        ` · sentiment ${ce.sentiment.toFixed(2)}` + (ce.escalate ? " · escalation flagged" : "")
      : "";
    $("#d-meta").textContent = [
      `agent ${d.agent_id || "–"}`, d.channel, d.language,
      `card ${d.scorecard} r${d.scorecard_revision}`,
      d.auto_score !== d.score ? `automatic score ${fmtScore(d.auto_score)}` : "",
      d.error || "",
    ].filter(Boolean).join(" · ");
    const player = $("#player");
    if (d.recording_url) {
      if (player.getAttribute("src") !== d.recording_url) player.src = d.recording_url;
      player.hidden = false;
      $("#d-no-recording").hidden = true;
    } else {
      player.removeAttribute("src");
      player.hidden = true;
      $("#d-no-recording").hidden = false;
    }
    renderTranscript(d);
    renderItems(d);
    renderDisputes(d);
  }

  function renderTranscript(d) {
    $("#d-transcript-error").textContent = d.transcript_error || "";
    $("#transcript").replaceChildren(
      ...d.transcript.map((t) =>
        el("li", { "data-turn": t.index, "data-start": t.start, "data-end": t.end, class: t.speaker,
                   onclick: () => seek(t.start, [t.index]) },
          el("span", { class: "who" }, `${t.speaker} ${fmtTime(t.start)} `),
          el("span", { class: "text" }, t.text),
          t.emotion ? el("span", { class: "emotion" }, ` [${t.emotion}]`) : "")
      )
    );
  }

  function renderItems(d) {
    $("#items tbody").replaceChildren(
      ...d.items.map((it) => {
        const ev = el("td");
        for (const e of it.evidence) {
          ev.append(el("button", { type: "button", class: "ev", title: e.note || e.check,
            onclick: () => highlight(it, e) }, `#${e.turn} ${fmtTime(e.start)}`));
        }
        if (it.note) ev.append(el("div", { class: "hint" }, it.note));
        const verdict = el("td", { class: "verdict" }, verdictSpan(it.verdict));
        for (const o of it.overrides) {
          verdict.append(el("div", { class: "override-comment" },
            `${o.old_verdict} → ${o.new_verdict} by ${o.analyst_id}: ${o.comment}`));
        }
        return el("tr", { id: "item-" + it.item_id, "data-item": it.item_id },
          el("td", {}, it.item_id + (it.auto_fail ? " ⚠" : ""), el("div", { class: "hint" }, `weight ${it.weight}`)),
          el("td", { class: "auto-verdict" }, verdictSpan(it.auto_verdict)), verdict, ev);
      })
    );
    const items = d.items.map((it) => it.item_id);
    for (const sel of ["#override-item", "#dispute-item"]) {
      const s = $(sel);
      if (!s) continue;
      const keep = s.value;
      const opts = items.map((i) => el("option", { value: i }, i));
      if (sel === "#dispute-item") opts.unshift(el("option", { value: "" }, "whole score"));
      s.replaceChildren(...opts);
      if (items.includes(keep)) s.value = keep;
    }
  }

  function renderDisputes(d) {
    const ul = $("#disputes");
    ul.replaceChildren(
      ...d.disputes.map((x) => {
        const li = el("li", { "data-dispute": x.id },
          `${x.agent_id} on ${x.item_id || "the score"}: “${x.reason}” — ${x.status}`,
          x.resolution ? ` (${x.resolved_by}: ${x.resolution})` : "");
        if (analyst && x.status === "open") {
          li.append(el("button", { type: "button", class: "accept", onclick: () => resolve(x, true) }, "Accept"),
                    el("button", { type: "button", class: "reject", onclick: () => resolve(x, false) }, "Reject"));
        }
        return li;
      })
    );
    if (!d.disputes.length) ul.append(el("li", { class: "hint" }, "none"));
  }

  async function resolve(x, accept) {
    const resolution = prompt(accept ? "Why is the dispute accepted?" : "Why is it rejected?");
    if (!resolution) return;
    let verdict = null;
    if (accept && x.item_id) verdict = prompt("New verdict for " + x.item_id + " (pass/fail/na)", "pass");
    try {
      await api(`/disputes/${x.id}/resolve`, { method: "POST",
        body: JSON.stringify({ accept, resolution, verdict: verdict || null }) });
      await openScore(current.score_id);
      loadList();
    } catch (e) { alert(e.message); }
  }

  // ---- evidence & playback sync ---------------------------------------------------------
  function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  function highlight(item, evidence) {
    const turns = new Set(item.evidence.map((e) => e.turn));
    document.querySelectorAll("#transcript li").forEach((li) => {
      const n = Number(li.dataset.turn);
      li.classList.toggle("evidence", turns.has(n));
      const text = li.querySelector(".text");
      const words = item.evidence.filter((e) => e.turn === n).flatMap((e) => e.matched);
      text.replaceChildren(text.textContent);
      if (words.length) {
        const re = new RegExp("(" + words.map(escapeRe).join("|") + ")", "gi");
        const parts = text.textContent.split(re);
        text.replaceChildren(...parts.map((p, i) => (i % 2 ? el("mark", {}, p) : p)));
      }
    });
    seek(evidence.start, [evidence.turn]);
  }

  function seek(t, turns) {
    const player = $("#player");
    if (!player.hidden && player.getAttribute("src")) {
      player.currentTime = t;
      player.play().catch(() => {});
    }
    const li = document.querySelector(`#transcript li[data-turn="${turns[0]}"]`);
    if (li) li.scrollIntoView({ block: "nearest" });
  }

  $("#player").addEventListener("timeupdate", () => {
    const t = $("#player").currentTime;
    document.querySelectorAll("#transcript li").forEach((li) =>
      li.classList.toggle("playing", t >= Number(li.dataset.start) && t < Number(li.dataset.end)));
  });

  // ---- forms --------------------------------------------------------------------------
  $("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadList(); });

  const ovr = $("#override-form");
  if (ovr) ovr.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#override-error").textContent = "";
    try {
      const d = await api(`/scores/${encodeURIComponent(current.score_id)}/overrides`, {
        method: "POST",
        body: JSON.stringify({ item_id: $("#override-item").value, verdict: $("#override-verdict").value,
                               comment: $("#override-comment").value }),
      });
      $("#override-comment").value = "";
      show(d);
      loadList();
    } catch (e) { $("#override-error").textContent = e.message; }
  });

  const dsp = $("#dispute-form");
  if (dsp) dsp.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#dispute-error").textContent = "";
    try {
      await api(`/scores/${encodeURIComponent(current.score_id)}/disputes`, {
        method: "POST",
        body: JSON.stringify({ reason: $("#dispute-reason").value, item_id: $("#dispute-item").value || null }),
      });
      $("#dispute-reason").value = "";
      await openScore(current.score_id);
    } catch (e) { $("#dispute-error").textContent = e.message; }
  });

  loadList();
  if (root.dataset.selected) openScore(root.dataset.selected);
  window.hotlineQa = { reviewer, openScore };
})();

// Calibration page: blind verdicts per contact and agreement (Cohen's kappa) per item.
(() => {
  "use strict";
  const root = document.getElementById("qa-calibration");
  if (!root) return;
  const API = root.dataset.api;
  const name = encodeURIComponent(root.dataset.session);
  const $ = (sel) => document.querySelector(sel);
  const fmt = (k) => (k === null || k === undefined ? "n/a" : Number(k).toFixed(2));
  let contact = null;

  async function api(path, opts = {}) {
    const r = await fetch(API + path, { credentials: "same-origin",
      headers: opts.body ? { "content-type": "application/json" } : {}, ...opts });
    const body = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
    if (!r.ok) throw new Error((body && (body.message || JSON.stringify(body.detail))) || r.statusText);
    return body;
  }

  function td(text) { const c = document.createElement("td"); c.textContent = text; return c; }

  async function loadAgreement() {
    const rep = await api(`/calibrations/${name}`);
    $("#cal-summary").textContent =
      `${rep.contacts.length} contact(s), analysts: ${rep.analysts.join(", ") || "none yet"}`;
    $("#agreement tbody").replaceChildren(...rep.items.map((it) => {
      const tr = document.createElement("tr");
      tr.dataset.item = it.item_id;
      const pairs = [...it.between_analysts, ...it.analyst_vs_auto]
        .map((p) => `${p.raters.join("–")}: κ ${fmt(p.kappa)}, agree ${fmt(p.agreement)} (n=${p.n})`);
      tr.append(td(it.item_id), td(fmt(it.mean_kappa_analysts)), td(fmt(it.mean_kappa_auto)), td(pairs.join("; ")));
      return tr;
    }));
  }

  const load = $("#cal-load");
  if (load) load.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#cal-error").textContent = "";
    try {
      const d = await api(`/contacts/${encodeURIComponent($("#cal-contact").value)}/score`);
      contact = d.contact_id;
      $("#cal-items tbody").replaceChildren(...d.items.map((it) => {
        const tr = document.createElement("tr");
        const sel = document.createElement("select");
        sel.name = it.item_id;
        for (const v of ["pass", "fail", "na"]) sel.append(new Option(v, v));
        const cell = document.createElement("td");
        cell.append(sel);
        tr.append(td(it.item_id), cell);
        return tr;
      }));
      $("#cal-transcript").replaceChildren(...d.transcript.map((t) => {
        const li = document.createElement("li");
        li.textContent = `${t.speaker}: ${t.text}`;
        return li;
      }));
      $("#cal-form").hidden = false;
    } catch (e) { $("#cal-error").textContent = e.message; }
  });

  const form = $("#cal-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const verdicts = {};
    form.querySelectorAll("select").forEach((s) => { verdicts[s.name] = s.value; });
    try {
      await api(`/calibrations/${name}/verdicts`, { method: "PUT",
        body: JSON.stringify({ contact_id: contact, verdicts, comment: $("#cal-comment").value || null }) });
      await loadAgreement();
    } catch (e) { $("#cal-error").textContent = e.message; }
  });

  loadAgreement().catch((e) => { $("#cal-summary").textContent = e.message; });
})();
