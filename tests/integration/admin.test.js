'use strict';
// The admin API for topics and API keys on the real binary (docs/api.md "Admin plane"): changes take effect on
// the data plane without a restart, survive a restart, compose with the configuration file (the file wins), are
// validated with problem+json naming the member, and never show key material.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { Herald, request, publish, sseConnect, waitFor, sleep } = require('./lib/herald');

const ADMIN_TOKEN = 'admin-token-for-the-admin-test';
const ROOT_KEY = 'hk_root_key_for_the_admin_test_0123456789';
const CONFIG = `
auth:
  enabled: true
  admin_token: ${ADMIN_TOKEN}
  api_keys:
    - name: root
      key_sha256: ${crypto.createHash('sha256').update(ROOT_KEY).digest('hex')}
      scopes: ["publish:*", "subscribe:*"]
topics:
  declared:
    - name: from-file
      fsync: never
webhooks:
  allow_destinations: ["127.0.0.1/32"]
`;

const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const ROOT = { Authorization: `Bearer ${ROOT_KEY}` };

let h;
test.before(async () => { h = await new Herald({ config: CONFIG }).start(); });
test.after(async () => { await h.stop(); h.cleanup(); });

function admin(method, path, body, headers = ADMIN) {
  return request(`${h.admin}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
}

function assertProblem(r, status, attribute) {
  assert.equal(r.status, status, r.body);
  assert.match(r.headers['content-type'], /application\/problem\+json/);
  assert.equal(r.json.status, status);
  if (attribute !== undefined) assert.equal(r.json.attribute, attribute, r.body);
}

test('the admin API needs the admin token; data-plane keys without the admin scope are refused', async () => {
  assertProblem(await admin('GET', '/admin/topics', undefined, {}), 401);
  assert.equal((await admin('GET', '/admin/topics', undefined, ROOT)).status, 403);
  assertProblem(await admin('GET', '/admin/api-keys', undefined, { Authorization: 'Bearer wrong' }), 401);
  const ok = await admin('GET', '/admin/topics');
  assert.equal(ok.status, 200, ok.body);
  const names = ok.json.topics.map((t) => [t.name, t.source]);
  assert.deepEqual(names.find((n) => n[0] === 'from-file'), ['from-file', 'config']);
});

test('a topic created and configured through the admin API governs the data plane at once', async () => {
  const put = await admin('PUT', '/admin/topics/shop.orders', {
    fsync: 'always', retention: { max_age: '1h' }, accepted_types: ['shop.*'], default_type: 'shop.orderPlaced.v1',
  });
  assert.equal(put.status, 201, put.body);
  assert.equal(put.headers.location, '/admin/topics/shop.orders');
  assert.equal(put.json.source, 'admin');
  assert.equal(put.json.settings.retention.max_age, 3600000);

  // The catalog shows the durability and retention the admin API set.
  const info = await request(`${h.url}/v1/topics/shop.orders`, { headers: ROOT });
  assert.equal(info.status, 200, info.body);
  assert.equal(info.json.fsync, 'always');
  assert.deepEqual(info.json.retention, { max_age_ms: 3600000 });

  // Accepted types: a type outside the globs is refused; the default type applies to plain JSON.
  const refused = await publish(h.url, 'shop.orders', { n: 1 }, { type: 'billing.invoicePaid.v1', headers: ROOT });
  assertProblem(refused, 422, 'type');
  const plain = await request(`${h.url}/v1/topics/shop.orders/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...ROOT }, body: '{"n":2}',
  });
  assert.equal(plain.status, 201, plain.body);
  const page = await request(`${h.url}/v1/topics/shop.orders/events?from=earliest`, { headers: ROOT });
  assert.equal(page.json.events[0].type, 'shop.orderPlaced.v1');

  // PATCH changes what it names; the rest stays.
  const patch = await admin('PATCH', '/admin/topics/shop.orders', { retention: { max_bytes: '1GiB' }, accepted_types: null });
  assert.equal(patch.status, 200, patch.body);
  assert.equal(patch.json.settings.fsync, 'always');
  assert.equal(patch.json.settings.retention.max_age, 3600000);
  assert.equal(patch.json.settings.retention.max_bytes, 1 << 30);
  const now = await request(`${h.url}/v1/topics/shop.orders`, { headers: ROOT });
  assert.deepEqual(now.json.retention, { max_age_ms: 3600000, max_bytes: 1 << 30 });
  const accepted = await publish(h.url, 'shop.orders', { n: 3 }, { type: 'billing.invoicePaid.v1', headers: ROOT });
  assert.equal(accepted.status, 201, accepted.body);

  // PUT replaces the whole: members left out take topics.defaults again.
  const replaced = await admin('PUT', '/admin/topics/shop.orders', { fsync: 'never' });
  assert.equal(replaced.status, 200, replaced.body);
  assert.deepEqual(replaced.json.settings.retention, { max_age: null, max_bytes: null });
  assert.equal(replaced.json.settings.default_type, null);
  assert.equal(replaced.json.end_offset, 2, 'the events stay');

  // GET one, and the settings PUT back unchanged.
  const one = await admin('GET', '/admin/topics/shop.orders');
  const again = await admin('PUT', '/admin/topics/shop.orders', one.json.settings);
  assert.equal(again.status, 200, again.body);
  assert.deepEqual(again.json.settings, one.json.settings);
});

