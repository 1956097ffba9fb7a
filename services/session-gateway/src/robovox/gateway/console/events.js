// The server events on the data channel: each is kept in state.events, counted, and handed
// to its handler, which updates the state and the views.

import { renderSessionHead } from "./api.js";
import { holderName, renderMic } from "./mic.js";
import { state, ui } from "./state.js";
import { toMs } from "./util.js";
import { refreshHeads } from "./history.js";
import {
  addTypedEcho, appendText, fillCall, modelDelta, modelDone, renderLimits, setCallOutcome, setText, showCritical,
  showError, toolCallEntry, transcriptLine, updateLatency,
} from "./views.js";

const MAX_EVENTS_KEPT = 500;

export function onChannelMessage(message) {
  let event;
  try {
    event = JSON.parse(message.data);
  } catch {
    return;
  }
  if (!event || typeof event.type !== "string") return;
  state.events.push(event);
  if (state.events.length > MAX_EVENTS_KEPT) state.events.splice(0, state.events.length - MAX_EVENTS_KEPT);
  state.eventCounts[event.type] = (state.eventCounts[event.type] || 0) + 1;
  const handler = handlers[event.type];
  if (handler) {
    try {
      handler(event);
    } catch (error) {
      console.error("event", event.type, error);
    }
  }
}

const handlers = {
  "session.created": (event) => {
    state.sessionId = event.session?.id || null;
  },
  "robovox.session": (event) => {
    state.sessionState = event.state || null;
    if (event.session_id) state.sessionId = event.session_id;
    const robot = state.robots.find((r) => r.robot_id === (event.robot_id || state.robotId));
    if (robot && event.state) robot.state = event.state;
    const li = ui.robotList.querySelector(`li[data-robot-id="${CSS.escape(event.robot_id || state.robotId || "")}"]`);
    const badge = li?.querySelector(".state");
    if (badge && event.state) {
      badge.textContent = event.state;
      badge.className = `state state-${event.state}`;
      li.dataset.state = event.state;
    }
    renderSessionHead();
  },
  "robovox.client": (event) => {
    state.clientId = event.client_id ?? state.clientId;
    state.youHoldMic = Boolean(event.you_hold_mic);
    state.micHolder = holderName(event.mic_holder, event.clients);
    state.clients = Array.isArray(event.clients) ? event.clients.length : typeof event.clients === "number" ? event.clients : null;
    renderMic();
  },
  "robovox.tool_call": (event) => {
    const entry = toolCallEntry(event.call_id);
    entry.calledAt = toMs(event.at) ?? entry.calledAt;
    fillCall(entry, event.name, event.arguments);
    updateLatency(entry);
  },
  "robovox.inbox": (event) => {
    if (event.kind === "function_call_output" && event.call_id) {
      const entry = toolCallEntry(event.call_id);
      if (!entry.li.querySelector(".name").textContent && event.tool) fillCall(entry, event.tool, null);
      setCallOutcome(entry, event.outcome || "unknown", event.text, toMs(event.created_at) ?? toMs(event.at));
      updateLatency(entry);
    } else if (event.source === "alert-monitor") {
      // Telemetry context is the model's, not an alert: not shown. An alert is on the robot's
      // alerts stream by now; the list takes it from there (with its resolving, later).
      if (event.reason === "telemetry_context" || !event.severity) return;
      if (event.severity === "critical") showCritical(event);
      refreshHeads();
    } else if (event.kind === "user_message" && event.text) {
      addTypedEcho(event);
    }
  },
  "response.output_item.done": (event) => {
    const item = event.item || {};
    if (item.type !== "function_call" || !item.call_id) return;
    const entry = toolCallEntry(item.call_id);
    if (!entry.li.querySelector(".name").textContent) fillCall(entry, item.name, item.arguments);
    updateLatency(entry);
  },
  "input_audio_buffer.speech_started": (event) => {
    if (event.item_id) transcriptLine(`user:${event.item_id}`, "user", "…", true);
  },
  "conversation.item.input_audio_transcription.delta": (event) => {
    const li = transcriptLine(`user:${event.item_id}`, "user", "", true);
    appendText(li, event.delta);
  },
  "conversation.item.input_audio_transcription.completed": (event) => {
    const li = transcriptLine(`user:${event.item_id}`, "user", "");
    setText(li, event.transcript || "");
  },
  "conversation.item.input_audio_transcription.failed": (event) => {
    const li = transcriptLine(`user:${event.item_id}`, "user", "");
    setText(li, "(speech not transcribed)");
  },
  "response.output_audio_transcript.delta": (event) => modelDelta(event, event.delta),
  "response.output_audio_transcript.done": (event) => modelDone(event, event.transcript),
  "response.audio_transcript.delta": (event) => modelDelta(event, event.delta),
  "response.audio_transcript.done": (event) => modelDone(event, event.transcript),
  "response.output_text.delta": (event) => modelDelta(event, event.delta),
  "response.output_text.done": (event) => modelDone(event, event.text),
  "response.text.delta": (event) => modelDelta(event, event.delta),
  "response.text.done": (event) => modelDone(event, event.text),
  "rate_limits.updated": (event) => {
    state.rateLimits = Array.isArray(event.rate_limits) ? event.rate_limits : [];
    renderLimits(state.rateLimits);
  },
  error: (event) => {
    const error = event.error || {};
    const about = error.event_id ? ` [${error.event_id}]` : "";
    showError(`${error.message || "unknown error"}${error.code ? ` (${error.code})` : ""}${about}`);
  },
};
