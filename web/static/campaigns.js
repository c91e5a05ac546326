// Campaign page: create from a template, upload a list, preview, launch, watch live, pause.
"use strict";
const API = "/api/v1/campaigns";
let current = null;
let statsTimer = null;

async function api(path, opts = {}) {
  const r = await fetch(API + path, { credentials: "same-origin", ...opts });
  const body = r.headers.get("content-type")?.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error(body?.message || body?.detail?.message || JSON.stringify(body));
  return body;
}

function showError(e) { document.getElementById("error").textContent = e ? String(e.message || e) : ""; }

function esc(s) { const d = document.createElement("div"); d.textContent = s ?? ""; return d.innerHTML; }

async function loadTemplates() {
  const sel = document.getElementById("template");
  for (const t of await api("/templates")) {
    const o = document.createElement("option");
    o.value = t.name; o.textContent = `${t.title} (${t.language})`;
    sel.appendChild(o);
  }
}

async function loadCampaigns() {
  const { data } = await api("");
  const tbody = document.querySelector("#campaign-table tbody");
  tbody.innerHTML = "";
  for (const c of data) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${esc(c.name)}</td><td>${esc(c.language)}</td><td>${esc(c.status)}</td>` +
      `<td><button data-open="${c.id}">Open</button></td>`;
    tbody.appendChild(tr);
  }
}

async function openCampaign(id) {
  current = await api(`/${id}`);
  document.getElementById("detail").hidden = false;
  document.getElementById("detail-title").textContent = current.name;
  document.getElementById("detail-status").textContent = current.status;
  document.getElementById("export-link").href = `${API}/${id}/export.csv`;
  document.getElementById("preview").innerHTML = "";
  document.getElementById("upload-result").innerHTML = "";
  clearInterval(statsTimer);
  await refreshStats();
  statsTimer = setInterval(refreshStats, 2000);
}

async function refreshStats() {
  if (!current) return;
  try {
    const s = await api(`/${current.id}/stats`);
    document.getElementById("detail-status").textContent = s.status;
    const rows = [["Dialed", s.dialed], ["Connected", s.connected], ["Contact rate", (100 * s.contact_rate).toFixed(1) + " %"],
      ["Conversions", s.conversions], ["Handoffs", s.handoffs], ["Voicemail", s.voicemail],
      ["Abandon rate", (100 * s.abandon_rate).toFixed(2) + " %"], ["Live calls", s.live_calls],
      ["Contacts", JSON.stringify(s.contacts)], ["Dispositions", JSON.stringify(s.dispositions)]];
    document.getElementById("stats").innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd data-stat="${k}">${esc(String(v))}</dd>`).join("");
  } catch (e) { showError(e); }
}

document.getElementById("create-form").addEventListener("submit", async (ev) => {
  ev.preventDefault(); showError(null);
  const body = { name: document.getElementById("name").value, template: document.getElementById("template").value };
  const pacing = document.getElementById("pacing").value;
  try {
    if (pacing) {
      const tpl = (await api("/templates")).find((t) => t.name === body.template);
      body.settings = { ...tpl.settings, pacing: { ...(tpl.settings.pacing || {}), mode: pacing } };
    }
    const c = await api("", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    await loadCampaigns(); await openCampaign(c.id);
  } catch (e) { showError(e); }
});

document.getElementById("campaign-table").addEventListener("click", (ev) => {
  const id = ev.target.dataset?.open; if (id) openCampaign(id).catch(showError);
});

document.getElementById("upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault(); showError(null);
  const fd = new FormData();
  fd.append("file", document.getElementById("file").files[0]);
  fd.append("mapping", document.getElementById("mapping").value || "{}");
  try {
    const r = await api(`/${current.id}/contacts`, { method: "POST", body: fd });
    const errs = r.errors.map((e) => `<li>row ${e.row}: ${esc(e.code)} — ${esc(e.message)}</li>`).join("");
    document.getElementById("upload-result").innerHTML =
      `<p id="upload-summary">Added ${r.added} of ${r.total_rows} rows (encoding ${esc(r.encoding || "xlsx")}).</p>` +
      (errs ? `<ul class="row-errors">${errs}</ul>` : "");
    await refreshStats();
  } catch (e) { showError(e); }
});

document.querySelector("#detail .actions").addEventListener("click", async (ev) => {
  const action = ev.target.dataset?.action; if (!action || !current) return;
  showError(null);
  try {
    if (action === "preview") {
      const p = await api(`/${current.id}/preview`);
      const resp = Object.entries(p.responses).map(([k, r]) => `<li>${esc(k)}: ${esc(r.say)} <em>(${esc(r.disposition)})</em></li>`).join("");
      document.getElementById("preview").innerHTML =
        `<h3>Preview for ${esc(p.variables.name || "sample")}</h3><p id="preview-text">${esc(p.greeting)} ${esc(p.message)}</p>` +
        `<p><em>Voicemail:</em> ${esc(p.voicemail)}</p><ul>${resp}</ul>` +
        (p.missing_variables.length ? `<p class="error">Missing variables: ${esc(p.missing_variables.join(", "))}</p>` : "");
    } else if (action === "dial-next") {
      await api(`/${current.id}/dial-next`, { method: "POST" });
    } else {
      current = await api(`/${current.id}/${action}`, { method: "POST" });
      await loadCampaigns();
    }
    await refreshStats();
  } catch (e) { showError(e); }
});

loadTemplates().then(loadCampaigns).catch(showError);
