// Form fields with labels and error slots, the API's problem documents shown where they belong, and JSON bodies that
// keep numbers exact (a 64-bit seed would lose digits as a JavaScript number).
import { h } from './dom.js';
import { ApiError } from './api.js';

/**
 * A labelled input with a hint and an error slot tied to it (aria-describedby), for field `name` of the API.
 * kind: 'text' | 'number' (typed as text: the API, not the browser, judges the value) | 'checkbox' | 'select'.
 */
export function field(prefix, name, label, { kind = 'number', value = '', hint, options } = {}) {
  const id = `${prefix}-${name}`;
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  let input;
  if (kind === 'select') {
    input = h('select', { id, name, 'aria-describedby': describedBy },
      options.map(option => h('option', { value: option, selected: option === value }, option)));
  } else if (kind === 'checkbox') {
    input = h('input', { id, name, type: 'checkbox', checked: Boolean(value), 'aria-describedby': describedBy });
  } else {
    input = h('input', { id, name, type: 'text', value: String(value), autocomplete: 'off',
      inputmode: kind === 'number' ? 'decimal' : null, 'aria-describedby': describedBy });
  }
  return h('div', { class: `field field-${kind}`, 'data-field': name },
    kind === 'checkbox' ? [input, h('label', { for: id }, label)] : [h('label', { for: id }, label), input],
    hint ? h('p', { id: `${id}-hint`, class: 'hint' }, hint) : null,
    h('p', { id: `${id}-error`, class: 'field-error', 'aria-live': 'polite' }));
}

/** Clears every error slot of the form and the form-level message. */
export function clearErrors(form) {
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/**
 * Shows a refused request: each entry of a validation problem's "errors" next to its field ("classes[1]" and
 * "quota.maxRunningJobs" belong to "classes" and "maxRunningJobs"), the rest in the form's own slot. Focuses the
 * first field in error, as keyboard users expect.
 */
export function showProblem(form, error, formSlot) {
  clearErrors(form);
  if (!(error instanceof ApiError)) {
    formSlot.textContent = String(error?.message ?? error);
    return;
  }
  const unplaced = [];
  let first = null;
  for (const [key, messages] of Object.entries(error.fieldErrors())) {
    const name = fieldNameOf(form, key);
    const container = name ? form.querySelector(`[data-field="${CSS.escape(name)}"]`) : null;
    if (!container) {
      unplaced.push(...messages);
      continue;
    }
    container.querySelector('.field-error').textContent = messages.join(' ');
    const input = container.querySelector('input, select');
    input.setAttribute('aria-invalid', 'true');
    first ??= input;
  }
  const quotas = (error.problem.quotas ?? []).map(q => q.detail);
  const rest = [...unplaced, ...quotas];
  const summary = rest.length > 0 ? rest : [first ? 'see the marked field(s) above' : error.message];
  formSlot.textContent = [error.problem.title, ...summary].filter(Boolean).join(' — ');
  (first ?? formSlot).focus?.();
}

/** "classes[1]" → "classes"; "quota.maxRunningJobs" → "maxRunningJobs": whichever part names a field of the form. */
function fieldNameOf(form, key) {
  const parts = key.split(/[[\].]/).filter(Boolean);
  return parts.find(part => form.querySelector(`[data-field="${CSS.escape(part)}"]`)) ?? null;
}

/** The value of a text field as JSON: a plain number stays a number (exactly as typed), anything else a string. */
export function jsonValue(text) {
  const trimmed = text.trim();
  return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(trimmed) ? trimmed : JSON.stringify(trimmed);
}

/** "3, 7" → "[3,7]" with the same rule per item; empty → null (leave the field out). */
export function jsonList(text) {
  const items = text.split(',').map(item => item.trim()).filter(item => item !== '');
  return items.length === 0 ? null : `[${items.map(jsonValue).join(',')}]`;
}

/** An object body from [name, jsonText] pairs; pairs whose text is null are left out. */
export function jsonObject(pairs) {
  return `{${pairs.filter(([, json]) => json !== null).map(([name, json]) => `${JSON.stringify(name)}:${json}`).join(',')}}`;
}

/** The field's text as JSON, or null when it is empty (the API then uses its default). */
export function optional(form, name) {
  const input = form.elements.namedItem(name);
  return input && input.value.trim() !== '' ? jsonValue(input.value) : null;
}

/** A problem as a whole view (e.g. the admin page refused to a tenant key). */
export function problemView(error) {
  if (!(error instanceof ApiError)) return h('div', { class: 'problem', role: 'alert' }, h('h1', {}, 'Something went wrong'), h('p', {}, String(error?.message ?? error)));
  const { problem, status } = error;
  return h('div', { class: 'problem', role: 'alert', 'data-status': status },
    h('h1', {}, `${status} ${problem.title ?? ''}`.trim()),
    h('p', {}, problem.detail ?? error.message),
    problem.authProblem ? h('p', { class: 'muted' }, `authProblem: ${problem.authProblem}`) : null);
}
