// A job's page: live progress from GET /v1/jobs/{id}/events (read with fetch, resumed with Last-Event-ID), the
// newest frame, the frames, the video and the manifest once the job completed, and cancel.
import { api, apiBlob, serverSentEvents, ApiError, jobPath } from './api.js';
import { h, replace, jobProgress, stateBadge, rate, formatTime, formatDuration, formatNumber, announce } from './dom.js';
import { livePreview, frameGrid } from './frames.js';
import { problemView } from './forms.js';
import { sleep } from './jobs.js';

const gridRefreshMs = 2000;

export async function renderJob(main, jobId, signal) {
  let job = await api(jobPath(jobId), { signal });
  const preview = livePreview(jobId, signal);
  const grid = frameGrid(jobId, signal);
  const progress = h('div', { class: 'job-progress' });
  const facts = h('dl', { class: 'facts' });
  const connection = h('p', { class: 'muted small', id: 'stream-status', 'aria-live': 'polite' });
  const message = h('p', { class: 'form-error', role: 'alert' });
  // Made once and shown or hidden, never rebuilt: a status arriving must not take the focus off a button.
  const cancelButton = h('button', { type: 'button', class: 'danger', id: 'cancel-job', onclick: cancel }, 'Cancel job');
  const manifestButton = h('button', { type: 'button', id: 'download-manifest', onclick: downloadManifest }, 'Download manifest');
  const actions = h('div', { class: 'actions' }, cancelButton, manifestButton);
  const media = h('div', { class: 'video-body' }, h('p', { class: 'muted' },
    job.spec?.mp4 ? 'The MP4 is assembled when every frame is rendered.' : 'This job did not ask for an MP4.'));
  const badge = h('span');
  replace(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, '← Jobs')),
    h('div', { class: 'view-head' }, h('h1', {}, 'Job ', h('span', { class: 'mono' }, jobId)), badge),
    actions, message,
    h('div', { class: 'job-top' },
      h('section', { 'aria-labelledby': 'progress-heading', class: 'card' },
        h('h2', { id: 'progress-heading' }, 'Progress'), progress, facts, connection),
      h('section', { 'aria-labelledby': 'preview-heading', class: 'card' },
        h('h2', { id: 'preview-heading' }, 'Live preview'), preview.element),
      h('section', { 'aria-labelledby': 'video-heading', class: 'card' },
        h('h2', { id: 'video-heading' }, 'Video'), media)),
    grid.element,
    specDetails(job));

  let videoShown = false;
  let lastGridRefresh = 0;
  function update(latest) {
    job = latest;
    replace(badge, stateBadge(job.state));
    replace(progress, jobProgress(job), h('p', { class: 'frames-count' }, `${job.framesDone} of ${job.framesTotal} frames`));
    const { fps, eta } = rate(job);
    replace(facts, ...fact('Frames/s', fps === null ? '–' : formatNumber(fps, 1)),
      ...fact('ETA', job.isTerminal ? '–' : formatDuration(eta)),
      ...fact('Created', formatTime(job.createdAt)), ...fact('Started', formatTime(job.startedAt)),
      ...fact('Finished', job.isTerminal ? formatTime(job.completedAt) : '–'),
      ...fact('Device-seconds', formatNumber(job.deviceSeconds, 2)), ...fact('Retries', job.retries),
      ...fact('Coordinator silo', job.coordinatorSilo ?? '–'),
      job.error ? fact('Error', job.error) : null,
      job.warnings?.length ? fact('Warnings', job.warnings.join('; ')) : null);
    cancelButton.hidden = job.isTerminal;
    manifestButton.hidden = !job.links.manifest;
    preview.show(job);
    if (job.isTerminal || Date.now() - lastGridRefresh >= gridRefreshMs) {
      lastGridRefresh = Date.now();
      grid.refresh(job);
    }
    if (job.links.video && !videoShown) {
      videoShown = true;
      showVideo().catch(error => { if (!signal.aborted) replace(media, problemView(error)); });
    }
  }

  async function cancel() {
    cancelButton.disabled = true;
    message.textContent = '';
    try {
      update(await api(`${jobPath(jobId)}:cancel`, { method: 'POST', signal }));
      announce(`Job ${jobId} cancelled`);
    } catch (error) {
      if (signal.aborted) return;
      message.textContent = error instanceof ApiError ? `${error.problem.title}: ${error.message}` : String(error);
      cancelButton.disabled = false;
    }
  }

  async function downloadManifest() {
    const url = URL.createObjectURL(await apiBlob(job.links.manifest, { signal }));
    const link = h('a', { href: url, download: `${jobId}-manifest.json`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async function showVideo() {
    replace(media, h('p', { class: 'muted' }, 'Loading the MP4…'));
    const url = URL.createObjectURL(await apiBlob(job.links.video, { signal }));
    signal.addEventListener('abort', () => URL.revokeObjectURL(url));
    replace(media,
      h('video', { id: 'video', src: url, controls: true, preload: 'metadata', loop: true, width: 256, height: 256, 'aria-label': `Video of job ${jobId}` }));
  }

  update(job);
  if (!job.isTerminal) watch().catch(error => { if (!signal.aborted) connection.textContent = `Live updates stopped: ${error.message}`; });

  /** Follows the event stream to the terminal status, reconnecting (with Last-Event-ID) when it is cut. */
  async function watch() {
    let lastEventId = null, failures = 0;
    while (!signal.aborted && !job.isTerminal) {
      try {
        connection.textContent = 'Live: following the job’s events.';
        for await (const event of serverSentEvents(job.links.events, { signal, lastEventId })) {
          failures = 0;
          if (event.id) lastEventId = event.id;
          if (event.event === 'status') update(event.data);
          else if (event.event === 'unavailable') {
            connection.textContent = `The silo cut the stream (${event.data.reason}); reconnecting in ${event.data.retryAfterSeconds} s.`;
            await sleep(1000 * event.data.retryAfterSeconds, signal);
          } else if (event.event === 'error') {
            connection.textContent = `Live updates ended: ${event.data.detail}`;
            return;
          }
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.status < 500) throw error; // 401/404: reconnecting would not help
        failures++;
        connection.textContent = `Connection lost; reconnecting (attempt ${failures}).`;
        await sleep(Math.min(30_000, 500 * 2 ** failures), signal);
      }
    }
    if (job.isTerminal) {
      connection.textContent = `The job is ${job.state.toLowerCase()}.`;
      announce(`Job ${jobId} is ${job.state}`);
    }
  }
}

function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, String(value))];
}

function specDetails(job) {
  const spec = job.spec ?? {};
  const rows = [['Kind', spec.kind], ['Model', spec.modelId], ['Classes', (spec.classes ?? []).join(', ')], ['Frames', spec.frames],
    ['FPS', spec.fps], ['Size', spec.outputSize && `${spec.outputSize} px`], ['Steps', spec.steps], ['Seed', spec.seed],
    ['Priority', spec.priority], ['MP4', spec.mp4 ? 'yes' : 'no']];
  return h('details', { class: 'card' }, h('summary', {}, 'Spec'),
    h('dl', { class: 'facts' }, rows.map(([term, value]) => fact(term, value ?? '–'))));
}
