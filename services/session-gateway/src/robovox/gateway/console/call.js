// The call: a client secret, the WebRTC offer POSTed to /v1/realtime/calls, the remote audio,
// the "oai-events" data channel, and leaving the call again.

import { api, errorText, renderSessionHead } from "./api.js";
import { onChannelMessage } from "./events.js";
import { markRobotConnected } from "./fleet.js";
import { refreshHeads } from "./history.js";
import { applyMicEnabled, openMicrophone, releaseMic, renderMic } from "./mic.js";
import { runtime, state, ui } from "./state.js";
import { newEventId } from "./util.js";
import { addTypedLocal, resetSessionView, setStatus, showError } from "./views.js";

const ICE_GATHER_CAP_MS = 2000;

let pc = null;
let channel = null;
let connectSeq = 0;

export async function connect(robotId = state.selectedRobotId) {
  if (!robotId || state.connection === "connecting" || state.connection === "connected") return;
  const seq = ++connectSeq;
  resetSessionView();
  Object.assign(state, {
    connection: "connecting", robotId, callId: null, callLocation: null, sessionId: null, sessionState: null,
    remoteTrackReceived: false, listenOnly: false, dataChannelOpen: false, clientId: null, micHolder: null,
    youHoldMic: false, clients: null,
  });
  state.selectedRobotId = robotId;
  showError("");
  renderSessionHead();
  try {
    setStatus("Asking the gateway for a session key…");
    const response = await api(`/v1/realtime/client_secrets?robot_id=${encodeURIComponent(robotId)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(state.operator ? { operator: state.operator } : {}),
    });
    if (!response.ok) throw new Error(`client secret refused: ${await errorText(response)}`);
    const secret = await response.json();
    if (seq !== connectSeq) return;

    setStatus("Opening the microphone…");
    await openMicrophone();
    if (seq !== connectSeq) return releaseMic();

    const peer = (pc = new RTCPeerConnection());
    // Events of a connection this console has since left are ignored.
    const current = (handler) => (event) => (peer === pc ? handler(event) : undefined);
    peer.addEventListener("track", current(onRemoteTrack));
    peer.addEventListener("connectionstatechange", current(onConnectionState));
    if (runtime.micTrack) {
      peer.addTrack(runtime.micTrack, runtime.micStream);
      applyMicEnabled();
    } else {
      peer.addTransceiver("audio", { direction: "recvonly" });
    }
    channel = peer.createDataChannel("oai-events");
    channel.addEventListener("open", current(onChannelOpen));
    channel.addEventListener("close", current(onChannelClose));
    channel.addEventListener("message", current(onChannelMessage));

    setStatus("Connecting…");
    await peer.setLocalDescription(await peer.createOffer());
    await iceGatheringDone(peer);
    if (seq !== connectSeq) return;
    const answer = await fetch("/v1/realtime/calls", {
      method: "POST",
      headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${secret.value}` },
      body: peer.localDescription.sdp,
      cache: "no-store",
    });
    if (answer.status !== 201) throw new Error(`call refused: ${await errorText(answer)}`);
    const sdp = await answer.text();
    const location = answer.headers.get("Location");
    if (seq !== connectSeq) return hangUp(location); // given up on while the gateway answered
    state.callLocation = location;
    state.callId = location ? location.split("/").pop() : null;
    await peer.setRemoteDescription({ type: "answer", sdp });
    setStatus(state.listenOnly ? "Connected, listen-only: no microphone." : "Connected, waiting for the media…");
  } catch (error) {
    if (seq !== connectSeq) return;
    if (error.message === "unauthorized") return;
    failConnection(error.message || String(error));
  }
}

function iceGatheringDone(peer) {
  if (peer.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ICE_GATHER_CAP_MS);
    function done() {
      clearTimeout(timer);
      peer.removeEventListener("icegatheringstatechange", check);
      resolve();
    }
    function check() {
      if (peer.iceGatheringState === "complete") done();
    }
    peer.addEventListener("icegatheringstatechange", check);
  });
}

