// The open robot's history from the gateway (its Redis streams), newest first like every list
// here: the alerts (firing and resolved), the conversation and the calls with their outcomes.
// Each list loads its newest page on opening, older pages on request ("before" cursors), and
// its newest page again while the data channel cannot tell of new entries.

import { getJson } from "./api.js";
import { state, ui } from "./state.js";
import { clock, el, toMs } from "./util.js";
import {
  fillCall, place, resetLists, setCallOutcome, toolCallEntry, transcriptLine, updateLatency,
} from "./views.js";

const PAGE = 20;

const lists = {
  alerts: { path: "alerts", older: () => ui.alertsOlder, render: renderAlert, live: false },
  conversation: { path: "conversation", older: () => ui.conversationOlder, render: renderItem, live: true },
  calls: { path: "calls", older: () => ui.callsOlder, render: renderCall, live: true },
};
const cursors = {}; // list -> next_before (null at the stream's start)
const shownAlerts = new Map(); // entry_id -> <li>
let historyRobot = null;
let loadSeq = 0;
let joined = false; // the conversation was heard live since opening: its lines are not its entries

export function wireHistory() {
  for (const [name, list] of Object.entries(lists)) list.older().addEventListener("click", () => loadOlder(name));
}

export async function openHistory(robotId) {
  historyRobot = robotId;
  joined = false;
  const seq = ++loadSeq;
  resetLists();
  shownAlerts.clear();
  ui.alertList.replaceChildren();
  await Promise.all(Object.keys(lists).map((name) => loadPage(name, seq, null)));
}

async function loadPage(name, seq, before) {
  const list = lists[name];
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (before) query.set("before", before);
  let page;
  try {
    page = await getJson(`/v1/robots/${encodeURIComponent(historyRobot)}/${list.path}?${query}`);
  } catch (error) {
    console.warn("history", name, error);
    return;
  }
  if (seq !== loadSeq) return; // another robot was opened meanwhile
  for (const item of page.items) list.render(item, "older");
  cursors[name] = page.next_before;
  list.older().hidden = !page.next_before;
  markLoaded(name);
}

function markLoaded(name) {
  ui[{ alerts: "alertList", conversation: "transcript", calls: "toolCalls" }[name]].dataset.loaded = "true";
}

function loadOlder(name) {
  if (cursors[name]) loadPage(name, loadSeq, cursors[name]);
}

/** The newest page of each list again, its unseen entries put on top (the alerts always: the
 * channel tells of alerts but not of their resolving; the rest while not connected). */
export async function refreshHeads({ all = false } = {}) {
  if (!historyRobot) return;
  const seq = loadSeq;
  const connected = !all && state.connection === "connected" && state.robotId === historyRobot;
  const names = Object.keys(lists).filter((name) => !(connected && lists[name].live) && !(joined && name === "conversation"));
  if (all) joined = true;
  await Promise.all(names.map(async (name) => {
    let page;
    try {
      page = await getJson(`/v1/robots/${encodeURIComponent(historyRobot)}/${lists[name].path}?limit=${PAGE}`);
    } catch {
      return;
    }
    if (seq !== loadSeq) return;
    for (const item of [...page.items].reverse()) lists[name].render(item, "newer");
  }));
}

function renderAlert(alert, where) {
  if (shownAlerts.has(alert.entry_id)) return;
  const severity = ["info", "warning", "critical"].includes(alert.severity) ? alert.severity : "info";
  const li = el("li", `alert severity-${severity} status-${alert.status}`);
  Object.assign(li.dataset, { severity, status: alert.status, rule: alert.rule, entryId: alert.entry_id, testid: "alert" });
  const head = el("span", "severity", alert.status === "resolved" ? `${severity} · resolved` : severity);
  li.append(head, el("span", "text", alert.message || alert.condition), el("time", "when muted small", clock(toMs(alert.at))));
  shownAlerts.set(alert.entry_id, li);
  place(ui.alertList, li, where);
}

function renderItem(item, where) {
  if (item.kind === "function_call" || item.kind === "function_call_output") return; // in the calls list
  const role = { user_message: "user", assistant_message: "assistant", system_message: "system" }[item.kind] || "system";
  const li = transcriptLine(`conv:${item.entry_id}`, role, item.text, false, where, toMs(item.at));
  const who = role === "user" ? sourceName(item.source) : role === "system" ? "Notice" : null;
  if (who) li.querySelector(".who").textContent = who;
}

function sourceName(source) {
  if (!source || source === "speech") return "Speech";
  return source.replace(/^operator:/, "");
}

function renderCall(call, where) {
  const entry = toolCallEntry(call.call_id, where, toMs(call.issued_at));
  fillCall(entry, call.name, call.arguments);
  entry.calledAt = toMs(call.issued_at);
  if (call.outcome || call.output) {
    setCallOutcome(entry, call.outcome || "unknown", call.output || "", toMs(call.done_at));
  } else {
    entry.li.querySelector(".outcome").textContent = call.state || "pending";
  }
  updateLatency(entry);
}
