// Operators: the cluster (GET /v1/admin/cluster: silos, devices with their lease, queues) and the tenants. Every
// call is an admin route, so a tenant key gets the API's 403 and this page shows that problem instead.
import { api } from './api.js';
import { h, replace, table, formatTime, formatNumber } from './dom.js';
import { poll } from './jobs.js';
import { tenantsSection } from './admin-tenants.js';

const refreshMs = 3000;

export async function renderAdmin(main, signal) {
  // Both first reads before anything is drawn: a refusal becomes the whole view (app.js shows the problem).
  const [cluster, tenants] = await Promise.all([api('/v1/admin/cluster', { signal }), api('/v1/admin/tenants', { signal })]);
  const clusterBody = h('div');
  const tenantsPart = tenantsSection(signal);
  const updated = h('p', { class: 'muted small' });
  replace(main, h('h1', {}, 'Operators'),
    h('section', { 'aria-labelledby': 'cluster-heading' }, h('h2', { id: 'cluster-heading' }, 'Cluster'), clusterBody, updated),
    tenantsPart.element);
  tenantsPart.show(tenants.tenants);

  const utilisation = deviceUtilisation();
  const show = latest => {
    replace(clusterBody, clusterView(latest, utilisation(latest.scheduler.workers)));
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    return false;
  };
  show(cluster);
  poll(async () => show(await api('/v1/admin/cluster', { signal })), refreshMs, signal, updated);
}

/**
 * Utilisation per device: busy seconds gained between two reads over the time between them (the scheduler reports
 * cumulative busy time). Null until a device has been read twice.
 */
function deviceUtilisation() {
  const before = new Map();
  return workers => {
    const now = performance.now();
    const result = new Map();
    for (const worker of workers) {
      const previous = before.get(worker.workerId);
      if (previous && now > previous.at) {
        result.set(worker.workerId, Math.min(1, Math.max(0, (worker.busySeconds - previous.busySeconds) / ((now - previous.at) / 1000))));
      }
      before.set(worker.workerId, { busySeconds: worker.busySeconds, at: now });
    }
    return result;
  };
}

function clusterView(cluster, utilisation) {
  const scheduler = cluster.scheduler;
  const leaseOf = new Map(scheduler.leases.map(lease => [lease.workerId, lease]));
  const deepestQueue = Math.max(1, ...scheduler.tenants.map(t => t.queuedFrames));
  return [
    h('p', {}, `${cluster.silos.length} silo(s), ${scheduler.workers.length} device(s); leases: ${scheduler.leasesOutstanding} outstanding, ` +
      `${formatNumber(scheduler.leasesGranted)} granted, ${formatNumber(scheduler.leasesExpired)} expired.`),
    table('Silos', ['Silo', 'Address', 'Status'], cluster.silos.map(silo => [silo.name, silo.address, silo.status]), 'No active silos.'),
    table('Devices', ['Device', 'Silo', 'Utilisation', 'Current lease', 'Frames', 'Busy (s)', 'Model', 'Last seen', 'Last error'],
      scheduler.workers.map(worker => [
        worker.device,
        worker.siloName,
        utilisationCell(utilisation.get(worker.workerId)),
        leaseCell(leaseOf.get(worker.workerId)),
        formatNumber(worker.framesDone),
        formatNumber(worker.busySeconds, 1),
        worker.loadedModel ?? '–',
        formatTime(worker.lastSeen),
        worker.lastError ?? '–',
      ]), 'No devices have asked for work yet.'),
    table('Queue per tenant', ['Tenant', 'Queued frames', 'Items', 'Weight', 'Decayed usage'],
      scheduler.tenants.map(queue => [
        queue.tenant,
        h('span', { class: 'progress' },
          h('meter', { min: 0, max: deepestQueue, value: queue.queuedFrames, 'aria-label': `queued frames of ${queue.tenant}` }),
          h('span', {}, formatNumber(queue.queuedFrames))),
        formatNumber(queue.queuedItems),
        formatNumber(queue.weight, 2),
        formatNumber(queue.decayedUsage, 2),
      ]), 'Nothing is queued.'),
  ];
}

function utilisationCell(fraction) {
  if (fraction === undefined) return h('span', { class: 'muted' }, 'measuring…');
  const percent = Math.round(100 * fraction);
  return h('span', { class: 'progress' }, h('meter', { min: 0, max: 100, value: percent, 'aria-label': 'utilisation' }), h('span', {}, `${percent} %`));
}

function leaseCell(lease) {
  if (!lease) return h('span', { class: 'muted' }, 'idle');
  const jobs = lease.jobs.map(job => `${job.tenant}/${job.jobId} ×${job.frames}`).join(', ');
  return h('span', {}, jobs, h('br'), h('span', { class: 'muted small' }, `expires ${formatTime(lease.expiresAt)}`));
}
