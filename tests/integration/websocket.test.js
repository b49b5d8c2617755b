'use strict';
// WebSocket transport with Node's `ws` client: the multiplexed herald.v1 endpoint (subscribe to several topics,
// publish on the same connection, acks, resume from the last ack), the one-topic stream, and every malformed
// input with its documented answer — while the server keeps serving other clients.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const WebSocket = require('ws');
const { Herald, request, publish, metrics, sleep, waitFor } = require('./lib/herald');

let h;
test.before(async () => {
  h = await new Herald({ config: 'websocket:\n  max_message_bytes: 64KiB\n  max_frame_bytes: 64KiB\n  max_subscriptions: 5\n  max_inflight_publishes: 512\n' }).start();
});
test.after(async () => { await h.stop(); h.cleanup(); });

// A herald.v1 client: collects every message; waitMsg(pred) resolves with the first matching one.
function connect(path = '/v1/ws', protocols = ['herald.v1']) {
  const ws = new WebSocket(`${h.url.replace('http', 'ws')}${path}`, protocols);
  const messages = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    const msg = JSON.parse(data.toString());
    messages.push(msg);
    for (const w of [...waiters]) if (w.pred(msg)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(msg); }
  });
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const waitMsg = (pred, timeout = 10000) => {
    const found = messages.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      waiters.push(w);
      setTimeout(() => reject(new Error('timed out waiting for a message')), timeout).unref();
    });
  };
  const send = (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  return { ws, messages, waitMsg, send, closed, opened };
}

const ev = (id, data, type = 'ws.thing.v1') => ({ specversion: '1.0', id, source: '/ws-test', type, data });

test('handshake negotiates herald.v1', async () => {
  const c = connect();
  await c.opened;
  assert.equal(c.ws.protocol, 'herald.v1');
  c.ws.close();
  await c.closed;
});

test('subscribe to three topics, publish on the same connection, receive each event once in per-topic order', async () => {
  const flushesBefore = (await metrics(h.admin)).herald_hub_flushes_total;
  const c = connect();
  await c.opened;
  for (const t of ['wa', 'wb', 'wc']) c.send({ op: 'subscribe', id: `s-${t}`, topic: t, from: 'latest' });
  await Promise.all(['wa', 'wb', 'wc'].map((t) => c.waitMsg((m) => m.op === 'subscribed' && m.id === `s-${t}`)));
  const N = 30;
  for (let i = 0; i < N; i++) {
    for (const t of ['wa', 'wb', 'wc']) c.send({ op: 'publish', ref: `${t}-${i}`, topic: t, event: ev(`${t}-${i}`, { i }) });
  }
  await c.waitMsg((m) => m.op === 'published' && m.ref === `wc-${N - 1}`);
  await waitFor(() => c.messages.filter((m) => m.op === 'event').length === 3 * N, { what: 'all events' });
  for (const t of ['wa', 'wb', 'wc']) {
    const got = c.messages.filter((m) => m.op === 'event' && m.id === `s-${t}`);
    assert.equal(got.length, N);
    assert.deepEqual(got.map((m) => m.event.data.i), [...Array(N).keys()]);
    assert.ok(got.every((m) => m.topic === t && /^1\.[0-9a-f]{16}\.\d+$/.test(m.cursor)));
  }
  // Live events reach the session through the worker's write scheduler (one scheduled write per event at most).
  const flushes = (await metrics(h.admin)).herald_hub_flushes_total - flushesBefore;
  assert.ok(flushes >= 1 && flushes <= 3 * N, `flushes ${flushes}`);
  const published = c.messages.filter((m) => m.op === 'published');
  assert.equal(published.length, 3 * N);
  assert.ok(published.every((m) => m.results.length === 1 && typeof m.results[0].offset === 'number'));
  // A batch publish, and a duplicate answered with the original offset.
  c.send({ op: 'publish', ref: 'batch', topic: 'wa', events: [ev('b1', 1), ev('b2', 2)] });
  const batch = await c.waitMsg((m) => m.ref === 'batch');
  assert.deepEqual(batch.results.map((r) => r.offset), [N, N + 1]);
  c.send({ op: 'publish', ref: 'dup', topic: 'wa', event: ev('b1', 1) });
  const dup = await c.waitMsg((m) => m.ref === 'dup');
  assert.equal(dup.results[0].duplicate, true);
  assert.equal(dup.results[0].offset, N);
  c.ws.close();
  await c.closed;
});

