// Building the page: every string becomes a text node, so nothing a user typed or uploaded is
// ever parsed as HTML (no HTML-string sink anywhere in the app).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name === "value") {
      el.value = value;
    } else if (name === "checked" || name === "selected" || name === "disabled" || name === "hidden") {
      el[name] = Boolean(value);
    } else if (name === "href" && !/^(#|\/(?!\/)|https?:\/\/|blob:)/i.test(String(value))) {
      continue; // javascript: and other schemes never become links
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

export function formatDate(value) {
  if (!value) return "—";
  const date = new Date(value);
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function formatDateTime(value) {
  if (!value) return "—";
  return new Date(value).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A polite announcement for screen readers, and a visible notice for everyone. */
export function notify(message, { kind = "info", timeout = 6000 } = {}) {
  const box = document.getElementById("notices");
  const note = h("p", { class: `notice notice-${kind}` }, message);
  box.append(note);
  if (timeout) setTimeout(() => note.remove(), timeout);
  return note;
}
