// Browser call: microphone → PCM16 over a websocket (/voice/browser); bot audio (PCM16,
// 16 kHz) is scheduled back to back and dropped on {"type":"clear"} (barge-in); the live
// transcript is shown as it arrives.
(() => {
  "use strict";
  const BOT_RATE_HZ = 16000;
  const $ = (id) => document.getElementById(id);
  let ws = null, ctx = null, mic = null, node = null, playHead = 0, sources = [], botMs = 0;

  function status(text) { $("status").textContent = text; }

  function addLine(kind, text) {
    const div = document.createElement("div");
    div.className = "line " + kind;
    div.textContent = text;
    $("transcript").appendChild(div);
  }

  function playPcm16(buf) {
    const pcm = new Int16Array(buf);
    if (!pcm.length) return;
    const audio = ctx.createBuffer(1, pcm.length, BOT_RATE_HZ);
    const ch = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
    const src = ctx.createBufferSource();
    src.buffer = audio;
    src.connect(ctx.destination);
    playHead = Math.max(playHead, ctx.currentTime + 0.02);
    src.start(playHead);
    playHead += audio.duration;
    sources.push(src);
    src.onended = () => { sources = sources.filter((s) => s !== src); };
    botMs += Math.round(audio.duration * 1000);
    $("transcript").dataset.botAudioMs = String(botMs);
  }

  function clearPlayback() {
    for (const s of sources) { try { s.stop(); } catch (e) { /* already ended */ } }
    sources = [];
    playHead = ctx ? ctx.currentTime : 0;
  }

  async function call() {
    $("call").disabled = true;
    status("Connecting…");
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    ctx = new AudioContext();
    await ctx.resume();
    mic = ctx.createMediaStreamSource(stream);
    node = ctx.createScriptProcessor(1024, 1, 1);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const lang = $("language").value;
    let path = document.body.dataset.wsPath || "/voice/browser";
    if (path.includes("{{")) path = "/voice/browser";  // page opened as a plain file
    ws = new WebSocket(`${scheme}://${location.host}${path}?language=${lang}`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "start", sample_rate_hz: ctx.sampleRate }));
      node.onaudioprocess = (ev) => {
        if (!ws || ws.readyState !== WebSocket.OPEN) return;
        const f32 = ev.inputBuffer.getChannelData(0);
        const i16 = new Int16Array(f32.length);
        for (let i = 0; i < f32.length; i++) {
          const v = Math.max(-1, Math.min(1, f32[i]));
          i16[i] = v < 0 ? v * 32768 : v * 32767;
        }
        ws.send(i16.buffer);
      };
      mic.connect(node);
      node.connect(ctx.destination);  // keeps the processor running; it outputs silence
      status("Connected. Speak after the announcement.");
      $("hangup").disabled = false;
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") { playPcm16(ev.data); return; }
      const msg = JSON.parse(ev.data);
      if (msg.type === "transcript") addLine("caller", msg.text);
      else if (msg.type === "reply") addLine("bot", msg.text);
      else if (msg.type === "clear") clearPlayback();
      else if (msg.type === "session") $("transcript").dataset.contactId = msg.contact_id;
    };
    ws.onclose = () => hangup("Call ended.");
    stream.getAudioTracks()[0].onended = () => hangup("Microphone closed.");
  }

  function hangup(text) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "stop" }));
    if (ws) ws.close();
    ws = null;
    if (node) node.disconnect();
    if (mic) mic.disconnect();
    status(text || "Call ended.");
    $("call").disabled = false;
    $("hangup").disabled = true;
  }

  $("call").addEventListener("click", () => call().catch((e) => { status("Error: " + e); $("call").disabled = false; }));
  $("hangup").addEventListener("click", () => hangup("Call ended."));
})();