test('bad topic settings are 400 problem+json naming the member, and nothing changes', async () => {
  assertProblem(await admin('PUT', '/admin/topics/bad.one', { fsync: 'sometimes' }), 400, 'fsync');
  assertProblem(await admin('PUT', '/admin/topics/bad.one', { retention: { max_age: '10ms' } }), 400, 'retention.max_age');
  assertProblem(await admin('PUT', '/admin/topics/bad.one', { accepted_types: ['a.*', 5] }), 400, 'accepted_types[1]');
  assertProblem(await admin('PUT', '/admin/topics/bad.one', { retention_days: 7 }), 400, 'retention_days');
  assertProblem(await admin('PUT', '/admin/topics/bad.one', { accepted_types: ['a.*'], default_type: 'b.thing.v1' }), 400,
    'default_type');
  assertProblem(await admin('PUT', '/admin/topics/bad.one', '{not json'), 400);
  assertProblem(await admin('PUT', '/admin/topics/Bad.Name', {}), 400, 'name');
  assertProblem(await admin('PATCH', '/admin/topics/no.such.topic', { fsync: 'never' }), 404, 'name');
  const list = await admin('GET', '/admin/topics');
  assert.ok(!list.json.topics.some((t) => t.name === 'bad.one'), 'a refused PUT creates nothing');
});

test('the configuration file wins: its topics cannot be changed or deleted here', async () => {
  assertProblem(await admin('PUT', '/admin/topics/from-file', { fsync: 'always' }), 409, 'name');
  const del = await admin('DELETE', '/admin/topics/from-file');
  assertProblem(del, 409, 'name');
  assert.match(del.json.type, /defined-in-config/);
});

test('deleting a topic is refused while it is in use, then removes it and its events', async () => {
  assert.equal((await admin('PUT', '/admin/topics/doomed', {})).status, 201);
  assert.equal((await publish(h.url, 'doomed', { n: 1 }, { headers: ROOT })).status, 201);

  // An open SSE stream holds the topic.
  let opened = false;
  const stream = sseConnect(`${h.url}/v1/topics/doomed/events?from=earliest`, {
    headers: ROOT, onOpen: () => { opened = true; }, onEvent: () => {},
  });
  await waitFor(() => opened, { what: 'stream open' });
  await sleep(100);
  const busy = await admin('DELETE', '/admin/topics/doomed');
  assertProblem(busy, 409, 'name');
  assert.match(busy.json.detail, /open readers/);
  stream.close();

  // A webhook subscription holds it too.
  const receiver = http.createServer((req, res) => { res.writeHead(204); res.end(); });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const sub = await request(`${h.url}/v1/subscriptions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...ROOT },
    body: JSON.stringify({ topic: 'doomed', url: `http://127.0.0.1:${receiver.address().port}/hook` }),
  });
  assert.equal(sub.status, 201, sub.body);
  // Refused at once (the dispatcher reads the topic), and soon naming the subscription.
  let withSub;
  await waitFor(async () => {
    withSub = await admin('DELETE', '/admin/topics/doomed');
    assertProblem(withSub, 409, 'name');
    return withSub.json.detail.includes(sub.json.id);
  }, { timeout: 5000, what: 'a refusal naming the subscription' });
  assert.match(withSub.json.type, /topic-in-use/);
  const gone = await request(`${h.url}/v1/subscriptions/${sub.json.id}`, { method: 'DELETE', headers: ROOT });
  assert.equal(gone.status, 204, gone.body);
  receiver.close();

  // Free now (readers let go asynchronously: retry briefly).
  let del;
  await waitFor(async () => { del = await admin('DELETE', '/admin/topics/doomed'); return del.status !== 409; },
    { timeout: 5000, what: 'delete' });
  assert.equal(del.status, 204, del.body);
  assert.equal((await admin('GET', '/admin/topics/doomed')).status, 404);
  assert.equal((await request(`${h.url}/v1/topics/doomed`, { headers: ROOT })).status, 404);
  assert.equal((await admin('DELETE', '/admin/topics/doomed')).status, 404);
});

