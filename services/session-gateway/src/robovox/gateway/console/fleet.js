// The fleet view: every robot with its link, session, battery, alerts still firing and its
// emergency-stop latch (GET /v1/fleet), a stop button on each, and a tap to open one.

import { api, errorText, renderSessionHead } from "./api.js";
import { disconnect } from "./call.js";
import { stopRobot } from "./estop.js";
import { refreshInspect } from "./inspect.js";
import { openRobot } from "./panel.js";
import { state, ui } from "./state.js";
import { clock, el } from "./util.js";
import { formatLimits } from "./views.js";

const FLEET_REFRESH_MS = 2000;

let fleetTimer = null;
const robotEntries = new Map(); // robot_id -> <li>

export function startFleet() {
  if (state.selectedRobotId) openRobot(state.selectedRobotId);
  refreshFleet();
}

export function stopFleet() {
  clearTimeout(fleetTimer);
  fleetTimer = null;
  state.robots = [];
  state.fleet = [];
  robotEntries.clear();
  ui.robotList.replaceChildren();
}

export async function refreshFleet() {
  clearTimeout(fleetTimer);
  if (!state.loggedIn) return;
  try {
    const [robots, fleet] = await Promise.all([api("/v1/robots"), api("/v1/fleet")]);
    if (robots.ok) renderRobots(await robots.json());
    if (fleet.ok) renderFleet(await fleet.json());
    else ui.robotsUpdated.textContent = `Fleet: ${await errorText(fleet)}`;
  } catch (error) {
    if (error.message !== "unauthorized") ui.robotsUpdated.textContent = `Fleet unavailable: ${error.message}`;
  }
  if (state.loggedIn) fleetTimer = setTimeout(refreshFleet, FLEET_REFRESH_MS);
}

/** The robots as /v1/robots lists them (names, session state, rate limits, last error). */
export function renderRobots(robots) {
  state.robots = Array.isArray(robots) ? robots : [];
  if (!state.selectedRobotId && state.robots.length === 1) selectRobot(state.robots[0].robot_id);
  // Entries are updated in place, so a refresh neither moves the focus nor eats a tap.
  const wanted = new Set(state.robots.map((robot) => robot.robot_id));
  for (const [robotId, li] of robotEntries) {
    if (!wanted.has(robotId)) {
      li.remove();
      robotEntries.delete(robotId);
    }
  }
  ui.robotList.querySelector(".empty")?.remove();
  for (const robot of state.robots) ui.robotList.append(robotEntry(robot));
  if (!state.robots.length) ui.robotList.append(el("li", "muted empty", "No robots on this gateway."));
  ui.robotsUpdated.textContent = `Updated ${clock()}`;
  renderSessionHead();
}

function robotEntry(robot) {
  let li = robotEntries.get(robot.robot_id);
  if (!li) {
    li = el("li", "robot");
    li.dataset.robotId = robot.robot_id;
    li.dataset.testid = "robot-entry";
    const button = el("button", "robot-select");
    button.type = "button";
    button.append(el("span", "robot-name"), el("span", "robot-id muted", robot.robot_id), el("span", "state"));
    button.append(el("span", "robot-facts"));
    button.addEventListener("click", () => selectRobot(robot.robot_id));
    const stop = el("button", "stop small-stop", "Stop");
    stop.type = "button";
    stop.dataset.testid = "fleet-stop";
    stop.setAttribute("aria-label", `Emergency stop ${robot.display_name || robot.robot_id}`);
    stop.addEventListener("click", () => stopRobot(robot.robot_id));
    li.append(el("div", "robot-row"), el("p", "robot-limits muted small"), el("p", "robot-error error small"));
    li.firstChild.append(button, stop);
    robotEntries.set(robot.robot_id, li);
  }
  const sessionState = robot.state || "unknown";
  li.dataset.state = sessionState;
  li.classList.toggle("selected", robot.robot_id === state.selectedRobotId);
  li.classList.toggle("connected", robot.robot_id === state.robotId && state.connection === "connected");
  li.querySelector(".robot-name").textContent = robot.display_name || robot.robot_id;
  const badge = li.querySelector(".state");
  badge.textContent = sessionState;
  badge.className = `state state-${sessionState}`;
  li.querySelector(".robot-limits").textContent = formatLimits(robot.rate_limits || []);
  li.querySelector(".robot-error").textContent = robot.last_error || "";
  return li;
}

/** Each robot's state from /v1/fleet on its entry: link, battery, alerts, the latch. */
export function renderFleet(fleet) {
  state.fleet = Array.isArray(fleet) ? fleet : [];
  for (const robot of state.fleet) {
    const li = robotEntries.get(robot.robot_id);
    if (!li) continue;
    const firing = robot.active_alerts || [];
    li.dataset.link = robot.link.state;
    li.dataset.stopped = String(Boolean(robot.stopped));
    li.dataset.alerts = String(firing.length);
    li.dataset.battery = robot.battery?.voltage == null ? "" : robot.battery.voltage.toFixed(2);
    const facts = [el("span", `link link-${robot.link.state}`, `link ${robot.link.state}`)];
    if (robot.battery?.voltage != null) facts.push(el("span", "volts", `${robot.battery.voltage.toFixed(2)} V`));
    if (firing.length) {
      const worst = firing.some((a) => a.severity === "critical") ? "critical" : firing.some((a) => a.severity === "warning") ? "warning" : "info";
      facts.push(el("span", `alerts alerts-${worst}`, `${firing.length} alert${firing.length === 1 ? "" : "s"}`));
    }
    if (robot.stopped) facts.push(el("span", "latched", "STOPPED"));
    li.querySelector(".robot-facts").replaceChildren(...facts);
  }
}

export function selectRobot(robotId) {
  if (state.connection === "connected" || state.connection === "connecting") {
    if (robotId === state.robotId) return;
    disconnect();
  }
  const changed = robotId !== state.selectedRobotId;
  state.selectedRobotId = robotId;
  for (const li of ui.robotList.querySelectorAll("li[data-robot-id]")) {
    li.classList.toggle("selected", li.dataset.robotId === robotId);
  }
  renderSessionHead();
  if (changed || !state.robotState) openRobot(robotId);
  if (changed) refreshInspect();
}

export function markRobotConnected() {
  for (const li of ui.robotList.querySelectorAll("li[data-robot-id]")) {
    li.classList.toggle("connected", li.dataset.robotId === state.robotId && state.connection === "connected");
  }
}
