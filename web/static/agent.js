// Agent desktop: state switch, offers (customer card + bot handoff packet), live transcript,
// call control, wrap-up, and the softphone (PCM16 over /agent-media/{contact}).
// Live pushes come over /api/v1/routing/live (the JWT cookie authenticates the socket).
// window.hotlineAgent exposes counters the browser tests read.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const desk = $("desk");
  const AGENT = desk.dataset.agentId;
  const API = "/api/v1/routing/agents/" + encodeURIComponent(AGENT);
  const RATE_HZ = 16000;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const stats = { offers: 0, transcript: 0, audioFrames: 0, audioBytes: 0, loudFrames: 0, peakRms: 0, micFrames: 0 };
  window.hotlineAgent = stats;
  let live = null, offer = null, current = null, wrapContact = null, control = {};
  let media = null, ctx = null, mic = null, node = null, playHead = 0, stream = null;

  function showError(text) {
    const el = $("error");
    el.textContent = text || "";
    el.hidden = !text;
  }

  async function call(method, path, body) {
    const r = await fetch(path, {
      method, credentials: "same-origin",
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const msg = data.message || (data.detail && JSON.stringify(data.detail)) || r.statusText;
      showError(`${data.code || r.status}: ${msg}`);
      throw new Error(msg);
    }
    showError("");
    return data;
  }

  function setState(state, reason) {
    $("state").textContent = state;
    $("state").dataset.state = state;
    $("state-reason").textContent = reason ? `(${reason})` : "";
  }

  // --- live push ---------------------------------------------------------------------------
  function connectLive() {
    live = new WebSocket(`${scheme}://${location.host}/api/v1/routing/live?view=agent`);
    live.onopen = () => { $("live-status").textContent = "live"; };
    live.onclose = (ev) => {
      $("live-status").textContent = `offline (${ev.reason || ev.code}); reconnecting…`;
      setTimeout(connectLive, 2000);
    };
    live.onmessage = (ev) => handle(JSON.parse(ev.data));
  }

  function handle(msg) {
    if (msg.type === "agent_state" && msg.agent_id === AGENT) {
      setState(msg.state, msg.reason);
      if (msg.state === "wrap_up" && current) startWrapUp(current.contact_id);
    } else if (msg.type === "offer") {
      showOffer(msg);
    } else if (msg.type === "active") {
      openContact({ contact_id: msg.contact_id, packet: msg.packet });
    } else if (msg.type === "transcript" && current && msg.contact_id === current.contact_id) {
      addLine(msg.speaker, msg.text);
    } else if (msg.type === "control" && current && msg.contact_id === current.contact_id) {
      applyControl(msg);
      if (current.guest && !invited(msg)) leaveAsGuest();
    } else if (msg.type === "control" && !current && invited(msg) && !msg.ended) {
      // conference / consult invitation: join the call's audio as a guest
      openContact({ contact_id: msg.contact_id, channel: msg.channel, packet: null, guest: true });
      addLine("system", `${msg.agent_id} added you to this call.`);
    } else if (msg.type === "contact_ended" && current && msg.contact_id === current.contact_id) {
      addLine("system", "The customer left.");
      stopPhone();
    }
  }

  // --- offers and the contact ----------------------------------------------------------------
  function showOffer(msg) {
    offer = msg;
    stats.offers += 1;
    $("offer").hidden = false;
    $("offer-contact").textContent = msg.contact_id;
    $("offer-channel").textContent = msg.channel || "";
    $("offer-queue").textContent = msg.queue;
    $("offer-waited").textContent = Math.round(msg.waited_s || 0);
    renderPacket(msg.packet);
    loadCustomer(msg.contact_id);
  }

  function renderPacket(p) {
    $("packet-summary").textContent = p ? p.summary || "" : "No bot handoff for this contact.";
    $("packet-intent").textContent = (p && p.intent) || "–";
    $("packet-reason").textContent = (p && p.reason) || "–";
    $("packet-emotion").textContent = (p && p.emotions && p.emotions.length) ? p.emotions.join(" → ") : "–";
    $("packet-language").textContent = (p && p.language) || "–";
    const body = $("packet-slots").querySelector("tbody");
    body.textContent = "";
    for (const [k, v] of Object.entries((p && p.slots) || {})) {
      const tr = document.createElement("tr");
      const th = document.createElement("th"); th.textContent = k;
      const td = document.createElement("td"); td.textContent = v;
      tr.append(th, td); body.appendChild(tr);
    }
  }

  async function loadCustomer(contactId) {
    const box = $("customer");
    try {
      const card = await fetch(`/api/v1/routing/contacts/${contactId}/customer`, { credentials: "same-origin" }).then((r) => r.json());
      if (card.packet && !offer?.packet && current?.contact_id === contactId) renderPacket(card.packet);
      const c = card.customer;
      if (!c) { box.innerHTML = '<p class="hint">No customer identified.</p>'; return; }
      box.textContent = "";
      const h = document.createElement("h3"); h.textContent = `${c.name} (${c.segment})`;
      const p = document.createElement("p");
      p.textContent = `${c.phone} · ${c.language} · ${c.verified ? "verified" : "not verified"} · ` +
        c.accounts.map((a) => `${a.kind} ${a.number}`).join(", ") + " · cards " +
        c.cards.map((k) => `${k.kind} …${k.last4} ${k.status}`).join(", ");
      box.append(h, p);
    } catch (e) { box.innerHTML = '<p class="hint">Customer card unavailable.</p>'; }
  }

  async function loadTimeline(contactId) {
    try {
      const r = await fetch(`/api/v1/contacts/${contactId}/events`, { credentials: "same-origin" });
      if (!r.ok) return;
      const t = await r.json();
      for (const ev of t.data || []) {
        const e = ev.payload || ev;
        if (e.type === "transcript.final") addLine(e.speaker, e.text);
        else if (e.type === "bot.reply") addLine("bot", e.text);
        else if (e.type === "handoff.requested" && !(current && current.packet)) { current.packet = e; renderPacket(e); }
      }
    } catch (e) { /* the timeline is a nicety; live lines still arrive */ }
  }

  function addLine(kind, text) {
    const div = document.createElement("div");
    div.className = "line " + kind;
    div.textContent = `${kind}: ${text}`;
    $("transcript").appendChild(div);
    stats.transcript += 1;
    $("transcript").dataset.lines = String(stats.transcript);
  }

  function openContact(c) {
    current = c;
    $("offer").hidden = true;
    $("contact").hidden = false;
    $("wrapup").hidden = true;
    $("contact-id").textContent = c.contact_id;
    $("contact-channel").textContent = c.channel || "";
    $("transcript").textContent = "";
    renderPacket(c.packet);
    loadCustomer(c.contact_id);
    loadTimeline(c.contact_id);
    $("chat-form").hidden = c.channel !== "chat" || !!c.guest;  // agents type into chats
    if (c.channel !== "chat") startPhone(c.contact_id);
    document.dispatchEvent(new CustomEvent("hotline:contact", { detail: c }));  // assist sidebar hook
  }

  function applyControl(st) {
    control = st;
    $("btn-hold").hidden = st.held; $("btn-resume").hidden = !st.held;
    $("btn-mute").hidden = st.muted; $("btn-unmute").hidden = !st.muted;
    $("btn-complete").hidden = !st.consult; $("btn-cancel-consult").hidden = !st.consult;
    const flags = [];
    if (st.held) flags.push("on hold");
    if (st.muted) flags.push("muted");
    if (st.consult) flags.push(`consulting ${st.consult}`);
    if (st.conference && st.conference.length) flags.push(`conference: ${st.conference.join(", ")}`);
    const mon = Object.entries(st.monitors || {}).map(([u, m]) => `${u} ${m}`);
    if (mon.length) flags.push(`supervisor: ${mon.join(", ")}`);
    $("control-flags").textContent = flags.join(" · ");
    if (st.ended && st.agent_id === AGENT) { stopPhone(); startWrapUp(st.contact_id); }
    else if (st.ended && current && current.guest) leaveAsGuest();
  }

  function invited(st) {
    return (st.conference || []).includes(AGENT) || st.consult === "agent:" + AGENT;
  }

  function leaveAsGuest() {
    stopPhone();
    $("contact").hidden = true;
    current = null;
  }

  function startWrapUp(contactId) {
    wrapContact = contactId;
    $("wrapup").hidden = false;
    $("wrapup-contact").textContent = contactId;
    stopPhone();
  }

  // --- softphone -------------------------------------------------------------------------------
  function playPcm16(buf) {
    const pcm = new Int16Array(buf);
    if (!pcm.length || !ctx) return;
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
    const rms = Math.sqrt(sum / pcm.length);
    stats.audioFrames += 1; stats.audioBytes += buf.byteLength;
    if (rms > 300) stats.loudFrames += 1;
    stats.peakRms = Math.max(stats.peakRms, rms);
    $("phone-level").value = Math.min(1, rms / 8000);
    const audio = ctx.createBuffer(1, pcm.length, RATE_HZ);
    const ch = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
    const src = ctx.createBufferSource();
    src.buffer = audio; src.connect(ctx.destination);
    playHead = Math.max(playHead, ctx.currentTime + 0.05);
    if (playHead - ctx.currentTime > 0.5) playHead = ctx.currentTime + 0.05;  // stay near real time
    src.start(playHead);
    playHead += audio.duration;
  }

  async function startPhone(contactId) {
    stopPhone();
    $("softphone").hidden = false;
    $("phone-status").textContent = "connecting…";
    try {
      ctx = new AudioContext();
      await ctx.resume();
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      mic = ctx.createMediaStreamSource(stream);
      node = ctx.createScriptProcessor(1024, 1, 1);
    } catch (e) {
      $("phone-status").textContent = "no microphone: listening only";
    }
    media = new WebSocket(`${scheme}://${location.host}/agent-media/${contactId}`);
    media.binaryType = "arraybuffer";
    media.onopen = () => {
      $("phone-status").textContent = "talking";
      if (!node) return;
      media.send(JSON.stringify({ type: "start", sample_rate_hz: ctx.sampleRate }));
      node.onaudioprocess = (ev) => {
        if (!media || media.readyState !== WebSocket.OPEN || control.muted) return;
        const f32 = ev.inputBuffer.getChannelData(0);
        const i16 = new Int16Array(f32.length);
        for (let i = 0; i < f32.length; i++) {
          const v = Math.max(-1, Math.min(1, f32[i]));
          i16[i] = v < 0 ? v * 32768 : v * 32767;
        }
        media.send(i16.buffer);
        stats.micFrames += 1;
      };
      mic.connect(node);
      node.connect(ctx.destination);
    };
    media.onmessage = (ev) => { if (typeof ev.data !== "string") playPcm16(ev.data); };
    media.onclose = (ev) => {
      $("phone-status").textContent = ev.code === 4404 ? "no voice media (chat or call ended)" : `closed ${ev.reason || ""}`;
    };
  }

  function stopPhone() {
    if (media) { try { media.close(); } catch (e) { /* closed */ } }
    media = null;
    if (node) node.disconnect();
    if (mic) mic.disconnect();
    if (stream) stream.getTracks().forEach((t) => t.stop());
    node = mic = stream = null;
    $("softphone").hidden = true;
  }

  // --- buttons ---------------------------------------------------------------------------------
  const contactPath = (action) => `${API}/contacts/${current.contact_id}/${action}`;
  const onClick = (id, fn) => $(id).addEventListener("click", () => fn().catch(() => {}));

  onClick("btn-login", async () => { const a = await call("POST", API + "/state", { state: "login" }); setState(a.state, a.reason); });
  onClick("btn-available", async () => { const a = await call("POST", API + "/state", { state: "available" }); setState(a.state, a.reason); });
  onClick("btn-break", async () => { const a = await call("POST", API + "/state", { state: "break", reason: $("break-reason").value }); setState(a.state, a.reason); });
  onClick("btn-offline", async () => { const a = await call("POST", API + "/state", { state: "offline" }); setState(a.state, a.reason); });
  onClick("btn-accept", async () => {
    const o = offer;
    await call("POST", `${API}/contacts/${o.contact_id}/accept`);
    offer = null;
    openContact(o);
  });
  onClick("btn-reject", async () => { await call("POST", `${API}/contacts/${offer.contact_id}/reject`); offer = null; $("offer").hidden = true; });
  onClick("btn-hold", async () => applyControl(await call("POST", contactPath("hold"))));
  onClick("btn-resume", async () => applyControl(await call("POST", contactPath("resume"))));
  onClick("btn-mute", async () => applyControl(await call("POST", contactPath("mute"), { on: true })));
  onClick("btn-unmute", async () => applyControl(await call("POST", contactPath("mute"), { on: false })));
  onClick("btn-hangup", async () => {
    if (current && current.guest) { leaveAsGuest(); return; }  // a guest only leaves the audio
    applyControl(await call("POST", contactPath("hangup")));
  });
  onClick("btn-complete", async () => applyControl(await call("POST", contactPath("transfer/complete"))));
  onClick("btn-cancel-consult", async () => applyControl(await call("POST", contactPath("transfer/cancel"))));
  onClick("btn-conference", async () => applyControl(await call("POST", contactPath("conference"), {
    kind: $("transfer-kind").value === "external" ? "external" : "agent", target: $("transfer-target").value,
  })));
  $("transfer-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    call("POST", contactPath("transfer"), {
      kind: $("transfer-kind").value, target: $("transfer-target").value, mode: $("transfer-mode").value,
    }).then(applyControl).catch(() => {});
  });
  $("chat-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("chat-input").value.trim();
    if (!text || !current) return;
    // the line comes back on the live socket as the agent's transcript line
    call("POST", contactPath("messages"), { text }).then(() => { $("chat-input").value = ""; }).catch(() => {});
  });
  $("wrapup-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = wrapContact ? `?contact_id=${encodeURIComponent(wrapContact)}` : "";
    call("POST", `${API}/wrap-up${q}`, { disposition: $("disposition").value, notes: $("notes").value })
      .then((r) => {
        setState(r.agent.state, r.agent.reason);
        $("wrapup").hidden = true; $("contact").hidden = true; $("notes").value = "";
        current = null; wrapContact = null;
      }).catch(() => {});
  });

  fetch("/api/v1/routing/me", { credentials: "same-origin" }).then((r) => r.json()).then((a) => { if (a.state) setState(a.state, a.reason); });
  connectLive();
})();
