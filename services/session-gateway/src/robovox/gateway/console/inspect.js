// The Inspect view, for people without Grafana: the open robot's streams with their consumer
// groups (length, newest entry, pending, lag, oldest pending), its numeric telemetry plotted
// (plot.js), its dead letters with their reasons, and a stream's latest entries as written.
// All from the gateway's inspection routes (docs/console.md), again every 5 s while shown;
// a list someone paged back in is left as it is.

import { getJson } from "./api.js";
import { refreshPlot, resetPlot, wirePlot } from "./plot.js";
import { state } from "./state.js";
import { ago, clock, el, span, toMs } from "./util.js";

const REFRESH_MS = 5000;
const PAGE = 20;

const $ = (id) => document.getElementById(id);
const ui = {
  tabs: $("view-tabs"),
  robotView: $("robot-view"),
  view: $("inspect"),
  title: $("inspect-title"),
  refresh: $("inspect-refresh"),
  status: $("inspect-status"),
  streams: $("stream-table").tBodies[0],
  entriesTitle: $("entries-title"),
};

const pagers = {
  entries: {
    list: $("entry-list"), older: $("entries-older"), render: renderEntry, empty: () => el("li", "muted", "No entries."),
    path: () => `streams/${encodeURIComponent(state.inspect.stream)}/entries`,
  },
  letters: {
    list: $("letter-table").tBodies[0], older: $("letters-older"), render: renderLetter, path: () => "dead_letters",
    empty: () => emptyRow("No dead letters.", 6),
  },
};

let timer = null;
let shownRobot = null;

export function wireInspect() {
  for (const tab of ui.tabs.querySelectorAll("[data-view]")) tab.addEventListener("click", () => showView(tab.dataset.view));
  ui.refresh.addEventListener("click", () => refreshInspect());
  for (const pager of Object.values(pagers)) {
    pager.older.addEventListener("click", () => loadPage(pager, shownRobot, pager.next).catch(showProblem));
  }
  wirePlot();
}

export function showView(view) {
  state.view = view;
  for (const tab of ui.tabs.querySelectorAll("[data-view]")) tab.setAttribute("aria-pressed", String(tab.dataset.view === view));
  ui.robotView.hidden = view !== "robot";
  ui.view.hidden = view !== "inspect";
  if (view === "inspect") refreshInspect();
  else clearTimeout(timer);
}

export function startInspect() {
  ui.tabs.hidden = false;
}

export function stopInspect() {
  clearTimeout(timer);
  shownRobot = null;
  ui.tabs.hidden = true;
  showView("robot");
  resetPlot();
}

/** Load everything the view shows of the robot open in the fleet, if the view is shown. */
export async function refreshInspect() {
  clearTimeout(timer);
  if (state.view !== "inspect" || !state.loggedIn) return;
  const robotId = state.selectedRobotId;
  if (!robotId) {
    ui.status.textContent = "Choose a robot in the fleet.";
    return;
  }
  if (robotId !== shownRobot) openInspect(robotId);
  const pages = Object.values(pagers).filter((p) => p.pages <= 1).map((p) => loadPage(p, robotId, null));
  const results = await Promise.allSettled([loadStreams(robotId), refreshPlot(robotId), ...pages]);
  if (robotId !== shownRobot) return;
  const failed = results.find((r) => r.status === "rejected" && r.reason.message !== "unauthorized");
  if (failed) showProblem(failed.reason);
  else ui.status.textContent = `Updated ${clock()}`;
  if (state.view === "inspect") timer = setTimeout(refreshInspect, REFRESH_MS);
}

function showProblem(error) {
  ui.status.textContent = `Not everything could be read: ${error.message}`;
}

function openInspect(robotId) {
  shownRobot = robotId;
  const robot = state.robots.find((r) => r.robot_id === robotId);
  ui.title.textContent = `Inspect ${robot?.display_name || robotId}`;
  ui.streams.replaceChildren();
  for (const pager of Object.values(pagers)) {
    pager.list.replaceChildren();
    pager.pages = 0;
    delete pager.list.dataset.loaded;
  }
  resetPlot();
  showStreamName();
}

function showStream(stream) {
  state.inspect.stream = stream;
  showStreamName();
  for (const row of ui.streams.rows) row.classList.toggle("selected", row.dataset.stream === stream);
  pagers.entries.pages = 0;
  loadPage(pagers.entries, shownRobot, null).catch(showProblem);
}

function showStreamName() {
  ui.entriesTitle.textContent = `Latest entries: ${state.inspect.stream}`;
}

