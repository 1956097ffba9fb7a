// RoboVox operator console: joins one robot's Realtime session through the gateway
// (client secret, WebRTC offer to /v1/realtime/calls, the "oai-events" data channel),
// as docs/console.md describes. Plain ES module, no dependencies.

const STORE_TOKEN = "robovox.token";
const STORE_OPERATOR = "robovox.operator";
const ROBOTS_REFRESH_MS = 3000;
const ICE_GATHER_CAP_MS = 2000;
const MAX_EVENTS_KEPT = 500;
const MAX_LIST_ITEMS = 200;

const $ = (id) => document.getElementById(id);

const ui = {
  login: $("login"),
  loginForm: $("login-form"),
  token: $("token"),
  operator: $("operator"),
  loginError: $("login-error"),
  logout: $("logout"),
  operatorLabel: $("operator-label"),
  app: $("app"),
  robotList: $("robot-list"),
  robotsUpdated: $("robots-updated"),
  robotTitle: $("robot-title"),
  sessionState: $("session-state"),
  connect: $("connect"),
  status: $("status"),
  errorLine: $("error-line"),
  rateLimits: $("rate-limits"),
  ptt: $("ptt"),
  openMic: $("open-mic"),
  micTake: $("mic-take"),
  micHolder: $("mic-holder"),
  textForm: $("text-form"),
  textInput: $("text-input"),
  send: $("send"),
  alertList: $("alert-list"),
  alertBanner: $("alert-banner"),
  transcript: $("transcript"),
  toolCalls: $("tool-calls"),
  audio: $("remote-audio"),
};

// Everything a person (or a test) may want to read about the page, on window.robovox.
const state = {
  loggedIn: false,
  operator: "",
  robots: [],
  selectedRobotId: null,
  connection: "idle", // idle | connecting | connected | closed | failed
  robotId: null,
  callId: null,
  callLocation: null,
  sessionId: null,
  sessionState: null,
  dataChannelOpen: false,
  listenOnly: false,
  micMode: "ptt", // ptt | open
  talking: false,
  micEnabled: false,
  clientId: null,
  micHolder: null,
  youHoldMic: false,
  clients: null,
  remoteTrackReceived: false,
  rateLimits: [],
  lastError: null,
  events: [],
  eventCounts: {},
};

let token = "";
let pc = null;
let channel = null;
let micStream = null;
let micTrack = null;
let robotsTimer = null;
let connectSeq = 0;

const robotEntries = new Map(); // robot_id -> <li>
const transcriptEntries = new Map(); // key -> <li>
const toolCallEntries = new Map(); // call_id -> {li, calledAt, resultAt, seenAt}
const pendingTyped = []; // texts typed here, not yet echoed back by the gateway

// ---------------------------------------------------------------- helpers

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function trimList(list) {
  while (list.children.length > MAX_LIST_ITEMS) list.firstElementChild.remove();
}

