// The gateway's operator API: the token (kept in sessionStorage), fetch helpers, login and
// logout, and the session panel's head.

import { disconnect } from "./call.js";
import { renderRobots, startFleet, stopFleet } from "./fleet.js";
import { startInspect, stopInspect } from "./inspect.js";
import { closeRobot } from "./panel.js";
import { runtime, state, ui } from "./state.js";
import { renderLimits } from "./views.js";

export const STORE_TOKEN = "robovox.token";
export const STORE_OPERATOR = "robovox.operator";

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

/** The JSON of a GET, or an Error saying why not. */
export async function getJson(path) {
  const response = await api(path);
  if (!response.ok) throw new Error(await errorText(response));
  return response.json();
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
  startFleet();
  startInspect();
}

export function logout(message = "") {
  disconnect();
  stopFleet();
  stopInspect();
  closeRobot();
  sessionStorage.removeItem(STORE_TOKEN);
  runtime.token = "";
  state.loggedIn = false;
  ui.app.hidden = true;
  ui.logout.hidden = true;
  ui.login.hidden = false;
  ui.operatorLabel.textContent = "";
  ui.token.value = "";
  ui.loginError.textContent = message;
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
