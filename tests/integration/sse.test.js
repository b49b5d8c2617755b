'use strict';
// Reading: SSE with curl and with the eventsource package, cursors and Last-Event-ID, ?types= filters,
// heartbeats, the retry hint, resets for foreign cursors, JSON pages and long-poll.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const EventSource = require('eventsource');
const { Herald, request, publish, sseConnect, sleep, waitFor } = require('./lib/herald');

let h;
test.before(async () => {
  h = await new Herald({ config: 'sse:\n  heartbeat: 300ms\n  retry: 1500ms\n' }).start();
});
test.after(async () => { await h.stop(); h.cleanup(); });

test('curl receives a published event over SSE with id, event and one-line data', async () => {
  const curl = spawn('curl', ['-sN', '-H', 'Accept: text/event-stream', `${h.url}/v1/topics/curl/events?from=earliest`]);
  let out = '';
  curl.stdout.on('data', (d) => { out += d; });
  await sleep(200);
  const r = await publish(h.url, 'curl', { msg: 'line1\nline2' }, { type: 'demo.greeted.v1' });
  assert.equal(r.status, 201);
  await waitFor(() => out.includes('event: demo.greeted.v1'), { what: 'curl output' });
  curl.kill();
  assert.match(out, /^retry: 1500\n/m);
  const frame = out.slice(out.indexOf('id: '));
  const lines = frame.split('\n');
  assert.equal(lines[0], `id: ${r.json.cursor}`);
  assert.equal(lines[1], 'event: demo.greeted.v1');
  assert.ok(lines[2].startsWith('data: {'));
  assert.equal(JSON.parse(lines[2].slice(6)).data.msg, 'line1\nline2');
  assert.equal(lines[3], '');
});

test('the eventsource package receives events and its lastEventId is the cursor', async () => {
  const es = new EventSource(`${h.url}/v1/topics/es/events`);
  const got = [];
  es.addEventListener('demo.counted.v1', (e) => got.push({ id: e.lastEventId, data: JSON.parse(e.data) }));
  await new Promise((resolve, reject) => { es.onopen = resolve; es.onerror = reject; });
  const cursors = [];
  for (let i = 0; i < 5; i++) cursors.push((await publish(h.url, 'es', { i }, { type: 'demo.counted.v1' })).json.cursor);
  await waitFor(() => got.length === 5, { what: '5 events' });
  es.close();
  assert.deepEqual(got.map((g) => g.data.data.i), [0, 1, 2, 3, 4]);
  assert.deepEqual(got.map((g) => g.id), cursors);
});

test('Last-Event-ID wins over ?from= and resumes right after the cursor', async () => {
  const cursors = [];
  for (let i = 0; i < 6; i++) cursors.push((await publish(h.url, 'resume', { i })).json.cursor);
  const got = [];
  const c = sseConnect(`${h.url}/v1/topics/resume/events?from=earliest`, {
    headers: { 'Last-Event-ID': cursors[2] },
    onEvent: (e) => got.push(JSON.parse(e.data).data.i),
  });
  await waitFor(() => got.length === 3, { what: 'events after cursor' });
  await sleep(100);
  c.close();
  assert.deepEqual(got, [3, 4, 5]);
});

test('?from=latest delivers only new events; ?types= filters', async () => {
  await publish(h.url, 'filter', { old: true }, { type: 'a.old.v1' });
  const got = [];
  const c = sseConnect(`${h.url}/v1/topics/filter/events?from=latest&types=a.wanted.v1,a.also.v1`, {
    onEvent: (e) => got.push(e.event),
  });
  await sleep(150);
  for (const t of ['a.wanted.v1', 'a.other.v1', 'a.also.v1', 'a.other.v1', 'a.wanted.v1'])
    await publish(h.url, 'filter', {}, { type: t });
  await waitFor(() => got.length === 3, { what: 'filtered events' });
  await sleep(100);
  c.close();
  assert.deepEqual(got, ['a.wanted.v1', 'a.also.v1', 'a.wanted.v1']);
});

