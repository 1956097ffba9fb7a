// The emergency stop: POST /v1/robots/{id}/emergency_stop with the operator's token, never
// through the voice session, from the bar at the top (the open robot) or a fleet entry (any
// robot). The latch shows who stopped it and what the robot answered; the reset is a second,
// deliberate step.

import { api, errorText } from "./api.js";
import { state, ui } from "./state.js";
import { clock, el, toMs } from "./util.js";

let refreshAfter = () => {};

/** What to run once a stop or reset was accepted (the panel's and the fleet's refresh). */
export function onEmergencyChange(callback) {
  refreshAfter = callback;
}

async function trigger(robotId, path) {
  ui.stopError.textContent = "";
  const body = state.clientId && state.robotId === robotId ? { client_id: state.clientId } : {};
  try {
    const response = await api(`/v1/robots/${encodeURIComponent(robotId)}/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status !== 202) throw new Error(await errorText(response));
    state.lastEmergency = await response.json();
  } catch (error) {
    ui.stopError.textContent = `${path.endsWith("reset") ? "Reset" : "Stop"} failed: ${error.message}`;
    return false;
  }
  refreshAfter();
  return true;
}

export function stopRobot(robotId = state.selectedRobotId) {
  if (!robotId) return Promise.resolve(false);
  return trigger(robotId, "emergency_stop");
}

export function wireEmergency() {
  ui.stopButton.addEventListener("click", () => stopRobot());
  ui.resetButton.addEventListener("click", () => showConfirm(true));
  ui.resetCancel.addEventListener("click", () => showConfirm(false));
  ui.resetConfirmButton.addEventListener("click", async () => {
    showConfirm(false);
    await trigger(state.selectedRobotId, "emergency_stop/reset");
  });
}

function showConfirm(on) {
  ui.resetConfirm.hidden = !on;
  ui.resetButton.hidden = on;
}

/** The bar for the open robot: its stop button, and the latch while it is stopped. */
export function renderLatch(robot) {
  ui.stopBar.hidden = !state.selectedRobotId;
  const robotName = robot?.display_name || state.selectedRobotId || "";
  ui.stopButton.textContent = `Emergency stop${robotName ? ` · ${robotName}` : ""}`;
  const latch = robot?.emergency_stop;
  const stopped = Boolean(robot?.stopped);
  ui.stopBar.dataset.stopped = String(stopped);
  ui.latch.hidden = !stopped;
  if (!stopped) {
    showConfirm(false);
    return;
  }
  const since = toMs(latch.since);
  const answered = latch.result ? `robot answered: ${latch.result}` : "waiting for the robot's answer";
  const note = el("small", "", "Motion is refused until a person resets it.");
  ui.latchText.replaceChildren(`STOPPED ${since ? clock(since) : ""} by ${latch.triggered_by} · ${answered}`, note);
  ui.latchText.dataset.result = latch.result || "";
}
