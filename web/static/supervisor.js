// Supervisor live view: stats and alerts pushed over /api/v1/routing/live?view=supervisor;
// listen / whisper / barge open /supervisor-media/{contact}?mode=… (PCM16, 16 kHz).
// window.hotlineSupervisor exposes counters the browser tests read.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const RATE_HZ = 16000;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const stats = { snapshots: 0, alerts: 0, audioFrames: 0, loudFrames: 0 };
  window.hotlineSupervisor = stats;
  let media = null, ctx = null, mic = null, node = null, stream = null, playHead = 0, monitoring = null;

  function showError(text) { $("error").textContent = text || ""; $("error").hidden = !text; }

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function renderStats(s) {
    stats.snapshots += 1;
    $("updated").textContent = "updated " + new Date(s.at).toLocaleTimeString();
    const limit = Number($("sup").dataset.longestWaitS);
    const qb = $("queues").querySelector("tbody");
    qb.textContent = "";
    for (const q of s.queues) {
      const tr = document.createElement("tr");
      tr.dataset.queue = q.queue;
      cell(tr, q.queue); cell(tr, q.waiting); cell(tr, q.ringing);
      cell(tr, `${Math.round(q.longest_wait_s)} s`, q.longest_wait_s > limit ? "warn" : "");
      cell(tr, q.answered_today);
      cell(tr, q.sl_today === null ? "–" : `${Math.round(q.sl_today * 100)} %`);
      cell(tr, q.abandoned_today);
      qb.appendChild(tr);
    }
    const ab = $("agents").querySelector("tbody");
    ab.textContent = "";
    for (const a of s.agents) {
      const tr = document.createElement("tr");
      tr.dataset.agent = a.agent_id;
      cell(tr, a.agent_id);
      cell(tr, a.state + (a.reason ? ` (${a.reason})` : ""), "state-" + a.state);
      cell(tr, [...a.offers.map((c) => c + " ringing"), ...a.active].join(", ") || "–");
      cell(tr, a.connected ? "online" : "–");
      const td = cell(tr, "");
      for (const cid of a.active) {
        for (const mode of ["listen", "whisper", "barge"]) {
          const b = document.createElement("button");
          b.type = "button"; b.className = "small"; b.textContent = mode;
          b.dataset.contact = cid; b.dataset.mode = mode;
          b.addEventListener("click", () => startMonitor(cid, mode).catch((e) => showError(String(e))));
          td.appendChild(b);
        }
      }
      ab.appendChild(tr);
    }
    $("counts").textContent = Object.entries(s.counts).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(" · ");
  }

  function addAlert(a) {
    stats.alerts += 1;
    const li = document.createElement("li");
    li.dataset.kind = a.kind; li.dataset.queue = a.queue;
    li.textContent = `${new Date().toLocaleTimeString()} ${a.message}`;
    $("alerts").prepend(li);
  }

  function connectLive() {
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/routing/live?view=supervisor`);
    ws.onopen = () => { $("live-status").textContent = "live"; };
    ws.onclose = (ev) => { $("live-status").textContent = `offline (${ev.reason || ev.code}); reconnecting…`; setTimeout(connectLive, 2000); };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "stats") renderStats(msg);
      else if (msg.type === "alert") addAlert(msg);
    };
  }

  async function api(method, path, body) {
    const r = await fetch(path, { method, credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) { showError(`${data.code || r.status}: ${data.message || r.statusText}`); throw new Error(data.message); }
    showError("");
    return data;
  }

  function play(buf) {
    const pcm = new Int16Array(buf);
    if (!pcm.length || !ctx) return;
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
    const rms = Math.sqrt(sum / pcm.length);
    stats.audioFrames += 1; if (rms > 300) stats.loudFrames += 1;
    $("monitor-level").value = Math.min(1, rms / 8000);
    const audio = ctx.createBuffer(1, pcm.length, RATE_HZ);
    const ch = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
    const src = ctx.createBufferSource();
    src.buffer = audio; src.connect(ctx.destination);
    playHead = Math.max(playHead, ctx.currentTime + 0.05);
    if (playHead - ctx.currentTime > 0.5) playHead = ctx.currentTime + 0.05;
    src.start(playHead); playHead += audio.duration;
  }

  async function startMonitor(contactId, mode) {
    await api("POST", `/api/v1/routing/contacts/${contactId}/monitor`, { mode });
    if (monitoring === contactId && media && media.readyState === WebSocket.OPEN) {
      media.send(JSON.stringify({ type: "mode", mode }));
    } else {
      stopMedia();
      ctx = new AudioContext(); await ctx.resume();
      if (mode !== "listen") {
        try {
          stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true } });
          mic = ctx.createMediaStreamSource(stream);
          node = ctx.createScriptProcessor(1024, 1, 1);
        } catch (e) { showError("no microphone: listening only"); }
      }
      media = new WebSocket(`${scheme}://${location.host}/supervisor-media/${contactId}?mode=${mode}`);
      media.binaryType = "arraybuffer";
      media.onmessage = (ev) => { if (typeof ev.data !== "string") play(ev.data); };
      media.onopen = () => {
        if (!node) return;
        media.send(JSON.stringify({ type: "start", sample_rate_hz: ctx.sampleRate }));
        node.onaudioprocess = (ev) => {
          if (!media || media.readyState !== WebSocket.OPEN) return;
          const f32 = ev.inputBuffer.getChannelData(0);
          const i16 = new Int16Array(f32.length);
          for (let i = 0; i < f32.length; i++) { const v = Math.max(-1, Math.min(1, f32[i])); i16[i] = v < 0 ? v * 32768 : v * 32767; }
          media.send(i16.buffer);
        };
        mic.connect(node); node.connect(ctx.destination);
      };
      media.onclose = (ev) => { if (ev.code >= 4000) showError(ev.reason); };
      monitoring = contactId;
    }
    $("monitor").hidden = false;
    $("monitor-contact").textContent = contactId;
    $("monitor-mode").textContent = mode;
  }

  function stopMedia() {
    if (media) { try { media.close(); } catch (e) { /* closed */ } }
    if (node) node.disconnect();
    if (mic) mic.disconnect();
    if (stream) stream.getTracks().forEach((t) => t.stop());
    media = node = mic = stream = null;
  }

  $("btn-stop-monitor").addEventListener("click", () => {
    const cid = monitoring;
    stopMedia(); monitoring = null; $("monitor").hidden = true;
    if (cid) api("POST", `/api/v1/routing/contacts/${cid}/monitor`, { mode: null }).catch(() => {});
  });

  connectLive();
})();
