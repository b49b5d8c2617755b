'use strict';
// A real browser: headless Chromium (Debian's) driven by playwright-core opens a page on another origin that
// uses the native EventSource, WebSocket and fetch APIs against Herald; it publishes over HTTP (CORS with a
// preflight) and over WebSocket, and receives every event on both transports, in order, with the same cursors.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { Herald, metrics, waitFor } = require('./lib/herald');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

test('a page uses EventSource and WebSocket against Herald and sees every event', async () => {
  const page_html = fs.readFileSync(path.join(__dirname, 'browser', 'page.html'));
  const site = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page_html);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${site.address().port}`;
  const h = await new Herald({ config: `cors:\n  allowed_origins: ["${origin}"]\nwebsocket:\n  deflate: true\n` }).start();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    const expected = 10;
    await page.goto(`${origin}/?herald=${encodeURIComponent(h.url)}&topic=browser&expected=${expected}`);
    await page.waitForFunction(() => window.subscribed === true, null, { timeout: 15000 });
    await page.evaluate(() => window.publishAll());
    await page.waitForFunction((n) => window.results.sse.length >= n && window.results.ws.length >= n, expected,
      { timeout: 20000 });
    const results = await page.evaluate(() => window.results);
    assert.deepEqual(results.errors, [], `page errors: ${results.errors.join('; ')} / console: ${consoleErrors.join('; ')}`);
    const byN = (xs) => xs.map((x) => x.n).sort((a, b) => a - b);
    assert.deepEqual(byN(results.sse), [...Array(expected).keys()]);
    assert.deepEqual(byN(results.ws), [...Array(expected).keys()]);
    // Both transports saw the log's order, with identical cursors.
    assert.deepEqual(results.sse.map((x) => x.cursor), results.ws.map((x) => x.cursor));
    assert.equal(results.published.length, expected);
    // Chromium offers permessage-deflate and the config turns it on, so its events arrived compressed.
    assert.ok((await metrics(h.admin)).herald_websocket_compressed_messages_sent_total >= expected);
    const shots = path.resolve(process.env.HERALD_ARTIFACTS || path.join(__dirname, '../../build/test-artifacts'));
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'browser-transports.png') });
  } finally {
    await browser.close();
    await h.stop();
    h.cleanup();
    site.close();
  }
});

test('a page on an origin that is not allowed gets neither the stream nor the WebSocket', async () => {
  const site = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>x</title>');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${site.address().port}`;
  const h = await new Herald().start();  // default: same-origin only
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    await page.goto(origin);
    const outcome = await page.evaluate(async (herald) => {
      const wsResult = await new Promise((resolve) => {
        const ws = new WebSocket(herald.replace(/^http/, 'ws') + '/v1/ws', 'herald.v1');
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('refused');
      });
      let fetchResult;
      try {
        await fetch(`${herald}/v1/topics/x/events?type=a.b.v1`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
        fetchResult = 'allowed';
      } catch { fetchResult = 'blocked'; }
      return { wsResult, fetchResult };
    }, h.url);
    assert.deepEqual(outcome, { wsResult: 'refused', fetchResult: 'blocked' });
  } finally {
    await browser.close();
    await h.stop();
    h.cleanup();
    site.close();
  }
});
