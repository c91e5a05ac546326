// Browser test phone: registers a number over a websocket, rings, answers, plays the bot.
"use strict";
let ws = null;
let callId = null;
const audioQueue = [];
let playing = false;
window.phoneLog = [];  // what happened, for the end-to-end test and for curious humans

const $ = (id) => document.getElementById(id);
function setState(s) { $("state").textContent = s; window.phoneLog.push({ state: s }); }

function playNext() {
  if (playing || !audioQueue.length) return;
  playing = true;
  const audio = new Audio(audioQueue.shift());
  const done = () => { playing = false; window.phoneLog.push({ played: true }); playNext(); };
  audio.onended = done; audio.onerror = done;
  audio.play().catch(done);
}

function onMessage(msg) {
  window.phoneLog.push(msg.type === "play" ? { type: "play", text: msg.text, audio: !!msg.audio } : msg);
  if (msg.type === "registered") setState("registered " + msg.number);
  else if (msg.type === "ring") {
    callId = msg.call_id;
    $("caller").textContent = msg.from + (msg.name ? ` (for ${msg.name})` : "");
    $("ringing").hidden = false; setState("ringing");
  } else if (msg.type === "cancel" || msg.type === "hangup") {
    callId = null; $("ringing").hidden = true; $("in-call").hidden = true; setState("idle");
  } else if (msg.type === "play") {
    const li = document.createElement("li"); li.textContent = msg.text; $("transcript").appendChild(li);
    if (msg.audio) { audioQueue.push(msg.audio); playNext(); }
  } else if (msg.type === "error") setState("error: " + msg.message);
}

$("register-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (ws) ws.close();
  const proto = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${proto}://${location.host}/api/v1/campaigns/phone/ws?number=${encodeURIComponent($("number").value)}`);
  ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
  ws.onclose = () => setState("offline");
});

function send(obj) { if (ws && callId) ws.send(JSON.stringify({ call_id: callId, ...obj })); }
$("answer").onclick = () => { send({ type: "answer" }); $("ringing").hidden = true; $("in-call").hidden = false; setState("in call"); };
$("decline").onclick = () => { send({ type: "decline" }); $("ringing").hidden = true; setState("idle"); };
$("hangup").onclick = () => { send({ type: "hangup" }); $("in-call").hidden = true; setState("idle"); };
document.querySelector(".keypad").addEventListener("click", (ev) => {
  const d = ev.target.dataset?.digit; if (d) send({ type: "dtmf", digit: d });
});
