// pixd's web page in real Chromium (Debian's, driven by playwright-core):
// the page loads without console errors, a camera tile shows moving
// video, an upload through the page lands in the gallery, a resize
// through the form returns an image of the asked size, delete works.
//
// Environment (meson sets it; see run.sh): PIXD, the daemon to test;
// PIXD_MODULE_DIR, its image modules; CHROMIUM, the browser
// (default /usr/bin/chromium). Every wait polls with a deadline.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';

import { chromium } from 'playwright-core';

const PIXD = process.env.PIXD || 'build-test/daemon/pixd';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// As on this machine's documented setup: no sandbox as root, and nothing
// that phones home (the network is closed; those calls only fail).
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// ---- helpers ----

async function waitFor(what, pred, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay)); // polling interval
    delay = Math.min(delay * 2, 200);
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

// An RGB PNG of w x h with a gradient, made here: no image files to ship.
function makePng(w, h) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      raw[row + 1 + x * 3] = (x * 255 / w) | 0;
      raw[row + 2 + x * 3] = (y * 255 / h) | 0;
      raw[row + 3 + x * 3] = ((x + y) & 32) ? 200 : 60;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- pixd and the browser, one of each for the whole file ----

let pixd;
let pixdLog = '';
let base;
let tmp;
let context;
let page;
const consoleErrors = [];

function startPixd() {
  const store = path.join(tmp, 'store');
  fs.mkdirSync(store);
  const proc = spawn(PIXD, [
    '--store', store,
    '--listen', 'http=127.0.0.1:0',
    '--camera', 'test=test,width=320,height=240,fps=15',
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  proc.stderr.on('data', (d) => { pixdLog += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`pixd did not start listening:\n${pixdLog}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /pixd: http listening on (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, addr: m[1] });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pixd exited (${code}) before listening:\n${pixdLog}`));
    });
  });
}

function stopPixd() {
  return new Promise((resolve) => {
    if (pixd.exitCode !== null || pixd.signalCode !== null) {
      resolve(pixd.exitCode);
      return;
    }
    const kill = setTimeout(() => pixd.kill('SIGKILL'), 10000);
    pixd.on('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    pixd.kill('SIGTERM');
  });
}

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium (./dev deps)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixd-browser-'));
  const started = await startPixd();
  pixd = started.proc;
  base = `http://${started.addr}`;
  // A fresh profile each run: nothing cached from an earlier pixd.
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1000, height: 1400 },
  });
  page = context.pages()[0] || await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${JSON.stringify(msg.location())})`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
});

after(async () => {
  if (context) await context.close();
  if (pixd) {
    const code = await stopPixd();
    for (const bad of ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer']) {
      assert.ok(!pixdLog.includes(bad), `pixd reported ${bad}:\n${pixdLog}`);
    }
    assert.equal(code, 0, `pixd exited ${code}:\n${pixdLog}`);
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// ---- the tests, in order, on one page ----

test('page loads with its script and styles, without console errors', async () => {
  const resp = await page.goto(`${base}/`);
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-type'], /^text\/html/);
  await waitFor('the camera poll to succeed', async () =>
    (await page.textContent('#conn')) === 'connected');
  // The style sheet applied: the file input is visually hidden.
  const inputWidth = await page.$eval('#upload-input', (e) => e.getBoundingClientRect().width);
  assert.ok(inputWidth <= 1, `style.css not applied (file input is ${inputWidth}px wide)`);
  assert.deepEqual(consoleErrors, []);
});

test('camera tile shows moving video', async () => {
  const tile = page.locator('figure.tile[data-camera="test"]');
  await tile.waitFor({ timeout: 15000 });
  const img = tile.locator('img');
  await waitFor('a live stream in the tile', async () =>
    img.evaluate((e) => e.src.includes('/api/v1/cameras/test/stream') && e.naturalWidth > 1));
  // The caption shows the size and the measured rate (15 fps asked).
  await waitFor('the tile caption to show the size and a measured fps', async () =>
    /^320×240 · (1\d|[5-9])\.\d fps$/.test(await tile.locator('.meta').textContent()));
  const first = await img.screenshot();
  await waitFor('the tile picture to change', async () => !first.equals(await img.screenshot()));
});

test('an image uploaded through the page appears in the gallery', async () => {
  await page.setInputFiles('#upload-input', {
    name: 'browser test.png',
    mimeType: 'image/png',
    buffer: makePng(400, 300),
  });
  // The store turns spaces into '_'.
  const card = page.locator('figure.card[data-image="browser_test.png"]');
  await card.waitFor({ timeout: 15000 });
  await waitFor('the upload to be reported as stored', async () =>
    (await page.locator('#uploads').textContent()).includes('stored'));
  // The thumbnail is resized by pixd to 160 px wide.
  const thumb = card.locator('.thumb img');
  const size = await waitFor('the thumbnail to load', async () =>
    thumb.evaluate((e) => e.complete && e.naturalWidth > 0 && [e.naturalWidth, e.naturalHeight]));
  assert.deepEqual(size, [160, 120]);
  assert.match(await card.locator('.meta').textContent(), /400×300/);
  const href = await card.locator('a.button[download]').getAttribute('href');
  const got = await page.evaluate(async (u) => {
    const r = await fetch(u);
    return [r.status, (await r.arrayBuffer()).byteLength];
  }, href);
  assert.deepEqual(got, [200, makePng(400, 300).length]);
});

test('a resize through the form returns an image of the asked size', async () => {
  await page.setInputFiles('#resize-file', {
    name: 'resize me.png',
    mimeType: 'image/png',
    buffer: makePng(400, 300),
  });
  await page.fill('#resize-width', '200');
  await page.fill('#resize-height', '150');
  await page.selectOption('#resize-mode', 'fit');
  await page.fill('#resize-quality', '80');
  await page.selectOption('#resize-format', 'jpeg');
  await page.click('#resize-submit');
  const result = page.locator('#resize-result');
  await result.waitFor({ state: 'visible', timeout: 20000 });
  assert.equal(await result.getAttribute('data-width'), '200');
  assert.equal(await result.getAttribute('data-height'), '150');
  const stats = await page.locator('#resize-stats').textContent();
  assert.match(stats, /output size\s*200x150/);
  assert.match(stats, /process ms/);
});

test('delete from the gallery removes the image', async () => {
  const card = page.locator('figure.card[data-image="browser_test.png"]');
  const del = card.locator('button.danger');
  await del.click();
  await waitFor('the delete button to ask for confirmation', async () =>
    (await del.textContent()) === 'Sure?');
  await del.click();
  await card.waitFor({ state: 'detached', timeout: 10000 });
  const list = await page.evaluate(async () => (await fetch('/api/v1/images')).json());
  const names = (Array.isArray(list) ? list : list.images).map((e) => e.name);
  assert.ok(!names.includes('browser_test.png'), `still listed: ${names}`);
});

test('no console errors over the whole session', async () => {
  assert.deepEqual(consoleErrors, []);
});
