// Building DOM nodes. Text always goes in as text nodes, never parsed as markup: alert text
// comes from other countries' units and is untrusted (console.md "Serving").

/**
 * h("p", {class: "x", id: "y", "aria-live": "polite", on: {click: f}}, "text", child)
 * Props: class, text, dataset (object), on (events), hidden/disabled/checked/selected/
 * value (properties), anything else an attribute. Children: nodes, strings (as text),
 * arrays of them; null, undefined and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") for (const [name, fn] of Object.entries(value)) node.addEventListener(name, fn);
    else if (["hidden", "disabled", "checked", "selected", "value", "multiple", "required"].includes(key)) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace every child of ``node`` with ``children``. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

export function byId(id) {
  return document.getElementById(id);
}

/** An <option> list for a <select>: [[value, label], ...]. */
export function options(select, pairs, selected) {
  const chosen = new Set([].concat(selected ?? []));
  select.replaceChildren(...pairs.map(([value, label]) =>
    h("option", {value, selected: chosen.has(value)}, label)));
}

/** A short random id for frames and idempotency keys. */
export function newId(prefix = "") {
  return prefix + crypto.randomUUID();
}
