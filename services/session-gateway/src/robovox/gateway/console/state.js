// The console's shared state: the page's elements, what the page shows (`state`, which
// window.robovox exposes) and the live handles more than one module needs (`runtime`).
// Whatever only one module uses stays private to that module.

const $ = (id) => document.getElementById(id);

export const ui = {
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
  stopBar: $("stop-bar"),
  stopButton: $("stop-button"),
  latch: $("latch"),
  latchText: $("latch-text"),
  resetButton: $("reset-button"),
  resetConfirm: $("reset-confirm"),
  resetConfirmButton: $("reset-confirm-button"),
  resetCancel: $("reset-cancel"),
  stopError: $("stop-error"),
  batteryValue: $("battery-value"),
  batteryTrend: $("battery-trend"),
  linkValue: $("link-value"),
  linkHeard: $("link-heard"),
  sessionValue: $("session-value"),
  sessionMic: $("session-mic"),
  telemetry: $("telemetry"),
  alertsOlder: $("alerts-older"),
  conversationOlder: $("conversation-older"),
  callsOlder: $("calls-older"),
};

// Everything a person (or a test) may want to read about the page, on window.robovox.
export const state = {
  loggedIn: false,
  operator: "",
  robots: [],
  fleet: [], // /v1/fleet: every robot's state
  selectedRobotId: null,
  robotState: null, // /v1/robots/{id}/state of the open robot
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
  view: "robot", // robot | inspect
  inspect: { stream: "tool_calls", streams: [], plot: { series: null, points: 0 } }, // what the Inspect view shows
};

// Not for display: the operator's token (api.js sets it, call.js hangs up with it) and the
// microphone (mic.js opens and releases it, call.js sends it).
export const runtime = {
  token: "",
  micStream: null,
  micTrack: null,
};
