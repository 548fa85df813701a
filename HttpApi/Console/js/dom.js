// DOM building without HTML strings: every value from the API becomes a text node or an attribute value, never
// markup, so a job id or an error message cannot inject anything (the page also runs under a strict CSP).

/**
 * h('a', { href: '#/jobs', class: 'x', onclick: fn }, 'text', child) → element.
 * Properties starting with "on" become listeners; false/null/undefined attributes are left out; arrays of children
 * are flattened; strings and numbers become text nodes.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (name === 'value' || name === 'checked') element[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of element. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A table with a caption, column headers and rows of cells (strings or nodes), scrollable on narrow screens. */
export function table(caption, headers, rows, empty = 'None.') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headers.map(text => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows.map(cells => h('tr', {}, cells.map((cell, i) =>
        i === 0 ? h('th', { scope: 'row' }, cell) : h('td', {}, cell)))))));
}

let bars = 0;

/** A labelled bar: used of limit, or "unlimited" for a null limit. */
export function bar(label, used, limit, format = String) {
  const id = `bar-${++bars}`;
  const text = limit === null ? `${format(used)} (unlimited)` : `${format(used)} of ${format(limit)}`;
  const fraction = limit === null ? 0 : limit > 0 ? Math.min(1, used / limit) : 1;
  return h('div', { class: 'bar-row' },
    h('span', { class: 'bar-label', id }, label),
    h('meter', { min: 0, max: 1, value: fraction, 'aria-labelledby': id, title: text, class: fraction >= 0.9 ? 'high' : '' }),
    h('span', { class: 'bar-value' }, text));
}

/** A progress bar of a job, with its percentage as text beside it. */
export function jobProgress(job) {
  const percent = job.framesTotal > 0 ? Math.floor(100 * job.framesDone / job.framesTotal) : 0;
  return h('span', { class: 'progress' },
    h('progress', { max: 100, value: percent, 'aria-label': `progress of ${job.jobId}` }),
    h('span', { class: 'percent' }, `${percent} %`));
}

/** Today's times as the time only; other days with a short date. Unset times (.NET's default) as a dash. */
export function formatTime(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 2000) return '–';
  return date.toDateString() === new Date().toDateString()
    ? date.toLocaleTimeString()
    : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

export function formatNumber(value, digits = 0) {
  return Number(value).toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Frames per second and the time left, from the job's own timestamps (no clock of the server needed beyond them). */
export function rate(job) {
  const started = job.startedAt ? Date.parse(job.startedAt) : NaN;
  if (Number.isNaN(started) || job.framesDone === 0) return { fps: null, eta: null };
  const end = job.completedAt ? Date.parse(job.completedAt) : Date.now();
  const seconds = Math.max(0.001, (end - started) / 1000);
  const fps = job.framesDone / seconds;
  const eta = job.isTerminal ? null : (job.framesTotal - job.framesDone) / fps;
  return { fps, eta };
}

export function formatDuration(seconds) {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A state as a badge whose class colours it; the text says it, so colour is never the only cue. */
export function stateBadge(state) {
  return h('span', { class: `state state-${String(state).toLowerCase()}` }, state);
}

/** Says something to screen readers (the polite live region in index.html). */
export function announce(text) {
  const region = document.getElementById('announce');
  region.textContent = '';
  // A fresh text node in a new task is what makes screen readers repeat an identical message.
  setTimeout(() => { region.textContent = text; }, 50);
}
