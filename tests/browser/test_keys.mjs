// The web page against a pixd with access keys over HTTPS (--keys,
// --tls-cert with a self-signed certificate made here by the openssl
// command): the page asks for the key once, then its requests, MJPEG
// <img> streams and thumbnails all get through; a refused key is asked
// for again. Environment as for test_page.mjs.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

const PIXD = process.env.PIXD || 'build-test/daemon/pixd';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const KEY = 'web:web-secret-0123456789abcdef';

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

let pixd;
let pixdLog = '';
let base;
let tmp;
let context;
let page;
const prompts = [];

function startPixd() {
  const store = path.join(tmp, 'store');
  fs.mkdirSync(store);
  const keys = path.join(tmp, 'keys');
  fs.writeFileSync(keys, `${KEY.replace(':', ' ')} read,write\n`, { mode: 0o600 });
  const cert = path.join(tmp, 'cert.pem');
  const key = path.join(tmp, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
    '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const proc = spawn(PIXD, [
    '--store', store, '--keys', keys, '--tls-cert', cert, '--tls-key', key,
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

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixd-browser-keys-'));
  const started = await startPixd();
  pixd = started.proc;
  base = `https://${started.addr}`;
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreHTTPSErrors: true, // the certificate is self-signed
    viewport: { width: 1000, height: 1400 },
  });
  page = context.pages()[0] || await context.newPage();
  // The first answer is a wrong key, then the right one.
  page.on('dialog', async (d) => {
    prompts.push(d.message());
    await d.accept(prompts.length === 1 ? 'web:wrong-secret-000000000' : KEY);
  });
});

after(async () => {
  if (context) await context.close();
  if (pixd) {
    const code = await new Promise((resolve) => {
      const kill = setTimeout(() => pixd.kill('SIGKILL'), 10000);
      pixd.on('exit', (c) => { clearTimeout(kill); resolve(c); });
      pixd.kill('SIGTERM');
    });
    for (const bad of ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer']) {
      assert.ok(!pixdLog.includes(bad), `pixd reported ${bad}:\n${pixdLog}`);
    }
    assert.equal(code, 0, `pixd exited ${code}:\n${pixdLog}`);
    assert.ok(!pixdLog.includes('web-secret'), 'a secret reached the log');
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('over HTTPS the page asks for the key, again after a wrong one, then works', async () => {
  const resp = await page.goto(`${base}/`);
  assert.equal(resp.status(), 200);
  await waitFor('the camera poll to succeed with the key', async () =>
    (await page.textContent('#conn')) === 'connected');
  assert.equal(prompts.length, 2, `prompts: ${prompts}`);
  assert.match(prompts[0], /access key/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('pixd-key')), KEY);
});

test('the MJPEG <img> stream gets through with the key in a cookie', async () => {
  const img = page.locator('figure.tile[data-camera="test"] img');
  await waitFor('a live stream in the tile', async () =>
    img.evaluate((e) => e.src.includes('/api/v1/cameras/test/stream') && e.naturalWidth > 1));
});

test('an upload through the page (bearer header) shows its thumbnail (cookie)', async () => {
  await page.setInputFiles('#upload-input', {
    name: 'k.bmp',
    mimeType: 'image/bmp',
    // A 2x2 24-bit BMP.
    buffer: Buffer.from('424d460000000000000036000000280000000200000002000000010018000000' +
      '00001000000000000000000000000000000000000000ff0000ff00000000ff000000ffffff0000', 'hex'),
  });
  const card = page.locator('figure.card[data-image="k.bmp"]');
  await card.waitFor({ timeout: 15000 });
  await waitFor('the thumbnail to load', async () =>
    card.locator('.thumb img').evaluate((e) => e.complete && e.naturalWidth > 0));
  // A request with neither the header nor the cookie is refused.
  const status = await page.evaluate(async () =>
    (await fetch('/api/v1/images', { method: 'GET', credentials: 'omit' })).status);
  assert.equal(status, 401);
});
