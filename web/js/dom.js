// Building DOM nodes. Text is only ever set as text (textContent or text
// nodes), never parsed as HTML, so user data cannot inject markup.

/**
 * Creates an element. `props`: `class`, `text`, `dataset` (object), `on`
 * (event → handler), attributes (`hidden`, `aria-*`, …; `true` sets, `false`
 * or `null` skips) and element properties for known ones (`value`, `type`).
 * Children are nodes or strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === 'value' || key === 'type' || key === 'disabled') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** The element with `id`; throws if the page lacks it. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el;
}

/** Announces `text` to screen readers through a polite live region. */
export function announce(text) {
  const region = byId('announcer');
  const item = h('p', { text });
  region.append(item);
  // Keep the region short; old announcements have been read by now.
  while (region.childElementCount > 5) region.firstElementChild.remove();
}

let toastTimer = 0;
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') byId('toast').hidden = true;
});
/** Shows a short status line (errors, confirmations). */
export function toast(text, kind = 'info') {
  const el = byId('toast');
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}
