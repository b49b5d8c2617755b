'use strict';
// Event contracts on the real binary: schemas from the config and from the admin API, validation on publish over
// HTTP and WebSocket (422 with each violation's pointer and keyword, nothing appended), topics' accepted types,
// the naming taxonomy, compatibility between versions, and a registry that survives restarts.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const WebSocket = require('ws');
const { Herald, request, waitFor } = require('./lib/herald');

const SCHEMA_FILE = path.join(__dirname, 'fixtures', 'order-placed.schema.json');
const CONFIG = `
schemas:
  files:
    - {type: shop.orderPlaced.v1, file: ${SCHEMA_FILE}}
topics:
  declared:
    - name: orders
      accepted_types: ["shop.order*"]
      allow_unknown_types: false
`;

const ev = (id, type, data) => ({ specversion: '1.0', id, source: '/shop', type, data });
const good = { orderId: 'ord_1234', amount: 12.5, currency: 'EUR', lines: [{ sku: 'A', qty: 2 }] };

let h;
test.before(async () => { h = await new Herald({ config: CONFIG }).start(); });
test.after(async () => { await h.stop(); h.cleanup(); });

const post = (topic, body, type = 'application/cloudevents+json') => request(`${h.url}/v1/topics/${topic}/events`, { method: 'POST', headers: { 'Content-Type': type }, body: JSON.stringify(body) });
const count = async (topic) => (await request(`${h.url}/v1/topics/${topic}/events?from=earliest&limit=1000`)).json.events.length;
const admin = (method, p, body) => request(`${h.admin}${p}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

test('a valid event is appended with dataschema naming the version it was checked against', async () => {
  const r = await post('orders', ev('o1', 'shop.orderPlaced.v1', good));
  assert.equal(r.status, 201, r.body);
  const page = await request(`${h.url}/v1/topics/orders/events?from=earliest`);
  assert.equal(page.json.events[0].dataschema, 'urn:herald:schema:shop.orderPlaced.v1:v1');
});

test('an invalid event is a 422 listing each violation with its pointer and keyword; nothing is appended', async () => {
  const before = await count('orders');
  const bad = { orderId: 'nope', amount: -1, currency: 'GBP', lines: [{ qty: 0 }] };
  const r = await post('orders', ev('o2', 'shop.orderPlaced.v1', bad));
  assert.equal(r.status, 422, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json.type, 'urn:herald:problem:contract-violation');
  assert.equal(r.json.attribute, 'data');
  const got = r.json.violations.map((v) => `${v.pointer} ${v.keyword}`).sort();
  for (const want of ['/orderId pattern', '/amount minimum', '/currency enum', '/lines/0 required', '/lines/0/qty minimum'])
    assert.ok(got.includes(want), `missing ${want} in ${JSON.stringify(got)}`);
  assert.equal(await count('orders'), before);
});

test('a batch with one invalid event names it and appends none', async () => {
  const before = await count('orders');
  const r = await post('orders', [ev('b1', 'shop.orderPlaced.v1', good), ev('b2', 'shop.orderPlaced.v1', { orderId: 'ord_9999' })], 'application/cloudevents-batch+json');
  assert.equal(r.status, 422);
  assert.equal(r.json.attribute, '[1].data');
  assert.equal(await count('orders'), before);
});

test('topic contracts: other types are refused, and a strict topic refuses types without a schema', async () => {
  const other = await post('orders', ev('t1', 'billing.invoicePaid.v1', {}));
  assert.equal(other.status, 422);
  assert.match(other.json.detail, /not accepted on this topic/);
  const unknown = await post('orders', ev('t2', 'shop.orderLost.v1', {}));
  assert.equal(unknown.status, 422);
  assert.match(unknown.json.detail, /no registered schema/);
  // Topics without a contract take anything well named.
  assert.equal((await post('misc', ev('t3', 'billing.invoicePaid.v1', { any: 1 }))).status, 201);
});

test('naming rules: a badly named type gets a 422 that shows the expected shape', async () => {
  const r = await post('misc', ev('n1', 'OrderPlaced', {}));
  assert.equal(r.status, 422);
  assert.equal(r.json.attribute, 'type');
  assert.match(r.json.detail, /<domain>\.<nounStateChange>\.v<N>/);
  assert.match(r.json.detail, /shipping\.orderShipped\.v1/);
});

test('WebSocket publishes go through the same contracts', async () => {
  const ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`, ['herald.v1']);
  const msgs = [];
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.on('open', r));
  ws.send(JSON.stringify({ op: 'publish', ref: 'bad', topic: 'orders', event: ev('w1', 'shop.orderPlaced.v1', { orderId: 'ord_1234' }) }));
  ws.send(JSON.stringify({ op: 'publish', ref: 'ok', topic: 'orders', event: ev('w2', 'shop.orderPlaced.v1', good) }));
  await waitFor(() => msgs.length >= 2, { what: 'answers' });
  const bad = msgs.find((m) => m.ref === 'bad');
  assert.equal(bad.op, 'error');
  assert.equal(bad.status, 422);
  assert.equal(msgs.find((m) => m.ref === 'ok').op, 'published');
  ws.close();
});

