// The console's shell: sign-in, navigation and a router over the URL fragment (#/jobs, #/jobs/{id}, ...).
// A view is render(main, params, signal); leaving it aborts the signal, which stops its polling and event streams.
import { api, session, onUnauthorized, ApiError } from './api.js';
import { h, replace, announce } from './dom.js';
import { renderJobs } from './jobs.js';
import { renderJob } from './job.js';
import { renderSubmit } from './submit.js';
import { renderUsage } from './usage.js';
import { renderAdmin } from './admin.js';
import { problemView } from './forms.js';

const main = document.getElementById('main');
let current = null;
let principal = null;

const routes = [
  { pattern: /^\/jobs\/([^/?]+)$/, view: 'jobs', render: (m, p, s) => renderJob(m, decodeURIComponent(p[1]), s) },
  { pattern: /^\/jobs(?:\?(.*))?$/, view: 'jobs', render: (m, p, s) => renderJobs(m, new URLSearchParams(p[1] ?? ''), s) },
  { pattern: /^\/submit$/, view: 'submit', render: (m, p, s) => renderSubmit(m, s) },
  { pattern: /^\/usage$/, view: 'usage', render: (m, p, s) => renderUsage(m, s) },
  { pattern: /^\/admin$/, view: 'admin', render: (m, p, s) => renderAdmin(m, s) },
];

async function route() {
  current?.abort();
  current = new AbortController();
  const signal = current.signal;
  if (!session.key) return showSignIn();
  if (!principal) {
    try {
      principal = await whoAmI(signal);
    } catch (error) {
      if (signal.aborted) return;
      return error instanceof ApiError && error.status === 401 ? signOut(error) : replace(main, problemView(error));
    }
  }
  showSignedIn();
  const path = location.hash.replace(/^#/, '') || '/jobs';
  const match = routes.map(r => ({ r, m: r.pattern.exec(path) })).find(x => x.m);
  if (!match) {
    location.replace('#/jobs');
    return;
  }
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.view === match.r.view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  replace(main);
  try {
    await match.r.render(main, match.m, signal);
  } catch (error) {
    if (!signal.aborted) replace(main, problemView(error));
    return;
  }
  // Keyboard and screen-reader users start at the new view's heading, as after a page load.
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
    announce(heading.textContent);
  }
}

/** The key's tenant and role, from /v1/usage (every valid key may read its own tenant). */
async function whoAmI(signal) {
  const tenant = await api('/v1/usage', { signal });
  return { tenant: tenant.id, isAdmin: tenant.isAdmin };
}

function showSignIn(message) {
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  const input = h('input', { id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'api-key-help sign-in-error' });
  const error = h('p', { id: 'sign-in-error', class: 'field-error', role: 'alert' }, message ?? '');
  const form = h('form', { class: 'card sign-in', novalidate: true, onsubmit: async event => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      error.textContent = 'Enter an API key.';
      input.focus();
      return;
    }
    session.signIn(key);
    input.value = '';
    principal = null;
    await route();
    if (!session.key) document.getElementById('api-key')?.focus();
  } },
  h('h1', {}, 'Sign in'),
  h('label', { for: 'api-key' }, 'API key'),
  input,
  h('p', { id: 'api-key-help', class: 'hint' },
    'A key scm_… from your operator or `scmctl tenant create`. It is kept in this browser tab only and sent to the API as the Authorization header.'),
  error,
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  replace(main, form);
  input.focus();
}

function showSignedIn() {
  document.getElementById('nav').hidden = false;
  document.getElementById('who').hidden = false;
  document.getElementById('nav-admin').hidden = !principal.isAdmin;
  document.getElementById('who-name').textContent = `tenant ${principal.tenant}${principal.isAdmin ? ' (admin)' : ''}`;
}

function signOut(error) {
  session.signOut();
  principal = null;
  current?.abort();
  showSignIn(error ? `${error.problem.title}: ${error.message}` : 'Signed out.');
}

document.getElementById('sign-out').addEventListener('click', () => signOut());
// A key revoked or rotated away while the console is open: back to sign-in, saying why.
onUnauthorized(error => { if (session.key) signOut(error); });
window.addEventListener('hashchange', route);
route();