function onRemoteTrack(event) {
  if (event.track.kind !== "audio") return;
  state.remoteTrackReceived = true;
  ui.audio.srcObject = event.streams[0] || new MediaStream([event.track]);
  ui.audio.play().catch(() => setStatus("Tap anywhere to hear the robot (the browser blocked autoplay)."));
}

function onConnectionState() {
  if (!pc) return;
  const connectionState = pc.connectionState;
  if (connectionState === "failed") failConnection("the WebRTC connection failed");
  else if (connectionState === "disconnected") setStatus("Connection interrupted, waiting for it to recover…", "warn");
  else if (connectionState === "connected" && state.connection === "connected") setStatus(connectedText());
}

function onChannelOpen() {
  state.dataChannelOpen = true;
  state.connection = "connected";
  setStatus(connectedText(), "ok");
  setControlsEnabled(true);
  renderSessionHead();
  markRobotConnected();
  refreshHeads({ all: true }); // what happened since the robot was opened; the channel tells the rest
}

function onChannelClose() {
  state.dataChannelOpen = false;
  if (state.connection === "connected") {
    teardown();
    state.connection = "closed";
    setStatus("The gateway closed the connection.", "warn");
    renderSessionHead();
  }
}

function connectedText() {
  const robot = state.robots.find((r) => r.robot_id === state.robotId);
  const name = robot ? robot.display_name || robot.robot_id : state.robotId;
  return state.listenOnly ? `Connected to ${name}, listen-only (no microphone).` : `Connected to ${name}.`;
}

function failConnection(message) {
  hangUp(state.callLocation);
  teardown();
  state.connection = "failed";
  setStatus(`Could not connect: ${message}`, "error");
  showError(message);
  renderSessionHead();
}

/** Tell the gateway this console leaves the call (the operator's token may hang up any call). */
function hangUp(location) {
  if (!location || !runtime.token) return;
  fetch(`${location}/hangup`, { method: "POST", headers: { Authorization: `Bearer ${runtime.token}` }, keepalive: true })
    .catch(() => {});
}

export function disconnect() {
  connectSeq++;
  const wasActive = state.connection === "connected" || state.connection === "connecting";
  hangUp(state.callLocation);
  teardown();
  if (wasActive) {
    state.connection = "idle";
    setStatus("Disconnected.");
  }
  renderSessionHead();
}

function teardown() {
  setControlsEnabled(false);
  state.talking = false;
  state.dataChannelOpen = false;
  if (channel) {
    try { channel.close(); } catch { /* already closed */ }
    channel = null;
  }
  if (pc) {
    pc.close();
    pc = null;
  }
  releaseMic();
  ui.audio.srcObject = null;
  state.callLocation = null;
  markRobotConnected();
}


function setControlsEnabled(on) {
  ui.ptt.disabled = !on || state.listenOnly;
  ui.openMic.disabled = !on || state.listenOnly;
  ui.micTake.disabled = !on || (state.listenOnly && !state.youHoldMic);
  ui.textInput.disabled = !on;
  ui.send.disabled = !on;
  renderMic();
}

export function send(event) {
  if (!channel || channel.readyState !== "open") {
    showError("not connected");
    return false;
  }
  channel.send(JSON.stringify(event));
  return true;
}

export async function inboundAudioBytes() {
  if (!pc) return 0;
  let total = 0;
  const stats = await pc.getStats();
  stats.forEach((report) => {
    if (report.type === "inbound-rtp" && (report.kind || report.mediaType) === "audio") total += report.bytesReceived || 0;
  });
  return total;
}

export function sendText(text) {
  const trimmed = (text || "").trim();
  if (!trimmed) return false;
  const item = { type: "message", role: "user", content: [{ type: "input_text", text: trimmed }] };
  if (!send({ type: "conversation.item.create", event_id: newEventId(), item })) return false;
  send({ type: "response.create", event_id: newEventId() });
  addTypedLocal(trimmed);
  return true;
}