test('reconnect and resume from the last ack: no gap, no duplicate', async () => {
  const total = 40;
  for (let i = 0; i < 10; i++) await publish(h.url, 'wresume', { i });
  const a = connect();
  await a.opened;
  a.send({ op: 'subscribe', id: 'r', topic: 'wresume', from: 'earliest' });
  await waitFor(() => a.messages.filter((m) => m.op === 'event').length === 10, { what: 'first 10' });
  const seen = a.messages.filter((m) => m.op === 'event');
  const lastAck = seen[6].cursor;  // processed 0..6 only
  a.send({ op: 'ack', id: 'r', cursor: lastAck });
  await sleep(50);
  a.ws.terminate();  // vanish without a close handshake
  for (let i = 10; i < total; i++) await publish(h.url, 'wresume', { i });
  const b = connect();
  await b.opened;
  b.send({ op: 'subscribe', id: 'r', topic: 'wresume', from: lastAck });
  await waitFor(() => b.messages.filter((m) => m.op === 'event').length === total - 7, { what: 'resumed events' });
  await sleep(100);
  const resumed = b.messages.filter((m) => m.op === 'event').map((m) => m.event.data.i);
  assert.deepEqual(resumed, Array.from({ length: total - 7 }, (_, k) => k + 7));
  b.ws.close();
});

test('unsubscribe answers with the cursor and stops events', async () => {
  const c = connect();
  await c.opened;
  c.send({ op: 'subscribe', id: 'u', topic: 'wunsub' });
  await c.waitMsg((m) => m.op === 'subscribed');
  await publish(h.url, 'wunsub', { n: 1 });
  await c.waitMsg((m) => m.op === 'event');
  c.send({ op: 'unsubscribe', id: 'u' });
  const u = await c.waitMsg((m) => m.op === 'unsubscribed');
  assert.equal(u.id, 'u');
  assert.match(u.cursor, /\.1$/);
  await publish(h.url, 'wunsub', { n: 2 });
  await sleep(200);
  assert.equal(c.messages.filter((m) => m.op === 'event').length, 1);
  c.ws.close();
});

