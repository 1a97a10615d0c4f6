// pixd's page: live camera tiles, the image store, and a resize form.
// Plain JavaScript with no build step and nothing fetched from elsewhere;
// every request goes to the pixd that served the page (/api/v1/...).
'use strict';

(() => {
  const API = '/api/v1';
  const CAMERA_POLL_MS = 2000;
  const GALLERY_POLL_MS = 10000;
  // A browser keeps about six connections per server, and every live
  // MJPEG stream holds one: past this many, tiles show snapshots instead
  // so the page's other requests still get through.
  const MAX_LIVE = 4;
  // Stream widths are picked from a few steps: pixd resizes once per
  // distinct width, so viewers of one size share the work.
  const STREAM_WIDTHS = [320, 640, 960, 1280, 1920];
  const THUMB_WIDTH = 160;
  const IMAGE_TYPES = new Set(['jpeg', 'jpg', 'png', 'webp', 'gif', 'bmp', 'tiff']);

  const $ = (id) => document.getElementById(id);

  // el('div', {className: 'x', onclick: f}, child, 'text', ...)
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k in e) e[k] = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c !== null && c !== undefined) e.append(c);
    }
    return e;
  }

  function fmtBytes(n) {
    if (!Number.isFinite(n)) return '';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }

  // The message of pixd's JSON error body, or the status line.
  function errorMessage(status, statusText, body) {
    try {
      const j = JSON.parse(body);
      if (j && j.message) return j.message;
    } catch (e) {
      // not JSON: fall through
    }
    return status ? `${status} ${statusText || ''}`.trim() : 'network error';
  }

  const enc = encodeURIComponent;

  // ---- access key ----
  // With --keys pixd answers 401 without a key. The page asks once and
  // keeps it for this tab (sessionStorage); requests send it as a bearer
  // token, and a cookie carries it for <img> streams, snapshots and
  // thumbnails, which cannot send headers (pixd takes the cookie on reads
  // only).
  const KEY_ITEM = 'pixd-key';
  let keyDeclined = false;
  const storedKey = () => sessionStorage.getItem(KEY_ITEM) || '';
  function setKeyCookie(k) {
    document.cookie = `pixd_key=${enc(k)}; path=/; SameSite=Strict`;
  }
  if (storedKey()) setKeyCookie(storedKey());

  function withKey(headers) {
    const k = storedKey();
    return k ? { ...(headers || {}), Authorization: `Bearer ${k}` } : headers || {};
  }

  // After a 401: ask for a key (once, unless the one given was refused).
  function askKey() {
    if (keyDeclined) return false;
    const k = window.prompt('This pixd needs an access key (NAME:SECRET):', '');
    if (!k || !k.includes(':')) {
      keyDeclined = true;
      return false;
    }
    sessionStorage.setItem(KEY_ITEM, k.trim());
    setKeyCookie(k.trim());
    return true;
  }

  async function apiFetch(url, opts) {
    const o = opts || {};
    let r = await fetch(url, { ...o, headers: withKey(o.headers) });
    if (r.status === 401 && askKey()) r = await fetch(url, { ...o, headers: withKey(o.headers) });
    return r;
  }

  function keyXhr(xhr) {
    const k = storedKey();
    if (k) xhr.setRequestHeader('Authorization', `Bearer ${k}`);
  }

  // ---- connection state ----

  const conn = $('conn');
  function setConnected(ok) {
    conn.textContent = ok ? 'connected' : 'pixd unreachable';
    conn.classList.toggle('bad', !ok);
  }

  // ---- cameras ----

  const grid = $('camera-grid');
  const tiles = new Map(); // name -> tile
  let snapshotTick = 0;

  const observer = 'IntersectionObserver' in window
    ? new IntersectionObserver((entries) => {
      for (const en of entries) {
        const t = en.target.tile;
        if (t) t.visible = en.isIntersecting;
      }
      updateLive();
    }, { rootMargin: '100px' })
    : null;

  function newTile(cam) {
    const img = el('img', { alt: `Camera ${cam.name}`, decoding: 'async' });
    const badge = el('span', { className: 'badge' });
    const nameEl = el('span', { className: 'name' }, cam.name);
    const meta = el('span', { className: 'meta' });
    const view = el('div', { className: 'view' }, img, badge);
    const fig = el('figure', { className: 'tile', title: 'Click to enlarge', dataset: { camera: cam.name } },
      view, el('figcaption', {}, nameEl, meta));
    const t = { cam, fig, view, img, badge, meta, url: '', visible: !observer, failed: false, wide: false };
    fig.tile = t;
    img.addEventListener('error', () => {
      // The stream broke (pixd restarted, network): retried on the next poll.
      if (t.url) t.failed = true;
    });
    fig.addEventListener('click', () => {
      t.wide = !t.wide;
      fig.classList.toggle('wide', t.wide);
      fig.title = t.wide ? 'Click to shrink' : 'Click to enlarge';
      requestAnimationFrame(updateLive);
    });
    if (observer) observer.observe(fig);
    return t;
  }

  function streamWidth(t) {
    const need = (t.view.clientWidth || 320) * (window.devicePixelRatio || 1);
    const w = STREAM_WIDTHS.find((x) => x >= need) || 0;
    // At or past the camera's own size, ask for the original: no resize.
    if (t.cam.width && (w === 0 || w >= t.cam.width)) return 0;
    return w;
  }

  function setSource(t, url) {
    if (t.url === url && !t.failed) return;
    t.url = url;
    t.failed = false;
    // Removing src is what makes Chrome close an MJPEG stream; a detached
    // or hidden <img> goes on streaming.
    if (url) t.img.src = url;
    else t.img.removeAttribute('src');
  }

  // Decide which tiles stream live: visible ones, while the page is shown,
  // at most MAX_LIVE; other visible tiles show a snapshot per poll.
  function updateLive(refreshSnapshots) {
    let live = 0;
    for (const t of tiles.values()) {
      const camPath = `${API}/cameras/${enc(t.cam.name)}`;
      const w = streamWidth(t);
      const show = !document.hidden && t.visible && t.cam.state !== 'offline';
      if (show && live < MAX_LIVE) {
        live++;
        setSource(t, `${camPath}/stream${w ? `?width=${w}` : ''}`);
        t.badge.textContent = 'live';
        t.badge.className = 'badge live';
      } else if (show) {
        if (refreshSnapshots || !t.url.includes('/snapshot')) {
          const q = new URLSearchParams();
          if (w) q.set('width', w);
          q.set('t', String(++snapshotTick)); // a new URL: the browser fetches again
          setSource(t, `${camPath}/snapshot?${q}`);
        }
        t.badge.textContent = 'snapshot';
        t.badge.className = 'badge';
      } else {
        // Offscreen, hidden or offline: close the stream, free the connection.
        setSource(t, '');
        t.badge.textContent = t.cam.state === 'offline' ? 'offline' : 'paused';
        t.badge.className = 'badge';
      }
    }
  }

  function describe(cam) {
    if (cam.state === 'offline') return 'offline';
    if (!cam.width) return cam.state === 'starting' ? 'starting…' : '';
    const fps = Number(cam.fps) || 0;
    return `${cam.width}×${cam.height} · ${fps.toFixed(1)} fps`;
  }

  // Put node at index i of parent, moving it only if it is elsewhere (a
  // moved <img> would restart its stream, a moved card its thumbnail).
  function placeAt(parent, node, i) {
    const at = parent.children[i] || null;
    if (at !== node) parent.insertBefore(node, at);
  }

  function renderCameras(cams) {
    cams.sort((a, b) => a.name.localeCompare(b.name));
    const names = new Set(cams.map((c) => c.name));
    for (const [name, t] of tiles) {
      if (!names.has(name)) {
        if (observer) observer.unobserve(t.fig);
        t.img.removeAttribute('src');
        t.fig.remove();
        tiles.delete(name);
      }
    }
    cams.forEach((cam, i) => {
      let t = tiles.get(cam.name);
      if (!t) {
        t = newTile(cam);
        tiles.set(cam.name, t);
      } else if (cam.frames < t.cam.frames || (t.cam.state === 'offline' && cam.state !== 'offline')) {
        // A camera by the same name came back (pushed again, replugged):
        // the old stream has ended, so start a new one.
        t.failed = true;
      }
      t.cam = cam;
      t.fig.classList.toggle('offline', cam.state === 'offline');
      t.meta.textContent = describe(cam);
      placeAt(grid, t.fig, i); // name order
    });
    $('cameras-empty').hidden = cams.length > 0;
    updateLive(true);
  }

  async function pollCameras() {
    try {
      const r = await apiFetch(`${API}/cameras`, { cache: 'no-store' });
      if (!r.ok) throw new Error(`cameras: ${r.status}`);
      renderCameras(await r.json());
      setConnected(true);
    } catch (e) {
      setConnected(false);
    } finally {
      setTimeout(pollCameras, CAMERA_POLL_MS);
    }
  }

  document.addEventListener('visibilitychange', () => updateLive(false));
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => updateLive(false), 300);
  });

  // ---- gallery ----

  const gallery = $('gallery');
  const cards = new Map(); // name -> {fig, version}

  function imagePath(name) {
    return `${API}/images/${enc(name)}`;
  }

  function isImage(e) {
    return IMAGE_TYPES.has(String(e.type || '').toLowerCase()) || e.width > 0;
  }

  function newCard(e) {
    const path = imagePath(e.name);
    let thumb;
    if (isImage(e)) {
      const img = el('img', {
        alt: e.name,
        loading: 'lazy',
        decoding: 'async',
        src: `${path}?width=${THUMB_WIDTH}`,
      });
      img.srcset = `${path}?width=${THUMB_WIDTH} 1x, ${path}?width=${THUMB_WIDTH * 2} 2x`;
      thumb = el('a', { className: 'thumb', href: path, target: '_blank', rel: 'noopener' }, img);
    } else {
      thumb = el('a', { className: 'thumb', href: path, download: e.name }, e.type || 'file');
    }
    const meta = [];
    if (e.width && e.height) meta.push(`${e.width}×${e.height}`);
    if (Number.isFinite(e.size)) meta.push(fmtBytes(e.size));
    const metaEl = el('div', { className: 'meta' }, meta.join(' · '));
    const del = el('button', { type: 'button', className: 'danger' }, 'Delete');
    let armTimer = 0;
    del.addEventListener('click', async () => {
      // Two taps, no dialog: works the same on a phone.
      if (!del.classList.contains('armed')) {
        del.classList.add('armed');
        del.textContent = 'Sure?';
        armTimer = setTimeout(() => {
          del.classList.remove('armed');
          del.textContent = 'Delete';
        }, 3000);
        return;
      }
      clearTimeout(armTimer);
      del.disabled = true;
      try {
        const r = await apiFetch(path, { method: 'DELETE' });
        if (!r.ok && r.status !== 404) throw new Error(errorMessage(r.status, r.statusText, await r.text()));
        fig.remove();
        cards.delete(e.name);
        $('gallery-empty').hidden = cards.size > 0;
      } catch (err) {
        metaEl.textContent = `delete failed: ${err.message}`;
        metaEl.classList.add('error');
        del.disabled = false;
        del.classList.remove('armed');
        del.textContent = 'Delete';
      }
    });
    const fig = el('figure', { className: 'card', dataset: { image: e.name } },
      thumb,
      el('figcaption', {}, el('div', { className: 'name' }, e.name), metaEl),
      el('div', { className: 'actions' },
        el('a', { className: 'button', href: path, download: e.name }, 'Download'),
        del));
    return fig;
  }

  function renderGallery(list) {
    const time = (e) => Number(e.mtime_ms ?? e.mtime ?? 0);
    list.sort((a, b) => time(b) - time(a) || a.name.localeCompare(b.name));
    const names = new Set(list.map((e) => e.name));
    for (const [name, c] of cards) {
      if (!names.has(name)) {
        c.fig.remove();
        cards.delete(name);
      }
    }
    list.forEach((e, i) => {
      const version = `${e.sha256 || ''}/${e.size}/${time(e)}`;
      let c = cards.get(e.name);
      if (!c || c.version !== version) {
        const fig = newCard(e);
        if (c) c.fig.replaceWith(fig);
        c = { fig, version };
        cards.set(e.name, c);
      }
      placeAt(gallery, c.fig, i); // newest first
    });
    $('gallery-empty').hidden = list.length > 0;
  }

  let galleryTimer = 0;
  async function loadGallery() {
    clearTimeout(galleryTimer);
    try {
      const r = await apiFetch(`${API}/images`, { cache: 'no-store' });
      if (!r.ok) throw new Error(`images: ${r.status}`);
      const j = await r.json();
      renderGallery(Array.isArray(j) ? j : (j.images || []));
    } catch (e) {
      // The connection state shows the problem; try again later.
    } finally {
      galleryTimer = setTimeout(loadGallery, GALLERY_POLL_MS);
    }
  }

  // ---- upload ----

  const uploads = $('uploads');
  const queue = [];
  let uploading = false;

  function uploadFiles(files) {
    for (const f of files) {
      const status = el('span', {}, 'waiting');
      const bar = el('progress', { max: 1, value: 0 });
      const li = el('li', {}, el('span', { className: 'name' }, f.name), status, bar);
      uploads.prepend(li);
      queue.push({ file: f, li, status, bar });
    }
    pump();
  }

  // One upload at a time: the store writes one file well, and a phone's
  // uplink is no faster with several.
  function pump() {
    if (uploading || queue.length === 0) return;
    uploading = true;
    const u = queue.shift();
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', imagePath(u.file.name));
    keyXhr(xhr);
    xhr.setRequestHeader('Content-Type', u.file.type || 'application/octet-stream');
    u.status.textContent = `0 / ${fmtBytes(u.file.size)}`;
    xhr.upload.addEventListener('progress', (ev) => {
      if (!ev.lengthComputable) return;
      u.bar.value = ev.total ? ev.loaded / ev.total : 1;
      u.status.textContent = `${fmtBytes(ev.loaded)} / ${fmtBytes(ev.total)}`;
    });
    const done = (ok, text) => {
      u.bar.value = ok ? 1 : u.bar.value;
      u.status.textContent = text;
      u.status.className = ok ? 'done' : 'failed';
      uploading = false;
      if (ok) setTimeout(() => u.li.remove(), 4000);
      loadGallery();
      pump();
    };
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) done(true, 'stored');
      else done(false, errorMessage(xhr.status, xhr.statusText, xhr.responseText));
    });
    xhr.addEventListener('error', () => done(false, 'network error'));
    xhr.addEventListener('abort', () => done(false, 'cancelled'));
    xhr.send(u.file);
  }

  const input = $('upload-input');
  input.addEventListener('change', () => {
    if (input.files.length) uploadFiles(Array.from(input.files));
    input.value = ''; // choosing the same file again fires change again
  });

  const drop = $('drop');
  const hasFiles = (ev) => ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files');
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (ev) => {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      ev.dataTransfer.dropEffect = 'copy';
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', (ev) => {
    if (!drop.contains(ev.relatedTarget)) drop.classList.remove('over');
  });
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    if (ev.dataTransfer.files.length) uploadFiles(Array.from(ev.dataTransfer.files));
  });
  // A file dropped beside the drop zone must not make the browser leave
  // the page to show it (file inputs still take drops themselves).
  for (const type of ['dragover', 'drop']) {
    document.addEventListener(type, (ev) => {
      if (hasFiles(ev) && !(ev.target instanceof HTMLInputElement && ev.target.type === 'file')) {
        ev.preventDefault();
      }
    });
  }

  // ---- resize ----

  const form = $('resize-form');
  const resizeProgress = $('resize-progress');
  const resizeError = $('resize-error');
  const resizeImg = $('resize-img');
  const stats = $('resize-stats');
  const download = $('resize-download');
  let resultUrl = '';

  function showStats(rows) {
    stats.replaceChildren();
    for (const [k, v] of rows) stats.append(el('dt', {}, k), el('dd', {}, v));
  }

  // "x-pixd-time-ms: 12" -> ["time ms", "12"], in the order pixd sent them.
  function pixdHeaders(xhr) {
    const rows = [];
    for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const name = line.slice(0, i).trim().toLowerCase();
      if (name.startsWith('x-pixd-')) rows.push([name.slice(7).replace(/-/g, ' '), line.slice(i + 1).trim()]);
    }
    return rows;
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const file = $('resize-file').files[0];
    if (!file) return;
    const q = new URLSearchParams();
    for (const key of ['width', 'height', 'quality']) {
      const v = form.elements[key].value.trim();
      if (v) q.set(key, v);
    }
    q.set('mode', form.elements.mode.value);
    q.set('format', form.elements.format.value);
    const submit = $('resize-submit');
    submit.disabled = true;
    resizeError.hidden = true;
    resizeProgress.hidden = false;
    resizeProgress.value = 0;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${API}/resize?${q}`);
    keyXhr(xhr);
    xhr.responseType = 'blob';
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total) resizeProgress.value = e.loaded / e.total;
    });
    const finish = () => {
      submit.disabled = false;
      resizeProgress.hidden = true;
    };
    const fail = (msg) => {
      finish();
      resizeError.textContent = `Resize failed: ${msg}`;
      resizeError.hidden = false;
    };
    xhr.addEventListener('load', async () => {
      if (xhr.status !== 200) {
        fail(errorMessage(xhr.status, xhr.statusText, await xhr.response.text()));
        return;
      }
      const blob = xhr.response;
      if (resultUrl) URL.revokeObjectURL(resultUrl);
      resultUrl = URL.createObjectURL(blob);
      const rows = pixdHeaders(xhr);
      resizeImg.onload = () => {
        const w = resizeImg.naturalWidth;
        const h = resizeImg.naturalHeight;
        showStats([['result', `${w}×${h}, ${fmtBytes(blob.size)}`], ...rows]);
        $('resize-result').dataset.width = w;
        $('resize-result').dataset.height = h;
        $('resize-result').hidden = false;
        finish();
      };
      resizeImg.onerror = () => fail('the result is not an image this browser can show');
      resizeImg.src = resultUrl;
      const ext = form.elements.format.value === 'jpeg' ? 'jpg' : form.elements.format.value;
      download.href = resultUrl;
      download.download = `${file.name.replace(/\.[^.]*$/, '')}-resized.${ext}`;
    });
    xhr.addEventListener('error', () => fail('network error'));
    xhr.send(file);
  });

  // ---- start ----
  pollCameras();
  loadGallery();
})();
