// What the session panel shows: the status and error lines, the conversation, the function
// calls with their timing, the critical-alert banner and the rate limits. Every list is newest
// first: what arrives live goes on top, older history pages below.

import { state, ui } from "./state.js";
import { clock, el, newEventId, trimList } from "./util.js";

const transcriptEntries = new Map(); // key -> <li>
const toolCallEntries = new Map(); // call_id -> {li, calledAt, resultAt, seenAt}
const pendingTyped = []; // texts typed here, not yet echoed back by the gateway

// ---------------------------------------------------------------- status

export function setStatus(text, kind = "") {
  ui.status.textContent = text;
  ui.status.dataset.kind = kind;
}

export function showError(text) {
  state.lastError = text;
  ui.errorLine.textContent = text ? `Error: ${text}` : "";
}

// -------------------------------------------------------------- transcript

/** A list item on top (``where`` "newer") or below the rest ("older", a history page). */
export function place(list, li, where) {
  if (where === "older") list.append(li);
  else {
    list.prepend(li);
    trimList(list);
  }
}

export function transcriptLine(key, role, text, pending = false, where = "newer", atMs = null) {
  let li = transcriptEntries.get(key);
  if (!li) {
    li = el("li", `turn ${role}`);
    li.dataset.role = role;
    li.dataset.key = key;
    li.dataset.testid = "transcript-entry";
    li.append(el("span", "who", role === "user" ? "You" : role === "assistant" ? "Robot" : role));
    li.append(el("span", "text", text));
    li.append(el("time", "when muted small", clock(atMs ?? undefined)));
    place(ui.transcript, li, where);
    transcriptEntries.set(key, li);
  }
  li.classList.toggle("pending", pending);
  return li;
}

export function appendText(li, delta) {
  const node = li.querySelector(".text");
  if (li.classList.contains("pending") && node.textContent === "…") node.textContent = "";
  node.textContent += delta || "";
}

export function setText(li, text) {
  li.querySelector(".text").textContent = text;
  li.classList.remove("pending");
}

function modelKey(event) {
  return `assistant:${event.item_id || event.response_id || "?"}`;
}

export function modelDelta(event, delta) {
  appendText(transcriptLine(modelKey(event), "assistant", "", true), delta);
}

export function modelDone(event, text) {
  const li = transcriptLine(modelKey(event), "assistant", "");
  setText(li, typeof text === "string" && text ? text : li.querySelector(".text").textContent);
}

export function addTypedLocal(text) {
  const key = `typed:${newEventId()}`;
  const li = transcriptLine(key, "user", text);
  li.classList.add("typed");
  pendingTyped.push({ text, li });
  return li;
}

export function addTypedEcho(event) {
  const index = pendingTyped.findIndex((p) => event.text === p.text || event.text.includes(p.text));
  if (index >= 0) {
    pendingTyped.splice(index, 1)[0].li.classList.add("confirmed");
    return;
  }
  const li = transcriptLine(`inbox:${event.created_at || newEventId()}:${event.text}`, "user", event.text);
  li.classList.add("typed", "other");
  const source = event.source || "";
  if (source) li.querySelector(".who").textContent = source.replace(/^operator:/, "");
}

/** A new call: its events and rate limits start afresh; the lists keep the robot's history. */
export function resetSessionView() {
  pendingTyped.length = 0;
  state.events = [];
  state.eventCounts = {};
  state.rateLimits = [];
}

/** Another robot opened: its lists start empty, for its history. */
export function resetLists() {
  transcriptEntries.clear();
  toolCallEntries.clear();
  pendingTyped.length = 0;
  ui.transcript.replaceChildren();
  ui.toolCalls.replaceChildren();
  for (const list of [ui.transcript, ui.toolCalls, ui.alertList]) delete list.dataset.loaded;
}

// ------------------------------------------------------------ tool calls

export function toolCallEntry(callId, where = "newer", atMs = null) {
  let entry = toolCallEntries.get(callId);
  if (entry) return entry;
  const li = el("li", "tool-call");
  li.dataset.callId = callId;
  li.dataset.testid = "tool-call";
  const head = el("div", "call-head");
  head.append(el("span", "name"), el("span", "outcome outcome-pending", "pending"), el("span", "latency muted"));
  li.append(head, el("code", "arguments"), el("p", "result"), el("time", "when muted small", clock(atMs ?? undefined)));
  place(ui.toolCalls, li, where);
  entry = { li, calledAt: null, resultAt: null, seenAt: Date.now() };
  toolCallEntries.set(callId, entry);
  return entry;
}

export function setCallOutcome(entry, outcome, text, atMs) {
  entry.resultAt = atMs ?? Date.now();
  entry.li.querySelector(".result").textContent = text || "";
  const outcomeNode = entry.li.querySelector(".outcome");
  outcomeNode.textContent = outcome;
  outcomeNode.className = `outcome outcome-${outcome}`;
  entry.li.dataset.outcome = outcome;
}

export function fillCall(entry, name, args) {
  if (name) entry.li.querySelector(".name").textContent = name;
  if (args === null || args === undefined) return;
  const text = typeof args === "string" ? args : JSON.stringify(args);
  entry.li.querySelector(".arguments").textContent = text;
}

export function updateLatency(entry) {
  if (entry.resultAt === null) return;
  const start = entry.calledAt ?? entry.seenAt;
  const ms = Math.max(0, Math.round(entry.resultAt - start));
  const node = entry.li.querySelector(".latency");
  node.textContent = `${ms} ms`;
  node.dataset.ms = String(ms);
  entry.li.dataset.latencyMs = String(ms);
}

// ---------------------------------------------------------------- alerts

/** A critical alert as it is delivered: the banner (the alerts list comes from the gateway). */
export function showCritical(event) {
  ui.alertBanner.textContent = /^critical/i.test(event.text || "") ? event.text : `Critical: ${event.text || ""}`;
  ui.alertBanner.hidden = false;
}

// ------------------------------------------------------------ rate limits

export function formatLimits(limits) {
  return limits
    .filter((l) => l && l.name)
    .map((l) => `${l.name} ${l.remaining ?? "?"}/${l.limit ?? "?"}`)
    .join(" · ");
}

export function renderLimits(limits) {
  const nodes = (limits || []).filter((l) => l && l.name).map((l) => {
    const span = el("span", "rate-limit");
    span.dataset.name = l.name;
    span.dataset.remaining = String(l.remaining ?? "");
    const reset = typeof l.reset_seconds === "number" ? `, resets in ${l.reset_seconds.toFixed(1)} s` : "";
    span.textContent = `${l.name}: ${l.remaining ?? "?"} of ${l.limit ?? "?"} left${reset}`;
    return span;
  });
  ui.rateLimits.replaceChildren(...nodes);
}
