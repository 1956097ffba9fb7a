// RoboVox operator console: joins one robot's Realtime session through the gateway
// (client secret, WebRTC offer to /v1/realtime/calls, the "oai-events" data channel),
// as docs/console.md describes. Plain ES modules, no dependencies; this entry wires the
// page's controls to them:
//   state.js   the page's elements, its state (window.robovox.state) and shared handles
//   api.js     token, fetch helpers, login and logout, the robot list
//   call.js    the WebRTC call and its data channel
//   mic.js     the microphone: push-to-talk, open mic, who holds the robot's mic
//   events.js  the server events' handlers
//   views.js   status, conversation, function calls, the critical banner, rate limits
//   fleet.js   the fleet view: every robot's link, session, battery, alerts and latch
//   panel.js   the open robot's state panel
//   history.js the open robot's alerts, conversation and calls from the gateway, paged
//   estop.js   the emergency stop and its deliberate reset, without the voice session
//   inspect.js the Inspect view: the open robot's streams, groups, entries and dead letters
//   plot.js    its numeric telemetry plotted (dygraphs, served by the gateway)
//   util.js    small shared helpers

import { STORE_OPERATOR, STORE_TOKEN, login, logout, readFragment } from "./api.js";
import { connect, disconnect, inboundAudioBytes, send, sendText } from "./call.js";
import { onEmergencyChange, stopRobot, wireEmergency } from "./estop.js";
import { refreshFleet } from "./fleet.js";
import { wireHistory } from "./history.js";
import { wireInspect } from "./inspect.js";
import { renderMic, startTalking, stopTalking, toggleOpenMic } from "./mic.js";
import { refreshState } from "./panel.js";
import { state, ui } from "./state.js";
import { newEventId } from "./util.js";

function wire() {
  ui.loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = ui.token.value.trim();
    if (value) login(value, ui.operator.value.trim());
  });
  ui.logout.addEventListener("click", () => logout());
  ui.connect.addEventListener("click", () => {
    if (state.connection === "connected") disconnect();
    else connect();
  });
  for (const type of ["pointerdown", "touchstart"]) ui.ptt.addEventListener(type, startTalking, { passive: false });
  for (const type of ["pointerup", "pointercancel", "pointerleave", "touchend", "touchcancel"]) {
    ui.ptt.addEventListener(type, stopTalking, { passive: false });
  }
  ui.ptt.addEventListener("contextmenu", (event) => event.preventDefault());
  ui.ptt.addEventListener("keydown", (event) => {
    if ((event.key === " " || event.key === "Enter") && !event.repeat) {
      event.preventDefault();
      startTalking();
    }
  });
  ui.ptt.addEventListener("keyup", (event) => {
    if (event.key === " " || event.key === "Enter") stopTalking();
  });
  window.addEventListener("blur", () => stopTalking());
  ui.openMic.addEventListener("click", toggleOpenMic);
  ui.micTake.addEventListener("click", () => {
    send({ type: state.youHoldMic ? "robovox.mic.release" : "robovox.mic.take", event_id: newEventId() });
  });
  ui.textForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (sendText(ui.textInput.value)) ui.textInput.value = "";
  });
  ui.alertBanner.addEventListener("click", () => { ui.alertBanner.hidden = true; });
  document.addEventListener("click", () => {
    if (ui.audio.srcObject && ui.audio.paused) ui.audio.play().catch(() => {});
  });
  window.addEventListener("pagehide", () => {
    if (state.connection === "connected") disconnect();
  });
  wireEmergency();
  wireHistory();
  wireInspect();
  onEmergencyChange(() => {
    refreshState();
    refreshFleet();
  });
}

window.robovox = {
  state,
  get remoteTrackReceived() { return state.remoteTrackReceived; },
  get connected() { return state.connection === "connected"; },
  get micEnabled() { return state.micEnabled; },
  inboundAudioBytes,
  connect,
  disconnect,
  sendText,
  send,
  logout,
  stopRobot,
};

wire();
readFragment();
const savedToken = sessionStorage.getItem(STORE_TOKEN);
ui.operator.value = sessionStorage.getItem(STORE_OPERATOR) || "";
renderMic();
if (savedToken) login(savedToken, ui.operator.value);