async function loadPage(pager, robotId, before) {
  const path = pager.path();
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (before) query.set("before", before);
  const page = await getJson(`/v1/robots/${encodeURIComponent(robotId)}/${path}?${query}`);
  if (robotId !== shownRobot || path !== pager.path()) return; // another robot or stream meanwhile
  const rows = page.items.map(pager.render);
  if (before) pager.list.append(...rows);
  else pager.list.replaceChildren(...(rows.length ? rows : [pager.empty()]));
  pager.next = page.next_before;
  pager.pages = before ? pager.pages + 1 : 1;
  pager.older.hidden = !page.next_before;
  pager.list.dataset.loaded = "true";
}

// ---------------------------------------------------------------- streams

async function loadStreams(robotId) {
  const streams = await getJson(`/v1/robots/${encodeURIComponent(robotId)}/streams`);
  if (robotId !== shownRobot) return;
  state.inspect.streams = streams;
  ui.streams.replaceChildren(...streams.flatMap(streamRows));
  ui.streams.closest("table").dataset.loaded = "true";
}

function cell(text, className = "") {
  return el("td", className, text);
}

function streamRows(stream) {
  const groups = stream.groups.length ? stream.groups : [null];
  return groups.map((group, i) => {
    const tr = el("tr", stream.stream === state.inspect.stream ? "selected" : "");
    tr.dataset.stream = stream.stream;
    tr.dataset.testid = "stream-row";
    if (i === 0) {
      const open = el("button", "link-button", stream.stream);
      open.type = "button";
      open.dataset.testid = "stream-open";
      open.title = `Show ${stream.key}'s latest entries`;
      open.addEventListener("click", () => showStream(stream.stream));
      const name = el("td", "stream-name");
      name.append(open);
      const cells = [name, cell(stream.length, "number"), cell(stream.last_entry_at ? ago(stream.last_entry_at) : "—", "muted nowrap")];
      for (const td of cells) td.rowSpan = groups.length;
      tr.append(...cells);
    }
    if (!group) {
      tr.append(cell("no group", "muted"), cell(""), cell(""), cell(""));
      return tr;
    }
    tr.dataset.group = group.name;
    tr.dataset.pending = String(group.pending);
    tr.dataset.lag = group.lag === null ? "" : String(group.lag);
    const oldest = group.oldest_pending
      ? `${group.oldest_pending} (${span(group.oldest_pending_age_s)} old, idle ${span(group.oldest_pending_idle_s ?? 0)})`
      : "—";
    tr.append(
      cell(`${group.name} (${group.consumers})`),
      cell(group.pending, `number${group.pending ? " bad" : ""}`),
      cell(group.lag ?? "?", `number${group.lag ? " warn" : ""}`),
      cell(oldest, group.oldest_pending ? "" : "muted"),
    );
    return tr;
  });
}

function emptyRow(text, columns) {
  const tr = el("tr");
  const td = el("td", "muted", text);
  td.colSpan = columns;
  tr.append(td);
  return tr;
}

// ---------------------------------------------------------------- entries and dead letters

function when(value) {
  const time = el("time", "muted small", clock(toMs(value)));
  time.dateTime = value;
  time.title = value;
  return time;
}

function renderEntry(entry) {
  const li = el("li", "entry");
  li.dataset.entryId = entry.entry_id;
  li.dataset.testid = "stream-entry";
  const head = el("div", "entry-head");
  head.append(el("code", "entry-id", entry.entry_id), when(entry.at));
  li.append(head);
  if (entry.problem) {
    li.dataset.problem = "true";
    li.append(el("p", "error small", entry.problem));
  }
  const fields = el("dl", "entry-fields");
  for (const [name, value] of Object.entries(entry.fields)) {
    fields.append(el("dt", "", name), value === "" ? el("dd", "muted", "(empty)") : el("dd", "", value));
  }
  li.append(fields);
  return li;
}

function renderLetter(letter) {
  const tr = el("tr");
  tr.dataset.testid = "dead-letter";
  tr.dataset.letterId = letter.dead_letter_id;
  const at = el("td");
  at.append(when(letter.dead_at));
  const reason = el("td", "reason");
  reason.append(el("span", "", letter.reason));
  const original = el("details");
  original.append(el("summary", "muted small", "original"), el("code", "original", letter.original));
  reason.append(original);
  const by = el("td");
  by.append(el("span", "", `${letter.group} ×${letter.deliveries}`), el("span", "muted small block", letter.consumer));
  tr.append(
    at, cell(letter.stream.split(":").pop()), cell(letter.entry_id, "mono"), by, reason,
    cell(letter.replayed_as || "—", letter.replayed_as ? "mono" : "muted"),
  );
  return tr;
}
