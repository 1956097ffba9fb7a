// The Inspect view's plot: the open robot's numeric telemetry (GET .../telemetry/series) as a
// time series, drawn with dygraphs, whose script the gateway serves from the dygraphs package
// (lib/dygraph.js, loaded when first needed): nothing comes from elsewhere. One series at a time,
// chosen in the list; the battery's first.

import { getJson } from "./api.js";
import { state } from "./state.js";
import { el } from "./util.js";

const SAMPLES = 2000;
const COLOUR = "#1f6feb";

const $ = (id) => document.getElementById(id);
const ui = { select: $("plot-series"), plot: $("plot"), note: $("plot-note") };

let library = null; // the promise of window.Dygraph
let graph = null;
let shown = []; // the series of the last answer
let chosen = null; // "topic field" of the series drawn

export function wirePlot() {
  ui.select.addEventListener("change", () => {
    chosen = ui.select.value;
    draw().catch((error) => { ui.note.textContent = `Plot: ${error.message}`; });
  });
}

function loadLibrary() {
  if (window.Dygraph) return Promise.resolve(window.Dygraph);
  library ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "lib/dygraph.js";
    script.onload = () => resolve(window.Dygraph);
    script.onerror = () => {
      library = null;
      reject(new Error("the plotting library (lib/dygraph.js) did not load"));
    };
    document.head.append(script);
  });
  return library;
}

const key = (series) => `${series.topic} ${series.field}`;
const label = (series) => `${series.topic} ${series.field.replace(/^msg\./, "")}`;

/** Read the robot's series and draw the chosen one. */
export async function refreshPlot(robotId) {
  const answer = await getJson(`/v1/robots/${encodeURIComponent(robotId)}/telemetry/series?limit=${SAMPLES}`);
  if (robotId !== state.selectedRobotId) return;
  shown = answer.series;
  renderChoices();
  await draw();
  const unreadable = answer.unreadable ? `, ${answer.unreadable} unreadable` : "";
  const more = answer.truncated ? "; more series than shown" : "";
  const range = shown.length ? "" : " No numeric telemetry among them.";
  ui.note.textContent = `From the newest ${answer.entries} telemetry entries${unreadable}${more}.${range}`;
}

function renderChoices() {
  const wanted = shown.find((s) => key(s) === chosen)
    ?? shown.find((s) => /battery/.test(s.topic) && s.field === "msg.data")
    ?? shown[0];
  chosen = wanted ? key(wanted) : null;
  const keys = shown.map(key);
  const listed = [...ui.select.options].map((o) => o.value);
  if (keys.join("\n") !== listed.join("\n")) { // rebuilt only when the series change: an open list stays open
    ui.select.replaceChildren(...shown.map((s) => {
      const option = el("option", "", label(s));
      option.value = key(s);
      return option;
    }));
  }
  if (chosen) ui.select.value = chosen;
  ui.select.disabled = !shown.length;
}

async function draw() {
  const series = shown.find((s) => key(s) === chosen);
  state.inspect.plot = { series: chosen, points: series ? series.values.length : 0 };
  ui.plot.dataset.series = chosen || "";
  ui.plot.dataset.points = String(state.inspect.plot.points);
  if (!series) {
    resetGraph();
    return;
  }
  const Dygraph = await loadLibrary();
  const data = series.times_ms.map((ms, i) => [new Date(ms), series.values[i]]);
  const labels = ["time", label(series)];
  if (graph) {
    graph.updateOptions({ file: data, labels });
    return;
  }
  graph = new Dygraph(ui.plot, data, {
    labels,
    colors: [COLOUR],
    strokeWidth: 1.5,
    drawPoints: true,
    pointSize: 1.5,
    legend: "always",
    axisLabelFontSize: 12,
    xAxisLabelWidth: 70,
    yAxisLabelWidth: 56,
    gridLineColor: "#d8dde3",
  });
}

function resetGraph() {
  if (graph) graph.destroy();
  graph = null;
  ui.plot.replaceChildren();
}

/** Another robot, or logged out: nothing drawn until its series come. */
export function resetPlot() {
  resetGraph();
  shown = [];
  ui.select.replaceChildren();
  ui.note.textContent = "";
  ui.plot.dataset.points = "0";
}