test('an idle stream gets heartbeat comments', async () => {
  const http = require('node:http');
  let raw = '';
  const req = http.get(`${h.url}/v1/topics/quiet/events`, { headers: { Accept: 'text/event-stream' } }, (res) => {
    assert.equal(res.headers['content-type'], 'text/event-stream');
    assert.equal(res.headers['x-accel-buffering'], 'no');
    assert.equal(res.headers['cache-control'], 'no-cache');
    res.on('data', (d) => { raw += d; });
  });
  await waitFor(() => (raw.match(/^:/gm) || []).length >= 2, { timeout: 5000, what: 'two heartbeats' });
  req.destroy();
});

test('a malformed cursor is a 400; a cursor of another epoch starts over with herald.reset', async () => {
  const bad = await request(`${h.url}/v1/topics/resume/events?from=garbage`, { headers: { Accept: 'text/event-stream' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.type, 'urn:herald:problem:invalid-parameter');
  const badHeader = await request(`${h.url}/v1/topics/resume/events`, { headers: { Accept: 'text/event-stream', 'Last-Event-ID': '1.zz.3' } });
  assert.equal(badHeader.status, 400);
  assert.equal(badHeader.json.attribute, 'Last-Event-ID');
  const page = await request(`${h.url}/v1/topics/resume/events?from=nonsense`);
  assert.equal(page.status, 400);

  const events = [];
  const c = sseConnect(`${h.url}/v1/topics/resume/events`, {
    headers: { 'Last-Event-ID': '1.0123456789abcdef.3' },
    onEvent: (e) => events.push(e),
  });
  await waitFor(() => events.length >= 7, { what: 'reset + replay' });
  c.close();
  assert.equal(events[0].event, 'herald.reset');
  assert.equal(JSON.parse(events[0].data).reason, 'epoch');
  assert.deepEqual(events.slice(1).map((e) => JSON.parse(e.data).data.i), [0, 1, 2, 3, 4, 5]);
});

test('JSON pages: limit, next cursor, and long-poll that wakes on publish', async () => {
  for (let i = 0; i < 5; i++) await publish(h.url, 'pages', { i });
  const p1 = await request(`${h.url}/v1/topics/pages/events?from=earliest&limit=2`);
  assert.deepEqual(p1.json.events.map((e) => e.data.i), [0, 1]);
  const p2 = await request(`${h.url}/v1/topics/pages/events?from=${p1.json.next}&limit=10`);
  assert.deepEqual(p2.json.events.map((e) => e.data.i), [2, 3, 4]);
  const empty = await request(`${h.url}/v1/topics/pages/events?from=${p2.json.next}`);
  assert.deepEqual(empty.json.events, []);
  assert.equal(empty.json.next, p2.json.next);

  const started = Date.now();
  const waiting = request(`${h.url}/v1/topics/pages/events?from=${p2.json.next}&wait=10`);
  await sleep(300);
  await publish(h.url, 'pages', { i: 5 });
  const woke = await waiting;
  assert.deepEqual(woke.json.events.map((e) => e.data.i), [5]);
  assert.ok(Date.now() - started < 5000, 'long-poll returned on publish, not at the deadline');

  const t0 = Date.now();
  const timedOut = await request(`${h.url}/v1/topics/pages/events?from=${woke.json.next}&wait=0.5`);
  assert.deepEqual(timedOut.json.events, []);
  assert.ok(Date.now() - t0 >= 450);
  const badWait = await request(`${h.url}/v1/topics/pages/events?wait=9999`);
  assert.equal(badWait.status, 400);
  assert.equal(badWait.json.attribute, 'wait');
  const badLimit = await request(`${h.url}/v1/topics/pages/events?limit=0`);
  assert.equal(badLimit.status, 400);
});
