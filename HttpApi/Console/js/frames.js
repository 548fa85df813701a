// The job page's pictures: the live preview (the newest finished frame) and a paged grid of thumbnails. Images come
// through fetch() with the key (an <img src> cannot send it) and are shown from blob: URLs, released when replaced.
import { apiBlob, ApiError, jobPath } from './api.js';
import { h, replace } from './dom.js';

const pageSize = 24;
const thumbnailSize = 96;
const parallelLoads = 4;
// How far below the newest finished frame the preview looks when that one is not stored yet (items finish out of order).
const previewLookback = 8;

async function blobUrl(path, signal) {
  try {
    return URL.createObjectURL(await apiBlob(path, { signal }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null; // not rendered yet
    throw error;
  }
}

/** The preview: call show(job) on every status; it loads frame framesDone - 1 (or the nearest stored one below). */
export function livePreview(jobId, signal) {
  const image = h('img', { id: 'preview', alt: 'No frame rendered yet', width: 256, height: 256 });
  const caption = h('figcaption', {}, 'Waiting for the first frame…');
  const element = h('figure', { class: 'preview' }, image, caption);
  let shownIndex = -1, loading = false, wanted = null;
  signal.addEventListener('abort', () => { if (image.src) URL.revokeObjectURL(image.src); });

  async function load(job) {
    loading = true;
    try {
      const newest = job.framesDone - 1;
      for (let index = newest; index > shownIndex && index >= Math.max(0, newest - previewLookback); index--) {
        const url = await blobUrl(`${jobPath(jobId)}/frames/${index}`, signal);
        if (!url) continue;
        if (image.src) URL.revokeObjectURL(image.src);
        image.src = url;
        image.alt = `Frame ${index + 1} of ${job.framesTotal}, the newest finished`;
        caption.textContent = `Newest finished frame: ${index + 1} of ${job.framesTotal}`;
        shownIndex = index;
        break;
      }
    } finally {
      loading = false;
    }
    // Progress that arrived while loading: one more round for the latest of it.
    if (wanted && !signal.aborted) {
      const next = wanted;
      wanted = null;
      await load(next);
    }
  }

  return {
    element,
    show(job) {
      if (job.framesDone - 1 <= shownIndex) return;
      if (loading) wanted = job;
      else load(job).catch(() => {}); // a failed preview is not worth an error: the next status retries it
    },
  };
}

/** The thumbnail grid, a page of pageSize frames at a time; refresh(job) fills in tiles whose frames are now stored. */
export function frameGrid(jobId, signal) {
  let page = 0, job = null;
  let tiles = [];
  const grid = h('ol', { class: 'frames', id: 'frames', 'aria-label': 'Frames' });
  const status = h('span', { class: 'pager-status', 'aria-live': 'polite' });
  const previous = h('button', { type: 'button', 'aria-controls': 'frames', onclick: () => go(page - 1) }, '← Previous');
  const next = h('button', { type: 'button', 'aria-controls': 'frames', onclick: () => go(page + 1) }, 'Next →');
  const element = h('section', { 'aria-labelledby': 'frames-heading' },
    h('h2', { id: 'frames-heading' }, 'Frames'),
    h('div', { class: 'pager' }, previous, status, next),
    grid);
  signal.addEventListener('abort', release);

  function release() {
    for (const tile of tiles) if (tile.url) URL.revokeObjectURL(tile.url);
  }

  function pages() { return Math.max(1, Math.ceil(job.framesTotal / pageSize)); }

  function go(target) {
    page = Math.min(Math.max(0, target), pages() - 1);
    release();
    const first = page * pageSize;
    const count = Math.min(pageSize, job.framesTotal - first);
    tiles = Array.from({ length: count }, (_, i) => {
      const index = first + i;
      const placeholder = h('span', { class: 'frame-missing' }, 'not rendered');
      const figure = h('figure', {}, placeholder, h('figcaption', {}, `#${index}`));
      return { index, figure, placeholder, url: null, loading: false };
    });
    replace(grid, tiles.map(tile => h('li', {}, tile.figure)));
    status.textContent = `Frames ${first + 1}–${first + count} of ${job.framesTotal} (page ${page + 1} of ${pages()})`;
    previous.disabled = page === 0;
    next.disabled = page >= pages() - 1;
    fill();
  }

  async function fill() {
    // Only frames the job may have stored; the rest stay placeholders until a later status.
    const queue = tiles.filter(tile => !tile.url && !tile.loading && tile.index < job.framesDone);
    const worker = async () => {
      for (let tile = queue.shift(); tile && !signal.aborted; tile = queue.shift()) {
        tile.loading = true;
        try {
          const url = await blobUrl(`${jobPath(jobId)}/frames/${tile.index}/thumbnail?size=${thumbnailSize}`, signal);
          if (url && tiles.includes(tile)) {
            tile.url = url;
            tile.placeholder.replaceWith(h('img', { src: url, alt: `Frame ${tile.index}`, width: thumbnailSize, height: thumbnailSize, loading: 'lazy' }));
          } else if (url) URL.revokeObjectURL(url);
        } catch { /* left as a placeholder; the next refresh tries again */ }
        finally { tile.loading = false; }
      }
    };
    await Promise.all(Array.from({ length: parallelLoads }, worker));
  }

  return {
    element,
    refresh(latest) {
      const first = job === null;
      job = latest;
      if (first) go(0);
      else fill();
    },
  };
}