test('one-topic stream: one CloudEvent per text frame with its cursor', async () => {
  await publish(h.url, 'wsingle', { n: 0 });
  const ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/topics/wsingle/events?from=earliest`);
  const got = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.on('open', r));
  await publish(h.url, 'wsingle', { n: 1 });
  await waitFor(() => got.length === 2, { what: 'two frames' });
  assert.deepEqual(got.map((m) => m.event.data.n), [0, 1]);
  assert.ok(got.every((m) => m.topic === 'wsingle' && m.cursor));
  // It is receive-only: a data message closes with 1003.
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  ws.send('hello');
  assert.equal(await closed, 1003);
});

const badMessages = [
  ['malformed JSON', '{"op":', 'invalid-message', ''],
  ['not an object', '[1,2]', 'invalid-message', ''],
  ['unknown op', { op: 'dance' }, 'invalid-message', 'op'],
  ['unknown member', { op: 'subscribe', id: 'x', topic: 't', topc: 'y' }, 'invalid-message', 'topc'],
  ['subscribe without topic', { op: 'subscribe', id: 'x' }, 'invalid-message', 'topic'],
  ['bad topic', { op: 'subscribe', id: 'x', topic: 'Bad Topic' }, 'invalid-topic', 'topic'],
  ['bad cursor', { op: 'subscribe', id: 'x', topic: 'wbad', from: 'garbage' }, 'invalid-parameter', 'from'],
  ['invalid event', { op: 'publish', ref: 'p', topic: 'wbad', event: { specversion: '1.0', id: 'x', source: '/s' } }, 'invalid-event', 'event.type'],
  ['event and events', { op: 'publish', ref: 'p', topic: 'wbad', event: {}, events: [] }, 'invalid-message', 'events'],
  ['ack unknown subscription', { op: 'ack', id: 'nope', cursor: '1.0000000000000000.0' }, 'not-found', 'id'],
  ['unsubscribe unknown', { op: 'unsubscribe', id: 'nope' }, 'not-found', 'id'],
];
for (const [name, payload, kind, attribute] of badMessages) {
  test(`bad message: ${name} → error ${kind}, connection continues`, async () => {
    const c = connect();
    await c.opened;
    c.send(payload);
    const err = await c.waitMsg((m) => m.op === 'error');
    assert.equal(err.problem.type, `urn:herald:problem:${kind}`);
    assert.equal(err.status, err.problem.status);
    if (attribute) assert.equal(err.problem.attribute, attribute);
    c.send({ op: 'ping' });
    await c.waitMsg((m) => m.op === 'pong');
    c.ws.close();
  });
}

test('duplicate subscription id and the subscription limit are errors', async () => {
  const c = connect();
  await c.opened;
  c.send({ op: 'subscribe', id: 'same', topic: 'wlim' });
  await c.waitMsg((m) => m.op === 'subscribed');
  c.send({ op: 'subscribe', id: 'same', topic: 'wlim' });
  const dup = await c.waitMsg((m) => m.op === 'error' && m.id === 'same');
  assert.equal(dup.status, 409);
  for (let i = 0; i < 4; i++) c.send({ op: 'subscribe', id: `l${i}`, topic: 'wlim' });
  c.send({ op: 'subscribe', id: 'one-too-many', topic: 'wlim' });
  const lim = await c.waitMsg((m) => m.op === 'error' && m.id === 'one-too-many');
  assert.equal(lim.status, 429);
  c.ws.close();
});

test('protocol violations close with the RFC 6455 code', async () => {
  // Binary frame where text is expected → 1003.
  let c = connect();
  await c.opened;
  c.ws.send(Buffer.from([1, 2, 3]));
  assert.equal((await c.closed).code, 1003);
  // Text that is not UTF-8 → 1007 (ws lets us send raw bytes as a text frame with binary: false).
  c = connect();
  await c.opened;
  c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
  assert.equal((await c.closed).code, 1007);
  // A message over max_message_bytes (64 KiB here) → 1009.
  c = connect();
  await c.opened;
  c.ws.send(JSON.stringify({ op: 'ping', pad: 'x'.repeat(70 * 1024) }));
  assert.equal((await c.closed).code, 1009);
  // An unmasked client frame, written by hand after a real handshake → 1002.
  const sock = net.connect(h.port, h.host);
  await new Promise((r) => sock.on('connect', r));
  sock.write('GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  let raw = Buffer.alloc(0);
  sock.on('data', (d) => { raw = Buffer.concat([raw, d]); });
  await waitFor(() => raw.includes('\r\n\r\n'), { what: '101' });
  assert.match(raw.toString(), /^HTTP\/1\.1 101/);
  assert.match(raw.toString(), /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
  const headEnd = raw.indexOf('\r\n\r\n') + 4;
  sock.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));  // "hi", FIN text, no mask bit
  await waitFor(() => raw.length >= headEnd + 4, { what: 'close frame' });
  assert.equal(raw[headEnd], 0x88);
  assert.equal(raw.readUInt16BE(headEnd + 2), 1002);
  sock.destroy();
  // The server still serves others.
  const ok = await publish(h.url, 'wafter', { fine: true });
  assert.equal(ok.status, 201);
  const m = await metrics(h.admin);
  assert.ok(m.herald_websocket_protocol_errors_total >= 3);
});

test('bad handshakes are answered with 400 / 426 problem+json', async () => {
  const plain = await request(`${h.url}/v1/ws`);
  assert.equal(plain.status, 426);
  assert.equal(plain.headers.upgrade, 'websocket');
  const badVersion = await request(`${h.url}/v1/ws`, {
    headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '8' },
  });
  assert.equal(badVersion.status, 400);
  assert.equal(badVersion.headers['sec-websocket-version'], '13');
  const wrongProto = connect('/v1/ws', ['mqtt']);
  await assert.rejects(wrongProto.opened);
});

test('server pings an idle client; a client that never answers is dropped', async () => {
  const h2 = await new Herald({ config: 'sse:\n  heartbeat: 300ms\nwebsocket:\n  ping_interval: 300ms\n  pong_timeout: 300ms\n' }).start();
  try {
    const ws = new WebSocket(`${h2.url.replace('http', 'ws')}/v1/ws`, ['herald.v1']);
    let pings = 0;
    ws.on('ping', () => { pings++; });
    await new Promise((r) => ws.on('open', r));
    await waitFor(() => pings >= 2, { what: 'two pings answered' });
    ws.close();
    // A raw client that completes the handshake, then never reads or answers.
    const sock = net.connect(h2.port, h2.host);
    await new Promise((r) => sock.on('connect', r));
    sock.write('GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const closed = new Promise((r) => sock.on('close', r));
    sock.on('data', () => {});
    await Promise.race([closed, sleep(5000).then(() => { throw new Error('not dropped'); })]);
    await waitFor(async () => (await metrics(h2.admin)).herald_websocket_sessions_open === 0, { what: 'sessions closed' });
  } finally {
    await h2.stop();
    h2.cleanup();
  }
});

test('acks feed the consumer-lag gauge: unacked events count, acking the last one brings it to zero', async () => {
  const c = connect();
  await c.opened;
  c.send({ op: 'subscribe', id: 'lag', topic: 'wlag', from: 'latest' });
  await c.waitMsg((m) => m.op === 'subscribed' && m.id === 'lag');
  for (let i = 0; i < 5; i++) assert.equal((await publish(h.url, 'wlag', { i })).status, 201);
  const events = [];
  await waitFor(() => { events.push(...c.messages.filter((m) => m.op === 'event' && m.id === 'lag' && !events.includes(m))); return events.length >= 5; }, { what: '5 events' });
  c.send({ op: 'ack', id: 'lag', cursor: events[1].cursor });  // processed 2 of 5
  await waitFor(async () => (await metrics(h.admin)).herald_websocket_consumer_lag_events === 3, { what: 'lag 3' });
  c.send({ op: 'ack', id: 'lag', cursor: events[4].cursor });
  await waitFor(async () => (await metrics(h.admin)).herald_websocket_consumer_lag_events === 0, { what: 'lag 0' });
  assert.ok((await metrics(h.admin)).herald_websocket_acks_total >= 2);
  c.ws.close();
  await c.closed;
});

test('publishes past the in-flight limit are answered 429, each by its ref; none is lost', async () => {
  const h2 = await new Herald({ config: 'websocket:\n  max_inflight_publishes: 1\ntopics:\n  defaults:\n    fsync: always\n' }).start();
  try {
    const ws = new WebSocket(`${h2.url.replace('http', 'ws')}/v1/ws`, ['herald.v1']);
    const messages = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.on('open', r));
    const N = 20;
    for (let i = 0; i < N; i++) ws.send(JSON.stringify({ op: 'publish', ref: `p${i}`, topic: 'wflight', event: ev(`f-${i}`, { i }) }));
    await waitFor(() => messages.filter((m) => m.op === 'published' || m.op === 'error').length === N, { what: 'an answer per publish' });
    const limited = messages.filter((m) => m.op === 'error');
    assert.ok(limited.length > 0, 'some publishes exceeded the limit');
    assert.ok(limited.every((m) => m.status === 429 && /^p\d+$/.test(m.ref)));
    const refs = new Set(messages.map((m) => m.ref));
    for (let i = 0; i < N; i++) assert.ok(refs.has(`p${i}`));
    // What was acknowledged is in the log; what was refused is not.
    const page = await request(`${h2.url}/v1/topics/wflight/events?from=earliest&limit=100`);
    assert.equal(page.json.events.length, messages.filter((m) => m.op === 'published').length);
    ws.close();
  } finally { await h2.stop(); h2.cleanup(); }
});
