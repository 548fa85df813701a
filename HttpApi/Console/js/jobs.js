// Jobs: the tenant's jobs (GET /v1/jobs), newest first, filtered by state, refreshed while any is unfinished.
import { api } from './api.js';
import { h, replace, table, jobProgress, stateBadge, rate, formatTime, formatDuration, formatNumber } from './dom.js';

const states = ['Queued', 'Running', 'Finalizing', 'Completed', 'Failed', 'Cancelled'];
const refreshMs = 2000;

export async function renderJobs(main, query, signal) {
  const state = states.includes(query.get('state')) ? query.get('state') : '';
  const filter = h('select', { id: 'state-filter', name: 'state', onchange: event => {
    location.hash = event.target.value ? `#/jobs?state=${encodeURIComponent(event.target.value)}` : '#/jobs';
  } }, h('option', { value: '' }, 'All states'), states.map(s => h('option', { value: s, selected: s === state }, s)));
  const list = h('div', { id: 'jobs-list', 'aria-live': 'off' });
  const updated = h('p', { class: 'muted small' });
  replace(main,
    h('div', { class: 'view-head' },
      h('h1', {}, 'Jobs'),
      h('a', { class: 'button primary', href: '#/submit' }, 'Submit a job')),
    h('div', { class: 'toolbar' }, h('label', { for: 'state-filter' }, 'State'), filter),
    list, updated);

  let shownBefore = null;
  const refresh = async () => {
    const jobs = [];
    let after = null;
    do { // a page at a time (the API bounds each); the view shows them all
      const page = await api(`/v1/jobs?limit=1000${after === null ? '' : `&after=${encodeURIComponent(after)}`}`, { signal });
      jobs.push(...page.jobs);
      after = page.next;
    } while (after);
    const shown = jobs.filter(job => !state || job.state === state).reverse();
    // Rebuilt only when something changed, so a refresh does not take the keyboard focus away from a link.
    const signature = JSON.stringify(shown.map(job => [job.jobId, job.state, job.framesDone]));
    if (signature !== shownBefore) replace(list, table(state ? `${state} jobs` : 'All jobs', ['Job', 'Kind', 'State', 'Progress', 'Frames', 'Frames/s', 'ETA', 'Created', 'Finished'],
      shown.map(row), state ? `No ${state.toLowerCase()} jobs.` : 'No jobs yet. Submit one to start.'));
    shownBefore = signature;
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    return jobs.every(job => job.isTerminal);
  };
  // The first read is the view (a refusal becomes its error page); later ones refresh it in the background.
  if (await refresh()) return;
  poll(refresh, refreshMs, signal, updated);
}

/**
 * Calls refresh every ms until it returns true or the view is left. A failed refresh is shown in the status line
 * and retried: the view stays usable when the silo is briefly unreachable.
 */
export async function poll(refresh, ms, signal, statusLine) {
  while (!signal.aborted) {
    await sleep(ms, signal);
    if (signal.aborted) return;
    try {
      if (await refresh()) return;
    } catch (error) {
      if (!signal.aborted) statusLine.textContent = `Not refreshed (${error.message}); retrying.`;
    }
  }
}

function row(job) {
  const { fps, eta } = rate(job);
  return [
    h('a', { href: `#/jobs/${encodeURIComponent(job.jobId)}`, class: 'job-link' }, job.jobId),
    job.spec?.kind ?? '–',
    stateBadge(job.state),
    jobProgress(job),
    `${job.framesDone} / ${job.framesTotal}`,
    fps === null ? '–' : formatNumber(fps, 1),
    job.isTerminal ? '–' : formatDuration(eta),
    formatTime(job.createdAt),
    job.isTerminal ? formatTime(job.completedAt) : '–',
  ];
}

/** Resolves after ms, or at once when the view is left (the caller then sees signal.aborted). */
export function sleep(ms, signal) {
  return new Promise(resolve => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
