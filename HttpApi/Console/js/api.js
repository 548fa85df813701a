// The console's only way to data: fetch() to the silo's /v1 routes with the API key in the Authorization header.
// The key lives in this tab's sessionStorage (gone when the tab closes), never in a URL, a cookie or the origin's persistent storage.

const keyName = 'scm.apiKey';

export const session = {
  get key() { return sessionStorage.getItem(keyName); },
  signIn(key) { sessionStorage.setItem(keyName, key); },
  signOut() { sessionStorage.removeItem(keyName); },
};

/** A refused request: the HTTP status and the API's RFC 7807 problem document (or a stand-in for a bare status). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** The validation messages of one field ("frames" → ["frames: must be in [1, 10000], got 0"]). */
  fieldErrors() { return this.problem.errors ?? {}; }
}

function headers(extra = {}) {
  const all = { ...extra };
  if (session.key) all.Authorization = `Bearer ${session.key}`;
  return all;
}

async function problemOf(response) {
  const type = response.headers.get('Content-Type') ?? '';
  if (type.includes('json')) {
    try { return await response.json(); } catch { /* fall through to the status line */ }
  }
  return { status: response.status, title: response.statusText || `HTTP ${response.status}` };
}

/** Listeners for a key the API stopped accepting (401): the app signs out and shows why. */
const unauthorizedListeners = new Set();
export function onUnauthorized(listener) { unauthorizedListeners.add(listener); }

async function send(path, { method = 'GET', body, signal, accept = 'application/json', cache } = {}) {
  const init = { method, signal, headers: headers({ Accept: accept }), cache, credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const error = new ApiError(response.status, await problemOf(response));
    if (response.status === 401) unauthorizedListeners.forEach(listener => listener(error));
    throw error;
  }
  return response;
}

/** JSON in, JSON out; throws ApiError with the problem document for any 4xx/5xx. */
export async function api(path, options) {
  const response = await send(path, options);
  return response.status === 204 ? null : response.json();
}

/** Bytes as a Blob (frames, thumbnails, the video, the manifest); the browser's cache revalidates by ETag. */
export async function apiBlob(path, { signal } = {}) {
  const response = await send(path, { signal, accept: '*/*', cache: 'no-cache' });
  return response.blob();
}

/**
 * The job's server-sent events, read with fetch() because EventSource cannot send the Authorization header.
 * Yields { event, id, data } until the server ends the stream. Resumes are the caller's: pass the last id seen.
 */
export async function* serverSentEvents(path, { signal, lastEventId } = {}) {
  const extra = { Accept: 'text/event-stream' };
  if (lastEventId) extra['Last-Event-ID'] = lastEventId;
  const response = await fetch(path, { signal, headers: headers(extra), cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
  if (!response.ok) {
    const error = new ApiError(response.status, await problemOf(response));
    if (response.status === 401) unauthorizedListeners.forEach(listener => listener(error));
    throw error;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { event: 'message', id: null, data: [] };
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      // Lines end in \n, \r\n or \r (the SSE grammar); a trailing \r may be half of a \r\n still to come.
      let match;
      while ((match = /\r\n|\n|\r(?!$)/.exec(buffer)) !== null) {
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === '') {
          if (event.data.length > 0) yield { event: event.event, id: event.id, data: JSON.parse(event.data.join('\n')) };
          event = { event: 'message', id: null, data: [] };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = text;
        else if (field === 'id') event.id = text;
        else if (field === 'data') event.data.push(text);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

export const jobPath = id => `/v1/jobs/${encodeURIComponent(id)}`;
export const tenantPath = tenant => `/v1/admin/tenants/${encodeURIComponent(tenant)}`;
