'use strict';
// Publishing over HTTP: every CloudEvents HTTP binding mode, plain JSON wrapping, dedup by event id and by
// Idempotency-Key, and the problem+json answers to bad input (nothing appended).
const test = require('node:test');
const assert = require('node:assert/strict');
const { Herald, request, publish, publishEvent, metrics, waitFor } = require('./lib/herald');

let h;
test.before(async () => { h = await new Herald().start(); });
test.after(async () => { await h.stop(); h.cleanup(); });

async function endOffset(topic) {
  const r = await request(`${h.url}/v1/topics/${topic}`);
  return r.status === 200 ? r.json.end_offset : 0;
}

function assertProblem(r, status, kind) {
  assert.equal(r.status, status, r.body);
  assert.match(r.headers['content-type'], /^application\/problem\+json/);
  assert.equal(r.json.status, status);
  assert.equal(r.json.type, `urn:herald:problem:${kind}`);
  assert.ok(r.json.title);
}

test('structured event is appended and answered 201 with offset, id and cursor', async () => {
  const ev = { specversion: '1.0', id: 'e-1', source: '/orders', type: 'shop.orderPlaced.v1', data: { n: 1 } };
  const r = await publishEvent(h.url, 'orders', ev);
  assert.equal(r.status, 201, r.body);
  assert.equal(r.json.offset, 0);
  assert.equal(r.json.id, 'e-1');
  assert.match(r.json.cursor, /^1\.[0-9a-f]{16}\.1$/);
  const page = await request(`${h.url}/v1/topics/orders/events?from=earliest`);
  assert.equal(page.status, 200);
  // Stored as sent, plus the distributed-tracing extension Herald adds (docs/observability.md).
  const { traceparent, ...stored } = page.json.events[0];
  assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  assert.deepEqual(stored, ev);
  assert.equal(page.json.next, r.json.cursor);
});

test('binary mode with percent-encoded ce- headers', async () => {
  const r = await request(`${h.url}/v1/topics/binary/events`, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0', 'ce-id': 'b-1', 'ce-source': '/shop', 'ce-type': 'shop.orderPlaced.v1',
      'ce-subject': 'caf%C3%A9%20%22x%22', 'ce-tenant': 'acme', 'Content-Type': 'application/json',
    },
    body: '{"x": 1}',
  });
  assert.equal(r.status, 201, r.body);
  const page = await request(`${h.url}/v1/topics/binary/events?from=earliest`);
  const ev = page.json.events[0];
  assert.equal(ev.source, '/shop');
  assert.equal(ev.subject, 'café "x"');
  assert.equal(ev.tenant, 'acme');
  assert.deepEqual(ev.data, { x: 1 });
});

test('batch mode answers per event and appends all of them', async () => {
  const batch = [1, 2, 3].map((i) => ({ specversion: '1.0', id: `batch-${i}`, source: '/b', type: 'shop.itemAdded.v1', data: { i } }));
  const r = await request(`${h.url}/v1/topics/batches/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch),
  });
  assert.equal(r.status, 201, r.body);
  assert.deepEqual(r.json.results.map((x) => x.offset), [0, 1, 2]);
  assert.deepEqual(r.json.results.map((x) => x.id), ['batch-1', 'batch-2', 'batch-3']);
});

test('a batch with one invalid event appends nothing and names the index', async () => {
  const before = await endOffset('batches');
  const batch = [
    { specversion: '1.0', id: 'ok-1', source: '/b', type: 'shop.itemAdded.v1' },
    { specversion: '1.0', id: 'bad', source: '/b' },
  ];
  const r = await request(`${h.url}/v1/topics/batches/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch),
  });
  assertProblem(r, 400, 'invalid-event');
  assert.equal(r.json.attribute, '[1].type');
  assert.equal(await endOffset('batches'), before);
});

