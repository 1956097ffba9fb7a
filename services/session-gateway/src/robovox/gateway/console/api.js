// The gateway's operator API: the token (kept in sessionStorage), fetch helpers, login and
// logout, and the robot list with the session panel's head.

import { disconnect } from "./call.js";
import { runtime, state, ui } from "./state.js";
import { clock, el } from "./util.js";
import { formatLimits, renderLimits } from "./views.js";

export const STORE_TOKEN = "robovox.token";
export const STORE_OPERATOR = "robovox.operator";
const ROBOTS_REFRESH_MS = 3000;

let robotsTimer = null;
const robotEntries = new Map(); // robot_id -> <li>

// ---------------------------------------------------------------- fetching

export async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${runtime.token}`, ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers, cache: "no-store" });
  if (response.status === 401) {
    logout("The gateway refused the token.");
    throw new Error("unauthorized");
  }
  return response;
}

export async function errorText(response) {
  try {
    const body = await response.json();
    const error = body.error || body.detail || body;
    if (error && typeof error === "object") return `${error.message || JSON.stringify(error)}${error.code ? ` (${error.code})` : ""}`;
    return String(error);
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

// ------------------------------------------------------------------ login

export function readFragment() {
  if (!location.hash || location.hash.length < 2) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const fromUrl = params.get("token");
  if (fromUrl === null) return;
  sessionStorage.setItem(STORE_TOKEN, fromUrl);
  const name = params.get("operator");
  if (name !== null) sessionStorage.setItem(STORE_OPERATOR, name);
  const robot = params.get("robot");
  if (robot) state.selectedRobotId = robot;
  // The token must not stay in the address bar, the history or a shared screenshot.
  history.replaceState(null, "", location.pathname + location.search);
}

export async function login(newToken, operator) {
  runtime.token = newToken;
  state.operator = operator;
  ui.loginError.textContent = "";
  let response;
  try {
    response = await fetch("/v1/robots", { headers: { Authorization: `Bearer ${runtime.token}` }, cache: "no-store" });
  } catch (error) {
    ui.loginError.textContent = `The gateway cannot be reached: ${error.message}`;
    return;
  }
  if (response.status === 401 || response.status === 403) {
    ui.loginError.textContent = "The gateway refused this token.";
    sessionStorage.removeItem(STORE_TOKEN);
    return;
  }
  if (!response.ok) {
    ui.loginError.textContent = await errorText(response);
    return;
  }
  sessionStorage.setItem(STORE_TOKEN, runtime.token);
  sessionStorage.setItem(STORE_OPERATOR, operator);
  state.loggedIn = true;
  ui.login.hidden = true;
  ui.app.hidden = false;
  ui.logout.hidden = false;
  ui.operatorLabel.textContent = operator ? `Operator: ${operator}` : "";
  renderRobots(await response.json());
  scheduleRobots();
}

export function logout(message = "") {
  disconnect();
  clearTimeout(robotsTimer);
  sessionStorage.removeItem(STORE_TOKEN);
  runtime.token = "";
  state.loggedIn = false;
  state.robots = [];
  robotEntries.clear();
  ui.robotList.replaceChildren();
  ui.app.hidden = true;
  ui.logout.hidden = true;
  ui.login.hidden = false;
  ui.operatorLabel.textContent = "";
  ui.token.value = "";
  ui.loginError.textContent = message;
}

// ----------------------------------------------------------------- robots

function scheduleRobots() {
  clearTimeout(robotsTimer);
  robotsTimer = setTimeout(refreshRobots, ROBOTS_REFRESH_MS);
}

async function refreshRobots() {
  if (!state.loggedIn) return;
  try {
    const response = await api("/v1/robots");
    if (response.ok) renderRobots(await response.json());
    else ui.robotsUpdated.textContent = `Robot list: ${await errorText(response)}`;
  } catch (error) {
    if (error.message !== "unauthorized") ui.robotsUpdated.textContent = `Robot list unavailable: ${error.message}`;
  }
  if (state.loggedIn) scheduleRobots();
}

function renderRobots(robots) {
  state.robots = Array.isArray(robots) ? robots : [];
  if (!state.selectedRobotId && state.robots.length === 1) state.selectedRobotId = state.robots[0].robot_id;
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
    button.addEventListener("click", () => selectRobot(robot.robot_id));
    li.append(button, el("p", "robot-limits muted small"), el("p", "robot-error error small"));
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

function selectRobot(robotId) {
  if (state.connection === "connected" || state.connection === "connecting") {
    if (robotId === state.robotId) return;
    disconnect();
  }
  state.selectedRobotId = robotId;
  for (const li of ui.robotList.querySelectorAll("li[data-robot-id]")) {
    li.classList.toggle("selected", li.dataset.robotId === robotId);
  }
  renderSessionHead();
}

export function renderSessionHead() {
  const robotId = state.robotId || state.selectedRobotId;
  const robot = state.robots.find((r) => r.robot_id === robotId);
  ui.robotTitle.textContent = robot ? robot.display_name || robot.robot_id : robotId || "Choose a robot";
  const sessionState = state.robotId ? state.sessionState || robot?.state : robot?.state;
  ui.sessionState.textContent = sessionState ? `session ${sessionState}` : "";
  ui.sessionState.dataset.state = sessionState || "";
  const busy = state.connection === "connecting";
  const connected = state.connection === "connected";
  ui.connect.disabled = busy || (!connected && !robotId);
  ui.connect.textContent = connected ? "Disconnect" : busy ? "Connecting…" : "Connect";
  ui.connect.dataset.action = connected ? "disconnect" : "connect";
  if (!state.robotId && robot) renderLimits(robot.rate_limits || []);
}

export function markRobotConnected() {
  for (const li of ui.robotList.querySelectorAll("li[data-robot-id]")) {
    li.classList.toggle("connected", li.dataset.robotId === state.robotId && state.connection === "connected");
  }
}
