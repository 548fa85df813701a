// Submit: a job spec form posted to POST /v1/jobs. The API is the only judge of the values (the form sets no
// min/max of its own), and its problem document is shown field by field.
import { api } from './api.js';
import { h, replace, announce } from './dom.js';
import { field, showProblem, clearErrors, jsonList, jsonObject, optional } from './forms.js';

export async function renderSubmit(main, signal) {
  const formError = h('p', { id: 'submit-error', class: 'form-error', role: 'alert', tabindex: -1 });
  const submitButton = h('button', { type: 'submit', class: 'primary', id: 'submit-job' }, 'Submit job');
  const form = h('form', { id: 'submit-form', class: 'card form-grid', novalidate: true, onsubmit: submit },
    field('job', 'kind', 'Kind', { kind: 'select', value: 'Video', options: ['Video', 'ImageSet'],
      hint: 'Video: a morph through the keyframe classes. ImageSet: independent images, classes cycled.' }),
    field('job', 'classes', 'Keyframe classes', { kind: 'text', value: '3, 7', hint: 'Digits 0–9, comma-separated, in order.' }),
    field('job', 'frames', 'Frames', { value: '48' }),
    field('job', 'fps', 'Frames per second', { value: '12', hint: 'Of the MP4.' }),
    field('job', 'outputSize', 'Size (px)', { value: '64', hint: 'Side of the square frames.' }),
    field('job', 'steps', 'Steps', { value: '2', hint: 'Consistency steps: 1 is fastest, 2 is the default.' }),
    field('job', 'seed', 'Seed', { value: '', hint: 'Empty: 0. The same seed gives the same frames.' }),
    field('job', 'priority', 'Priority', { value: '', hint: 'Higher runs first among your own jobs.' }),
    field('job', 'modelId', 'Model', { kind: 'text', value: '', hint: 'Empty: the cluster’s default model.' }),
    field('job', 'jobId', 'Job id', { kind: 'text', value: '', hint: 'Optional; 1–64 of A–Z a–z 0–9 - _. Empty: the silo picks one.' }),
    field('job', 'mp4', 'Assemble an MP4', { kind: 'checkbox', value: true }),
    h('div', { class: 'form-actions' }, submitButton),
    formError);
  replace(main, h('h1', {}, 'Submit a job'), form);

  async function submit(event) {
    event.preventDefault();
    clearErrors(form);
    formError.textContent = '';
    const body = jsonObject([
      ['kind', JSON.stringify(form.elements.kind.value)],
      ['classes', jsonList(form.elements.classes.value)],
      ['frames', optional(form, 'frames')],
      ['fps', optional(form, 'fps')],
      ['outputSize', optional(form, 'outputSize')],
      ['steps', optional(form, 'steps')],
      ['seed', optional(form, 'seed')],
      ['priority', optional(form, 'priority')],
      ['modelId', optional(form, 'modelId')],
      ['mp4', form.elements.mp4.checked ? 'true' : 'false'],
    ]);
    const jobId = form.elements.jobId.value.trim();
    submitButton.disabled = true;
    try {
      const job = await api(`/v1/jobs${jobId ? `?jobId=${encodeURIComponent(jobId)}` : ''}`, { method: 'POST', body, signal });
      announce(`Job ${job.jobId} submitted`);
      location.hash = `#/jobs/${encodeURIComponent(job.jobId)}`;
    } catch (error) {
      if (signal.aborted) return;
      // A job id the API refuses comes back under "jobId" like any spec field.
      showProblem(form, error, formError);
    } finally {
      submitButton.disabled = false;
    }
  }
}
