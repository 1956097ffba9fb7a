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

export function clock(ms) {
  return new Date(ms ?? Date.now()).toLocaleTimeString([], { hour12: false });
}

export function newEventId() {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `evt_console_${random[0].toString(36)}${random[1].toString(36)}`;
}