test('admin API: register, re-register (idempotent), refuse a breaking version, force it, list, get, delete', async () => {
  const v1 = { type: 'object', required: ['parcelId'], properties: { parcelId: { type: 'string' }, weight: { type: 'number' } } };
  const r1 = await admin('PUT', '/schemas/shipping.parcelSent.v1', v1);
  assert.equal(r1.status, 201, r1.body);
  assert.equal(r1.json.version, 1);
  assert.equal(r1.json.uri, 'urn:herald:schema:shipping.parcelSent.v1:v1');
  const again = await admin('PUT', '/schemas/shipping.parcelSent.v1', v1);
  assert.equal(again.status, 200);
  assert.equal(again.json.created, false);
  // A new required property breaks producers/consumers of v1: refused with the report.
  const breaking = { type: 'object', required: ['parcelId', 'carrier'], properties: { parcelId: { type: 'string' }, weight: { type: 'integer' }, carrier: { type: 'string' } } };
  const r2 = await admin('PUT', '/schemas/shipping.parcelSent.v1', breaking);
  assert.equal(r2.status, 409, r2.body);
  assert.equal(r2.json.compatibility.compatible, false);
  assert.ok(r2.json.compatibility.breaks.length >= 2);
  assert.ok(r2.json.compatibility.breaks.every((b) => typeof b.pointer === 'string' && b.message));
  const forced = await admin('PUT', '/schemas/shipping.parcelSent.v1?force=true', breaking);
  assert.equal(forced.status, 201);
  assert.equal(forced.json.version, 2);
  const list = await admin('GET', '/schemas');
  const entry = list.json.schemas.find((s) => s.type === 'shipping.parcelSent.v1');
  assert.deepEqual(entry.versions, [1, 2]);
  assert.equal((await admin('GET', '/schemas/shipping.parcelSent.v1')).json.version, 2);
  assert.equal((await admin('GET', '/schemas/shipping.parcelSent.v1/versions/1')).json.schema.required[0], 'parcelId');
  // Events are checked against the latest version, or the one their dataschema names.
  assert.equal((await post('parcels', ev('p1', 'shipping.parcelSent.v1', { parcelId: 'x' }))).status, 422);
  const pinned = { ...ev('p2', 'shipping.parcelSent.v1', { parcelId: 'x', weight: 1.5 }), dataschema: 'urn:herald:schema:shipping.parcelSent.v1:v1' };
  assert.equal((await post('parcels', pinned)).status, 201);
  // Bad registrations.
  assert.equal((await admin('PUT', '/schemas/BadName', v1)).status, 400);
  assert.equal((await admin('PUT', '/schemas/shipping.parcelSent.v1', { type: 'object', properties: { a: { pattern: '(' } } })).status, 400);
  assert.equal((await admin('DELETE', '/schemas/shipping.parcelSent.v1/versions/1')).status, 204);
  assert.equal((await admin('GET', '/schemas/shipping.parcelSent.v1/versions/1')).status, 404);
});

test('$ref to another registered schema', async () => {
  const money = { $id: 'https://schemas.example.com/money.json', type: 'object', required: ['amount', 'currency'], properties: { amount: { type: 'number' }, currency: { type: 'string', minLength: 3, maxLength: 3 } } };
  assert.equal((await admin('PUT', '/schemas/common.moneyDefined.v1', money)).status, 201);
  const refund = { type: 'object', required: ['total'], properties: { total: { $ref: 'https://schemas.example.com/money.json' } } };
  const r = await admin('PUT', '/schemas/shop.refundIssued.v1', refund);
  assert.equal(r.status, 201, r.body);
  assert.equal((await post('refunds', ev('r1', 'shop.refundIssued.v1', { total: { amount: 3, currency: 'EUR' } }))).status, 201);
  const bad = await post('refunds', ev('r2', 'shop.refundIssued.v1', { total: { amount: 3, currency: 'EURO' } }));
  assert.equal(bad.status, 422);
  assert.equal(bad.json.violations[0].pointer, '/total/currency');
});

test('the registry survives a restart', async () => {
  const dataDir = h.dataDir;
  await h.stop();
  h = await new Herald({ config: CONFIG, dataDir }).start();
  const list = await admin('GET', '/schemas');
  const types = list.json.schemas.map((s) => s.type);
  for (const t of ['shop.orderPlaced.v1', 'shipping.parcelSent.v1', 'common.moneyDefined.v1', 'shop.refundIssued.v1']) assert.ok(types.includes(t), t);
  assert.deepEqual(list.json.schemas.find((s) => s.type === 'shipping.parcelSent.v1').versions, [2]);
  assert.equal((await post('refunds', ev('r3', 'shop.refundIssued.v1', { total: { amount: 1, currency: 'USD' } }))).status, 201);
});