test('API keys: created once, used with their scopes on the data plane, deleted at once', async () => {
  const created = await admin('POST', '/admin/api-keys', { name: 'ci', scopes: ['publish:orders.*'], expires_in: '30d' });
  assert.equal(created.status, 201, created.body);
  assert.equal(created.headers['cache-control'], 'no-store');
  const key = created.json.key;
  assert.match(key, /^hk_[A-Za-z0-9_-]{43}$/);
  assert.equal(created.json.source, 'admin');
  assert.ok(created.json.expires_at);

  // Used at once, within its scopes only.
  assert.equal((await publish(h.url, 'orders.eu', { n: 1 }, { headers: { 'X-API-Key': key } })).status, 201);
  assert.equal((await publish(h.url, 'billing', { n: 1 }, { headers: { 'X-API-Key': key } })).status, 403);
  const read = await request(`${h.url}/v1/topics/orders.eu/events?from=earliest`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal(read.status, 403, 'no subscribe scope');

  // Never shown again.
  const list = await admin('GET', '/admin/api-keys');
  assert.equal(list.status, 200);
  assert.ok(!list.body.includes(key));
  assert.deepEqual(list.json.api_keys.map((k) => [k.name, k.source]), [['root', 'config'], ['ci', 'admin']]);
  const one = await admin('GET', '/admin/api-keys/ci');
  assert.deepEqual(one.json.scopes, ['publish:orders.*']);
  assert.equal(one.json.key, undefined);

  // Rotation: the old key stops, the new one works.
  const rotated = await admin('POST', '/admin/api-keys/ci/rotate', {});
  assert.equal(rotated.status, 200, rotated.body);
  assert.notEqual(rotated.json.key, key);
  assert.equal((await publish(h.url, 'orders.eu', { n: 2 }, { headers: { 'X-API-Key': key } })).status, 401);
  assert.equal((await publish(h.url, 'orders.eu', { n: 3 }, { headers: { 'X-API-Key': rotated.json.key } })).status, 201);

  assert.equal((await admin('DELETE', '/admin/api-keys/ci')).status, 204);
  assertProblem(await publish(h.url, 'orders.eu', { n: 4 }, { headers: { 'X-API-Key': rotated.json.key } }), 401);
  assert.equal((await admin('DELETE', '/admin/api-keys/ci')).status, 404);
  assert.ok(!h.stderr.includes(key) && !h.stderr.includes(rotated.json.key), 'keys never reach the log');
});

test('API keys: the file wins, and bad requests name the member', async () => {
  assertProblem(await admin('POST', '/admin/api-keys', { name: 'root', scopes: ['admin'] }), 409, 'name');
  assertProblem(await admin('DELETE', '/admin/api-keys/root'), 409, 'name');
  assertProblem(await admin('POST', '/admin/api-keys/root/rotate', {}), 409, 'name');
  assertProblem(await admin('POST', '/admin/api-keys', { name: 'x', scopes: ['read:users'] }), 400, 'scopes[0]');
  assertProblem(await admin('POST', '/admin/api-keys', { scopes: ['admin'] }), 400, 'name');
  assertProblem(await admin('POST', '/admin/api-keys', { name: 'x', scopes: ['admin'], expires_at: '2001-01-01T00:00:00Z' }),
    400, 'expires_at');
  assertProblem(await admin('POST', '/admin/api-keys', { name: 'x', scopes: ['admin'], key: 'hk_chosen' }), 400, 'key');
  assert.equal((await admin('POST', '/admin/api-keys', { name: 'dup', scopes: ['subscribe:*'] })).status, 201);
  assertProblem(await admin('POST', '/admin/api-keys', { name: 'dup', scopes: ['subscribe:*'] }), 409, 'name');
  assert.equal((await admin('DELETE', '/admin/api-keys/dup')).status, 204);
});

test('an admin-made key with the admin scope may use the admin API', async () => {
  const created = await admin('POST', '/admin/api-keys', { name: 'operator', scopes: ['admin'] });
  assert.equal(created.status, 201, created.body);
  const r = await admin('GET', '/admin/topics', undefined, { 'X-API-Key': created.json.key });
  assert.equal(r.status, 200, r.body);
  assert.equal((await admin('DELETE', '/admin/api-keys/operator')).status, 204);
  assert.equal((await admin('GET', '/admin/topics', undefined, { 'X-API-Key': created.json.key })).status, 401);
});

test('GET /config shows the effective topics and API keys with their source, never key material', async () => {
  const created = await admin('POST', '/admin/api-keys', { name: 'dumped', scopes: ['subscribe:shop.*'] });
  const r = await admin('GET', '/config');
  assert.equal(r.status, 200, r.body);
  const topics = Object.fromEntries(r.json.topics.map((t) => [t.name, t]));
  assert.equal(topics['from-file'].source, 'config');
  assert.equal(topics['from-file'].settings.fsync, 'never');
  assert.equal(topics['shop.orders'].source, 'admin');
  assert.equal(topics['orders.eu'].source, 'auto');
  assert.deepEqual(r.json.api_keys.map((k) => [k.name, k.source]), [['root', 'config'], ['dumped', 'admin']]);
  assert.deepEqual(r.json.api_keys[1].scopes, ['subscribe:shop.*']);
  assert.deepEqual(r.json.auth.api_keys, ['root', 'dumped']);
  assert.ok(!r.body.includes(created.json.key));
  assert.ok(!r.body.includes(crypto.createHash('sha256').update(ROOT_KEY).digest('hex').slice(0, 16)));
  assert.ok(!r.body.includes('hash'));
});

test('admin-made topics and keys survive a restart', async () => {
  const made = await admin('POST', '/admin/api-keys', { name: 'survivor', scopes: ['publish:kept', 'subscribe:kept'] });
  assert.equal(made.status, 201);
  const put = await admin('PUT', '/admin/topics/kept', {
    fsync: 'always', retention: { max_bytes: '64MiB' }, accepted_types: ['kept.*'],
  });
  assert.equal(put.status, 201, put.body);
  assert.equal((await publish(h.url, 'kept', { n: 1 }, { type: 'kept.thing.v1', headers: { 'X-API-Key': made.json.key } })).status, 201);

  await h.stop();
  h.proc = null;
  await h.start();

  const topic = await admin('GET', '/admin/topics/kept');
  assert.equal(topic.status, 200, topic.body);
  assert.equal(topic.json.source, 'admin');
  assert.equal(topic.json.settings.fsync, 'always');
  assert.equal(topic.json.settings.retention.max_bytes, 64 << 20);
  assert.equal(topic.json.end_offset, 1);
  const info = await request(`${h.url}/v1/topics/kept`, { headers: ROOT });
  assert.equal(info.json.fsync, 'always');
  // The stored contract and key are in force again.
  assertProblem(await publish(h.url, 'kept', { n: 2 }, { type: 'other.thing.v1', headers: { 'X-API-Key': made.json.key } }), 422, 'type');
  assert.equal((await publish(h.url, 'kept', { n: 3 }, { type: 'kept.thing.v1', headers: { 'X-API-Key': made.json.key } })).status, 201);
  // Deleted before the restart stays deleted.
  assert.equal((await admin('GET', '/admin/topics/doomed')).status, 404);
  assert.equal((await admin('GET', '/admin/api-keys/ci')).status, 404);
});
