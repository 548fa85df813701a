// Operators: tenants with quotas and weights; create, set quota, set weight, rotate and revoke keys, each through
// its /v1/admin/tenants route. A newly issued key is shown once, on the page only.
import { api, tenantPath } from './api.js';
import { h, replace, table, formatNumber, announce } from './dom.js';
import { field, showProblem, clearErrors, jsonObject, optional } from './forms.js';
import { usageView } from './usage.js';

const quotaFields = [
  ['maxRunningJobs', 'Max running jobs'], ['maxQueuedFrames', 'Max queued frames'], ['maxFramesPerJob', 'Max frames per job'],
  ['maxOutputSize', 'Max size (px)'], ['deviceSecondsPerDay', 'Device-seconds per 24 h (0: unlimited)'],
  ['framesPerDay', 'Frames per 24 h (0: unlimited)'],
];

export function tenantsSection(signal) {
  const list = h('div');
  const editor = h('div', { id: 'tenant-editor' });
  const issued = h('div', { id: 'issued-key', 'aria-live': 'polite' });
  const element = h('section', { 'aria-labelledby': 'tenants-heading' },
    h('h2', { id: 'tenants-heading' }, 'Tenants'), list, issued, editor, createForm());
  let tenants = [];

  function show(latest) {
    tenants = latest;
    replace(list, table('Tenants', ['Tenant', 'Role', 'Weight', 'Running jobs', 'Queued frames', 'Device-s 24 h', 'Keys', ''],
      tenants.map(t => [
        t.id, t.isAdmin ? 'admin' : 'tenant', formatNumber(t.weight, 2),
        `${t.usage.runningJobs} / ${t.quota.maxRunningJobs}`,
        `${formatNumber(t.usage.queuedFrames)} / ${formatNumber(t.quota.maxQueuedFrames)}`,
        `${formatNumber(t.usage.deviceSeconds24h, 1)} / ${t.quota.deviceSecondsPerDay ? formatNumber(t.quota.deviceSecondsPerDay) : '∞'}`,
        String(t.activeKeyIds.length),
        h('button', { type: 'button', onclick: () => edit(t.id), 'aria-label': `Manage tenant ${t.id}` }, 'Manage'),
      ]), 'No tenants.'));
  }

  async function reload() {
    show((await api('/v1/admin/tenants', { signal })).tenants);
  }

  function showKey(key, what) {
    replace(issued, h('div', { class: 'card notice', role: 'status' },
      h('h3', {}, `${what}: tenant ${key.tenant}`),
      h('p', {}, 'Shown once; the cluster keeps only its hash. Copy it now and hand it over securely.'),
      h('label', { for: 'issued-key-value' }, `Key ${key.keyId}`),
      h('input', { id: 'issued-key-value', type: 'text', readonly: true, value: key.apiKey, class: 'mono', onfocus: e => e.target.select() })));
    issued.querySelector('input').focus();
  }

  function createForm() {
    const error = h('p', { class: 'form-error', role: 'alert', tabindex: -1 });
    const form = h('form', { id: 'create-tenant', class: 'card form-grid', novalidate: true, onsubmit: async event => {
      event.preventDefault();
      clearErrors(form);
      error.textContent = '';
      const quota = jsonObject(quotaFields.map(([name]) => [name, optional(form, name)]));
      const body = jsonObject([['tenant', JSON.stringify(form.elements.tenant.value.trim())], ['isAdmin', form.elements.isAdmin.checked ? 'true' : 'false'],
        ['weight', optional(form, 'weight')], ['quota', quota === '{}' ? null : quota]]);
      try {
        const key = await api('/v1/admin/tenants', { method: 'POST', body, signal });
        form.reset();
        showKey(key, 'New tenant');
        announce(`Tenant ${key.tenant} created`);
        await reload();
      } catch (problem) {
        if (!signal.aborted) showProblem(form, problem, error);
      }
    } },
    h('h3', {}, 'Create a tenant'),
    field('new', 'tenant', 'Tenant id', { kind: 'text', hint: '1–64 of A–Z a–z 0–9 - _' }),
    field('new', 'weight', 'Weight', { hint: 'Empty: 1.' }),
    quotaFields.map(([name, label]) => field('new', name, label, { hint: 'Empty: the cluster default.' })),
    field('new', 'isAdmin', 'Admin', { kind: 'checkbox', value: false }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create tenant')),
    error);
    return form;
  }

  async function edit(id) {
    const tenant = await api(tenantPath(id), { signal });
    const weightError = h('p', { class: 'form-error', role: 'alert', tabindex: -1 });
    const weightForm = h('form', { class: 'form-grid', novalidate: true, onsubmit: event => send(event, weightForm, weightError, 'PUT',
      `${tenantPath(id)}/weight`, () => jsonObject([['weight', optional(weightForm, 'weight')]]), 'Weight set') },
    field('weight', 'weight', 'Weight', { value: tenant.weight, hint: 'Share of the devices under contention, relative to other tenants.' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Set weight')), weightError);

    const quotaError = h('p', { class: 'form-error', role: 'alert', tabindex: -1 });
    const quotaForm = h('form', { class: 'form-grid', novalidate: true, onsubmit: event => send(event, quotaForm, quotaError, 'PATCH',
      `${tenantPath(id)}/quota`, () => jsonObject(quotaFields.map(([name]) => [name, optional(quotaForm, name)])), 'Quota set') },
    quotaFields.map(([name, label]) => field('quota', name, label, { value: tenant.quota[name] })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Set quota')), quotaError);

    const keyError = h('p', { class: 'form-error', role: 'alert' });
    const keepOld = h('input', { type: 'checkbox', id: 'keep-old' });
    const keys = h('div', { class: 'form-grid' },
      h('p', {}, `Active keys: ${tenant.activeKeyIds.join(', ') || 'none'}`),
      h('div', { class: 'field field-checkbox' }, keepOld, h('label', { for: 'keep-old' }, 'Keep the old keys (issue a second key)')),
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', onclick: () => keyAction(keyError, async () => {
          showKey(await api(`${tenantPath(id)}/keys`, { method: 'POST', body: jsonObject([['keepOld', keepOld.checked ? 'true' : 'false']]), signal }), 'Rotated key');
        }) }, 'Rotate key'),
        h('button', { type: 'button', class: 'danger', onclick: () => keyAction(keyError, async () => {
          if (!confirm(`Revoke every key of tenant ${id}? Its clients stop working.`)) return;
          const { revoked } = await api(`${tenantPath(id)}/keys`, { method: 'DELETE', signal });
          announce(`${revoked} key(s) of ${id} revoked`);
        }) }, 'Revoke all keys')),
      keyError);

    replace(editor, h('div', { class: 'card' },
      h('h3', { tabindex: -1, id: 'editor-heading' }, `Tenant ${id}`),
      usageView(tenant),
      weightForm, h('h4', {}, 'Quota'), quotaForm, h('h4', {}, 'Keys'), keys));
    editor.querySelector('#editor-heading').focus();
  }

  async function send(event, form, error, method, path, body, done) {
    event.preventDefault();
    clearErrors(form);
    error.textContent = '';
    try {
      await api(path, { method, body: body(), signal });
      announce(done);
      error.textContent = '';
      await reload();
    } catch (problem) {
      if (!signal.aborted) showProblem(form, problem, error);
    }
  }

  async function keyAction(error, action) {
    error.textContent = '';
    try {
      await action();
      await reload();
    } catch (problem) {
      if (!signal.aborted) error.textContent = problem.message;
    }
  }

  return { element, show };
}
