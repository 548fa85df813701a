// Usage: the caller's tenant (GET /v1/usage): each quota with what is used of it, as bars; refreshed while shown.
import { api } from './api.js';
import { h, replace, bar, formatNumber } from './dom.js';
import { poll } from './jobs.js';

const refreshMs = 5000;

export async function renderUsage(main, signal) {
  const body = h('div');
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const refresh = async () => {
    replace(body, usageView(await api('/v1/usage', { signal })));
    status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    return false;
  };
  await refresh();
  replace(main, h('h1', {}, 'Usage'), body, status);
  poll(refresh, refreshMs, signal, status);
}

/** Bars for the four metered quotas, then the per-job limits and lifetime totals (shared with the operators' page). */
export function usageView(tenant) {
  const { quota, usage } = tenant;
  return h('div', { class: 'usage' },
    h('p', {}, `Tenant ${tenant.id}`, tenant.isAdmin ? ' (admin)' : '', `, weight ${formatNumber(tenant.weight, 2)}, `,
      `${tenant.activeKeyIds.length} active key(s)`),
    h('section', { class: 'card bars', 'aria-label': 'Quotas and current usage' },
      bar('Running jobs', usage.runningJobs, quota.maxRunningJobs),
      bar('Queued frames', usage.queuedFrames, quota.maxQueuedFrames),
      // The two rolling 24 h quotas take 0 for unlimited.
      bar('Device-seconds, last 24 h', usage.deviceSeconds24h, quota.deviceSecondsPerDay || null, v => formatNumber(v, 1)),
      bar('Frames, last 24 h', usage.frames24h, quota.framesPerDay || null)),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Per job'), h('dd', {}, `at most ${formatNumber(quota.maxFramesPerJob)} frames of at most ${quota.maxOutputSize} px`),
      h('dt', {}, 'Since the tenant was created'),
      h('dd', {}, `${formatNumber(usage.jobsSubmitted)} jobs, ${formatNumber(usage.framesRendered)} frames, ` +
        `${formatNumber(usage.deviceSecondsTotal, 1)} device-seconds; ${formatNumber(usage.jobsRejected)} submits rejected`)));
}
