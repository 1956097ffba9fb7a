// The open robot's state panel (GET /v1/robots/{id}/state, once a second): battery with its
// trend and forecast, the rosbridge link and when the robot was last heard, the voice session
// and who holds the microphone, the telemetry the profile names, and the emergency-stop latch.

import { getJson } from "./api.js";
import { renderLatch } from "./estop.js";
import { openHistory, refreshHeads } from "./history.js";
import { state, ui } from "./state.js";
import { ago, el } from "./util.js";

const STATE_REFRESH_MS = 1000;

let openId = null;
let stateTimer = null;

/** Show ``robotId``: its state, polled, and its history from the gateway (once per robot). */
export function openRobot(robotId) {
  if (!robotId || robotId === openId) return;
  openId = robotId;
  state.robotState = null;
  renderState(null);
  openHistory(robotId);
  refreshState();
}

export function closeRobot() {
  openId = null;
  clearTimeout(stateTimer);
  state.robotState = null;
}

export async function refreshState() {
  clearTimeout(stateTimer);
  const robotId = openId;
  if (!robotId || !state.loggedIn) return;
  try {
    const robot = await getJson(`/v1/robots/${encodeURIComponent(robotId)}/state`);
    if (robotId === openId) renderState(robot);
  } catch (error) {
    if (error.message !== "unauthorized") ui.linkHeard.textContent = `State unavailable: ${error.message}`;
  }
  if (robotId === openId) {
    refreshHeads();
    stateTimer = setTimeout(refreshState, STATE_REFRESH_MS);
  }
}

export function renderState(robot) {
  state.robotState = robot;
  ui.sessionValue.closest(".robot-state").dataset.loaded = String(Boolean(robot));
  renderBattery(robot?.battery ?? null);
  const link = robot?.link;
  ui.linkValue.textContent = link ? link.state : "—";
  ui.linkValue.dataset.state = link?.state || "";
  ui.linkHeard.textContent = link ? `last heard ${ago(link.last_heard)}${link.problems ? ` · ${link.problems}` : ""}` : "";
  const session = robot?.session;
  ui.sessionValue.textContent = session ? session.state : "—";
  ui.sessionValue.dataset.state = session?.state || "";
  ui.sessionMic.textContent = session ? micText(session) : "";
  renderTelemetry(robot?.telemetry || []);
  renderLatch(robot);
}

function micText(session) {
  const count = session.clients.length;
  const holder = session.clients.find((c) => c.client_id === session.mic_holder);
  const who = holder ? holder.operator || holder.client_id : session.mic_holder || "nobody";
  return `mic: ${holder && holder.client_id === state.clientId ? "you" : who} · ${count} client${count === 1 ? "" : "s"}`;
}

function renderBattery(battery) {
  const tile = ui.batteryValue.closest(".tile");
  tile.hidden = battery === null && state.robotState !== null;
  const volts = battery?.voltage;
  ui.batteryValue.textContent = volts == null ? "—" : `${volts.toFixed(2)} V`;
  ui.batteryValue.dataset.volts = volts == null ? "" : volts.toFixed(2);
  const parts = [];
  if (battery?.trend_v_per_min != null) {
    const trend = battery.trend_v_per_min;
    parts.push(`${trend < 0 ? "↓" : trend > 0 ? "↑" : "→"} ${Math.abs(trend).toFixed(3)} V/min`);
  }
  if (battery?.minutes_to_threshold != null) {
    const confidence = battery.confidence == null ? "" : `, ${Math.round(battery.confidence * 100)}% sure`;
    parts.push(`~${Math.round(battery.minutes_to_threshold)} min to ${battery.threshold_v} V${confidence}`);
  } else if (battery?.trend_v_per_min != null) {
    parts.push("not falling");
  }
  ui.batteryTrend.textContent = parts.join(" · ");
  tile.dataset.level = volts == null || battery.threshold_v == null ? "" : volts <= battery.threshold_v ? "critical" : volts <= battery.threshold_v + 1 ? "low" : "ok";
}

function renderTelemetry(topics) {
  const rows = topics.map((t) => {
    const row = el("div", "reading");
    row.dataset.topic = t.topic;
    row.dataset.testid = "telemetry-reading";
    const value = t.value === null ? "—" : `${t.value}${t.unit ? ` ${t.unit}` : ""}`;
    const more = t.value === null && Object.keys(t.fields).length ? Object.entries(t.fields).map(([k, v]) => `${k} ${v}`).join(", ") : "";
    row.append(el("dt", "", t.label), el("dd", more ? "fields" : "", more || value));
    row.append(el("dd", "muted small", t.received_at ? ago(t.received_at) : "no reading"));
    return row;
  });
  ui.telemetry.replaceChildren(...rows);
}
