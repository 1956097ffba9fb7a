// Small helpers the console's modules share: elements, lists, times and event ids.

const MAX_LIST_ITEMS = 500;

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** Newest first: what falls off a long list is its oldest, at the bottom. */
export function trimList(list) {
  while (list.children.length > MAX_LIST_ITEMS) list.lastElementChild.remove();
}

/** Milliseconds since the epoch from a unix time (s or ms) or an ISO string; null if unreadable. */
export function toMs(value) {
  if (typeof value === "number" && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value;
  if (typeof value === "string" && value) {
    const asNumber = Number(value);
    if (Number.isFinite(asNumber)) return toMs(asNumber);
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}

/** A span of seconds as people say it: ``4.2 s``, ``3 min``, ``2 h``. */
export function span(seconds) {
  const s = Math.max(0, seconds);
  return s < 60 ? `${s.toFixed(1)} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

/** How long ago a time (see ``toMs``) was: ``4.2 s ago``, or ``never``. */
export function ago(value) {
  const ms = toMs(value);
  return ms === null ? "never" : `${span((Date.now() - ms) / 1000)} ago`;
}

export function clock(ms) {
  return new Date(ms ?? Date.now()).toLocaleTimeString([], { hour12: false });
}

export function newEventId() {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `evt_console_${random[0].toString(36)}${random[1].toString(36)}`;
}