/** Milliseconds since the epoch from a unix time (s or ms) or an ISO string; null if unreadable. */
function toMs(value) {
  if (typeof value === "number" && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value;
  if (typeof value === "string" && value) {
    const asNumber = Number(value);
    if (Number.isFinite(asNumber)) return toMs(asNumber);
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}

function clock(ms) {
  return new Date(ms ?? Date.now()).toLocaleTimeString([], { hour12: false });
}

function newEventId() {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `evt_console_${random[0].toString(36)}${random[1].toString(36)}`;
}

function setStatus(text, kind = "") {
  ui.status.textContent = text;
  ui.status.dataset.kind = kind;
}

function showError(text) {
  state.lastError = text;
  ui.errorLine.textContent = text ? `Error: ${text}` : "";
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${token}`, ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers, cache: "no-store" });
  if (response.status === 401) {
    logout("The gateway refused the token.");
    throw new Error("unauthorized");
  }
  return response;
}

async function errorText(response) {
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

function readFragment() {
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

async function login(newToken, operator) {
  token = newToken;
  state.operator = operator;
  ui.loginError.textContent = "";
  let response;
  try {
    response = await fetch("/v1/robots", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
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
  sessionStorage.setItem(STORE_TOKEN, token);
  sessionStorage.setItem(STORE_OPERATOR, operator);
  state.loggedIn = true;
  ui.login.hidden = true;
  ui.app.hidden = false;
  ui.logout.hidden = false;
  ui.operatorLabel.textContent = operator ? `Operator: ${operator}` : "";
  renderRobots(await response.json());
  scheduleRobots();
}

function logout(message = "") {
  disconnect();
  clearTimeout(robotsTimer);
  sessionStorage.removeItem(STORE_TOKEN);
  token = "";
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

function renderSessionHead() {
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

// ------------------------------------------------------------ connection

async function connect(robotId = state.selectedRobotId) {
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
    try {
      micStream = await navigator.mediaDevices.getUserMedia({ audio: true });
      micTrack = micStream.getAudioTracks()[0] || null;
    } catch (error) {
      micStream = null;
      micTrack = null;
      state.listenOnly = true;
      console.warn("no microphone:", error);
    }
    if (seq !== connectSeq) return releaseMic();

    const peer = (pc = new RTCPeerConnection());
    // Events of a connection this console has since left are ignored.
    const current = (handler) => (event) => (peer === pc ? handler(event) : undefined);
    peer.addEventListener("track", current(onRemoteTrack));
    peer.addEventListener("connectionstatechange", current(onConnectionState));
    if (micTrack) {
      peer.addTrack(micTrack, micStream);
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
  if (!location || !token) return;
  fetch(`${location}/hangup`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, keepalive: true })
    .catch(() => {});
}

function disconnect() {
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

function releaseMic() {
  if (micStream) for (const track of micStream.getTracks()) track.stop();
  micStream = null;
  micTrack = null;
  state.micEnabled = false;
  renderMic();
}

function markRobotConnected() {
  for (const li of ui.robotList.querySelectorAll("li[data-robot-id]")) {
    li.classList.toggle("connected", li.dataset.robotId === state.robotId && state.connection === "connected");
  }
}

function setControlsEnabled(on) {
  ui.ptt.disabled = !on || state.listenOnly;
  ui.openMic.disabled = !on || state.listenOnly;
  ui.micTake.disabled = !on || (state.listenOnly && !state.youHoldMic);
  ui.textInput.disabled = !on;
  ui.send.disabled = !on;
  renderMic();
}

function send(event) {
  if (!channel || channel.readyState !== "open") {
    showError("not connected");
    return false;
  }
  channel.send(JSON.stringify(event));
  return true;
}

async function inboundAudioBytes() {
  if (!pc) return 0;
  let total = 0;
  const stats = await pc.getStats();
  stats.forEach((report) => {
    if (report.type === "inbound-rtp" && (report.kind || report.mediaType) === "audio") total += report.bytesReceived || 0;
  });
  return total;
}

// ------------------------------------------------------------ microphone

function applyMicEnabled() {
  const on = Boolean(micTrack) && (state.micMode === "open" || state.talking);
  if (micTrack) micTrack.enabled = on;
  state.micEnabled = on;
  renderMic();
}

function startTalking(event) {
  if (event && event.type === "touchstart") event.preventDefault();
  if (ui.ptt.disabled || state.talking) return;
  state.talking = true;
  applyMicEnabled();
}

function stopTalking(event) {
  if (event && event.type === "touchend") event.preventDefault();
  if (!state.talking) return;
  state.talking = false;
  applyMicEnabled();
}

function toggleOpenMic() {
  state.micMode = state.micMode === "open" ? "ptt" : "open";
  applyMicEnabled();
}

function renderMic() {
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
function holderName(holder, clients) {
  if (holder === null || holder === undefined || holder === "") return null;
  if (typeof holder === "object") return holder.operator || holder.name || holder.client_id || JSON.stringify(holder);
  const client = Array.isArray(clients) ? clients.find((c) => c && c.client_id === holder) : null;
  return client?.operator ? `${client.operator} (${holder})` : String(holder);
}

// ----------------------------------------------------------------- events

function onChannelMessage(message) {
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
      entry.resultAt = toMs(event.created_at) ?? toMs(event.at) ?? Date.now();
      entry.li.querySelector(".result").textContent = event.text || "";
      const outcome = event.outcome || "unknown";
      const outcomeNode = entry.li.querySelector(".outcome");
      outcomeNode.textContent = outcome;
      outcomeNode.className = `outcome outcome-${outcome}`;
      entry.li.dataset.outcome = outcome;
      updateLatency(entry);
    } else if (event.source === "alert-monitor") {
      addAlert(event);
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

// -------------------------------------------------------------- transcript

function transcriptLine(key, role, text, pending = false) {
  let li = transcriptEntries.get(key);
  if (!li) {
    li = el("li", `turn ${role}`);
    li.dataset.role = role;
    li.dataset.key = key;
    li.dataset.testid = "transcript-entry";
    li.append(el("span", "who", role === "user" ? "You" : role === "assistant" ? "Robot" : role));
    li.append(el("span", "text", text));
    li.append(el("time", "when muted small", clock()));
    ui.transcript.append(li);
    transcriptEntries.set(key, li);
    trimList(ui.transcript);
    li.scrollIntoView({ block: "nearest" });
  }
  li.classList.toggle("pending", pending);
  return li;
}

function appendText(li, delta) {
  const node = li.querySelector(".text");
  if (li.classList.contains("pending") && node.textContent === "…") node.textContent = "";
  node.textContent += delta || "";
}

function setText(li, text) {
  li.querySelector(".text").textContent = text;
  li.classList.remove("pending");
}

function modelKey(event) {
  return `assistant:${event.item_id || event.response_id || "?"}`;
}

function modelDelta(event, delta) {
  appendText(transcriptLine(modelKey(event), "assistant", "", true), delta);
}

function modelDone(event, text) {
  const li = transcriptLine(modelKey(event), "assistant", "");
  setText(li, typeof text === "string" && text ? text : li.querySelector(".text").textContent);
}

function addTypedLocal(text) {
  const key = `typed:${newEventId()}`;
  const li = transcriptLine(key, "user", text);
  li.classList.add("typed");
  pendingTyped.push({ text, li });
  return li;
}

function addTypedEcho(event) {
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

function resetSessionView() {
  transcriptEntries.clear();
  toolCallEntries.clear();
  pendingTyped.length = 0;
  ui.transcript.replaceChildren();
  ui.toolCalls.replaceChildren();
  state.events = [];
  state.eventCounts = {};
  state.rateLimits = [];
}

// ------------------------------------------------------------ tool calls

function toolCallEntry(callId) {
  let entry = toolCallEntries.get(callId);
  if (entry) return entry;
  const li = el("li", "tool-call");
  li.dataset.callId = callId;
  li.dataset.testid = "tool-call";
  const head = el("div", "call-head");
  head.append(el("span", "name"), el("span", "outcome outcome-pending", "pending"), el("span", "latency muted"));
  li.append(head, el("code", "arguments"), el("p", "result"), el("time", "when muted small", clock()));
  ui.toolCalls.prepend(li);
  entry = { li, calledAt: null, resultAt: null, seenAt: Date.now() };
  toolCallEntries.set(callId, entry);
  trimList(ui.toolCalls);
  return entry;
}

function fillCall(entry, name, args) {
  if (name) entry.li.querySelector(".name").textContent = name;
  if (args === null || args === undefined) return;
  const text = typeof args === "string" ? args : JSON.stringify(args);
  entry.li.querySelector(".arguments").textContent = text;
}

function updateLatency(entry) {
  if (entry.resultAt === null) return;
  const start = entry.calledAt ?? entry.seenAt;
  const ms = Math.max(0, Math.round(entry.resultAt - start));
  const node = entry.li.querySelector(".latency");
  node.textContent = `${ms} ms`;
  node.dataset.ms = String(ms);
  entry.li.dataset.latencyMs = String(ms);
}

// ---------------------------------------------------------------- alerts

function addAlert(event) {
  const known = ["info", "warning", "critical"].includes(event.severity);
  const severity = known ? event.severity : "info";
  const li = el("li", `alert severity-${severity}`);
  li.dataset.severity = severity;
  li.dataset.testid = "alert";
  const when = toMs(event.created_at) ?? toMs(event.at);
  li.append(el("span", "severity", known ? severity : "notice"), el("span", "text", event.text || ""), el("time", "when muted small", clock(when)));
  ui.alertList.prepend(li);
  trimList(ui.alertList);
  if (severity === "critical") {
    ui.alertBanner.textContent = /^critical/i.test(event.text || "") ? event.text : `Critical: ${event.text || ""}`;
    ui.alertBanner.hidden = false;
  }
}

// ------------------------------------------------------------ rate limits

function formatLimits(limits) {
  return limits
    .filter((l) => l && l.name)
    .map((l) => `${l.name} ${l.remaining ?? "?"}/${l.limit ?? "?"}`)
    .join(" · ");
}

function renderLimits(limits) {
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

// ----------------------------------------------------------------- wiring

function sendText(text) {
  const trimmed = (text || "").trim();
  if (!trimmed) return false;
  const item = { type: "message", role: "user", content: [{ type: "input_text", text: trimmed }] };
  if (!send({ type: "conversation.item.create", event_id: newEventId(), item })) return false;
  send({ type: "response.create", event_id: newEventId() });
  addTypedLocal(trimmed);
  return true;
}

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
};

wire();
readFragment();
const savedToken = sessionStorage.getItem(STORE_TOKEN);
ui.operator.value = sessionStorage.getItem(STORE_OPERATOR) || "";
renderMic();
if (savedToken) login(savedToken, ui.operator.value);
