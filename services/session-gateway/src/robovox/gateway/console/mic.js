// The microphone: opening and releasing it, push-to-talk and open mic, and who holds the
// robot's microphone.

import { runtime, state, ui } from "./state.js";

/** Open the browser's microphone; without one the console joins listen-only. */
export async function openMicrophone() {
  try {
    runtime.micStream = await navigator.mediaDevices.getUserMedia({ audio: true });
    runtime.micTrack = runtime.micStream.getAudioTracks()[0] || null;
  } catch (error) {
    runtime.micStream = null;
    runtime.micTrack = null;
    state.listenOnly = true;
    console.warn("no microphone:", error);
  }
}

export function releaseMic() {
  if (runtime.micStream) for (const track of runtime.micStream.getTracks()) track.stop();
  runtime.micStream = null;
  runtime.micTrack = null;
  state.micEnabled = false;
  renderMic();
}

export function applyMicEnabled() {
  const on = Boolean(runtime.micTrack) && (state.micMode === "open" || state.talking);
  if (runtime.micTrack) runtime.micTrack.enabled = on;
  state.micEnabled = on;
  renderMic();
}

export function startTalking(event) {
  if (event && event.type === "touchstart") event.preventDefault();
  if (ui.ptt.disabled || state.talking) return;
  state.talking = true;
  applyMicEnabled();
}

export function stopTalking(event) {
  if (event && event.type === "touchend") event.preventDefault();
  if (!state.talking) return;
  state.talking = false;
  applyMicEnabled();
}

export function toggleOpenMic() {
  state.micMode = state.micMode === "open" ? "ptt" : "open";
  applyMicEnabled();
}

export function renderMic() {
  const open = state.micMode === "open";
  ui.openMic.textContent = open ? "Open mic: on" : "Open mic: off";
  ui.openMic.setAttribute("aria-pressed", String(open));
  ui.ptt.setAttribute("aria-pressed", String(state.talking));
  ui.ptt.classList.toggle("talking", state.micEnabled);
  ui.ptt.textContent = state.listenOnly
    ? "No microphone"
    : open ? (state.micEnabled ? "Mic open" : "Open mic") : state.talking ? "Talking…" : "Hold to talk";
  ui.ptt.dataset.micEnabled = String(state.micEnabled);
  ui.micTake.textContent = state.youHoldMic ? "Release mic" : "Take mic";
  if (state.connection === "connected") ui.micTake.disabled = state.listenOnly && !state.youHoldMic;
  ui.micTake.dataset.action = state.youHoldMic ? "release" : "take";
  let holder;
  if (state.connection !== "connected") holder = "Microphone: —";
  else if (state.youHoldMic) holder = "Microphone: you";
  else if (state.micHolder) holder = `Microphone: ${state.micHolder}`;
  else holder = "Microphone: free (the robot's own, if it has one)";
  if (state.connection === "connected" && typeof state.clients === "number") {
    holder += ` · ${state.clients} client${state.clients === 1 ? "" : "s"}`;
  }
  if (state.connection === "connected" && !state.youHoldMic && state.micEnabled) holder += " (you are not heard)";
  ui.micHolder.textContent = holder;
  ui.micHolder.dataset.youHoldMic = String(state.youHoldMic);
}

/** A readable name for the microphone's holder: the operator's name for a client id. */
export function holderName(holder, clients) {
  if (holder === null || holder === undefined || holder === "") return null;
  if (typeof holder === "object") return holder.operator || holder.name || holder.client_id || JSON.stringify(holder);
  const client = Array.isArray(clients) ? clients.find((c) => c && c.client_id === holder) : null;
  return client?.operator ? `${client.operator} (${holder})` : String(holder);
}