test('plain JSON is wrapped into a CloudEvent with a UUIDv7 id', async () => {
  const r = await publish(h.url, 'plain', { hello: 'world' }, { type: 'demo.greeted.v1' });
  assert.equal(r.status, 201, r.body);
  assert.match(r.json.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const page = await request(`${h.url}/v1/topics/plain/events?from=earliest`);
  const ev = page.json.events[0];
  assert.equal(ev.type, 'demo.greeted.v1');
  assert.equal(ev.specversion, '1.0');
  assert.equal(ev.datacontenttype, 'application/json');
  assert.deepEqual(ev.data, { hello: 'world' });
  assert.ok(ev.time);
});

test('plain JSON without a type is a 400 naming type', async () => {
  const r = await request(`${h.url}/v1/topics/plain/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}',
  });
  assertProblem(r, 400, 'invalid-event');
  assert.equal(r.json.attribute, 'type');
});

test('a duplicate event id answers 200 with the original offset and appends nothing', async () => {
  const ev = { specversion: '1.0', id: 'dup-1', source: '/d', type: 'shop.orderPlaced.v1' };
  const first = await publishEvent(h.url, 'dedup', ev);
  assert.equal(first.status, 201);
  const second = await publishEvent(h.url, 'dedup', { ...ev, data: 'different body, same identity' });
  assert.equal(second.status, 200, second.body);
  assert.equal(second.json.offset, first.json.offset);
  assert.equal(second.json.duplicate, true);
  assert.equal(await endOffset('dedup'), 1);
  // Same id from another source is another event.
  const other = await publishEvent(h.url, 'dedup', { ...ev, source: '/elsewhere' });
  assert.equal(other.status, 201);
});

test('Idempotency-Key replays the original answer', async () => {
  const headers = { 'Idempotency-Key': 'req-42' };
  const a = await publish(h.url, 'idem', { n: 1 }, { headers });
  assert.equal(a.status, 201);
  const b = await publish(h.url, 'idem', { n: 1 }, { headers });
  assert.equal(b.status, 200);
  assert.equal(b.headers['idempotent-replayed'], 'true');
  assert.equal(b.json.offset, a.json.offset);
  assert.equal(b.json.id, a.json.id);
  assert.equal(await endOffset('idem'), 1);
});

const bad = [
  ['malformed JSON', 'application/cloudevents+json', '{"specversion":', 400, 'invalid-event', undefined],
  ['missing id', 'application/cloudevents+json', JSON.stringify({ specversion: '1.0', source: '/s', type: 't.x.v1' }), 400, 'invalid-event', 'id'],
  ['wrong specversion', 'application/cloudevents+json', JSON.stringify({ specversion: '0.3', id: '1', source: '/s', type: 't.x.v1' }), 400, 'invalid-event', 'specversion'],
  ['bad time', 'application/cloudevents+json', JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 't.x.v1', time: 'yesterday' }), 400, 'invalid-event', 'time'],
  ['bad extension name', 'application/cloudevents+json', JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 't.x.v1', 'Bad-Name': 1 }), 400, 'invalid-event', 'Bad-Name'],
  ['data and data_base64', 'application/cloudevents+json', JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 't.x.v1', data: 1, data_base64: 'AA==' }), 400, 'invalid-event', 'data_base64'],
  ['unknown media type', 'text/plain', 'hello', 415, 'unsupported-media-type', 'Content-Type'],
];
for (const [name, ct, body, status, kind, attribute] of bad) {
  test(`bad input: ${name} → ${status} ${kind}`, async () => {
    const r = await request(`${h.url}/v1/topics/rejects/events`, { method: 'POST', headers: { 'Content-Type': ct }, body });
    assertProblem(r, status, kind);
    if (attribute) assert.equal(r.json.attribute, attribute);
    assert.equal(await endOffset('rejects'), 0, 'nothing appended');
  });
}

test('an oversized body is a 413', async () => {
  const big = JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 't.x.v1', data: 'x'.repeat(5 << 20) });
  const r = await request(`${h.url}/v1/topics/rejects/events`, { method: 'POST', headers: { 'Content-Type': 'application/cloudevents+json' }, body: big })
    .catch((e) => ({ status: 'reset', error: e }));
  // The server answers 413 before reading the whole body; the client may see the answer or a reset.
  if (r.status !== 'reset') assertProblem(r, 413, 'payload-too-large');
  assert.equal(await endOffset('rejects'), 0);
});

test('invalid topic names are a 400', async () => {
  const r = await publish(h.url, 'Bad_Topic', { a: 1 });
  assertProblem(r, 400, 'invalid-topic');
});

test('topic catalog lists topics with offsets', async () => {
  const r = await request(`${h.url}/v1/topics`);
  assert.equal(r.status, 200);
  const names = r.json.topics.map((t) => t.name);
  assert.ok(names.includes('orders'));
  const info = await request(`${h.url}/v1/topics/orders`);
  assert.equal(info.json.end_offset, 1);
  assert.match(info.json.earliest, /^1\./);
  const missing = await request(`${h.url}/v1/topics/nope-nothing`);
  assertProblem(missing, 404, 'not-found');
});

test('the connection limit refuses newcomers with 503 and frees slots when connections close', async () => {
  const h = await new Herald({ config: 'http:\n  max_connections: 3\n' }).start();
  const net = require('node:net');
  const open = async () => {
    const s = net.connect(h.port, h.host);
    await new Promise((r, j) => { s.on('connect', r); s.on('error', j); });
    return s;
  };
  const readAll = (s) => new Promise((r) => { let b = ''; s.setEncoding('utf8'); s.on('data', (d) => { b += d; }); s.on('close', () => r(b)); s.on('error', () => r(b)); });
  try {
    const held = [await open(), await open(), await open()];
    await waitFor(async () => (await metrics(h.admin)).herald_http_connections_open === 3, { what: '3 open' });
    const extra = await open();
    const answer = await readAll(extra);
    assert.match(answer, /^HTTP\/1\.1 503/);
    assert.match(answer, /too-many-connections/);
    assert.equal((await metrics(h.admin)).herald_http_connections_refused_total, 1);
    held.forEach((s) => s.destroy());
    await waitFor(async () => (await metrics(h.admin)).herald_http_connections_open === 0, { what: 'slots freed' });
    const r = await publish(h.url, 'limits', { a: 1 }, { type: 'demo.limited.v1' });
    assert.equal(r.status, 201, r.body);
    await waitFor(async () => (await metrics(h.admin)).herald_http_connections_open === 0, { what: 'gauge back to 0' });
  } finally {
    await h.stop();
    h.cleanup();
  }
});
