'use strict';
// Security at the edge on the real binary: a matrix of principals × operations × topics with the expected status
// for each (HTTP publish, SSE, WebSocket subscribe and publish, webhook creation), a JWKS served by a local HTTP
// server with a key rotation mid-test, rate limits (429 with Retry-After and RateLimit headers, then recovery),
// token expiry on long-lived streams, the admin token, slowloris and a connection flood.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');
const WebSocket = require('ws');
const { Herald, request, metrics, sleep, waitFor, sseConnect } = require('./lib/herald');

const HS_SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const b64u = (x) => Buffer.from(x).toString('base64url');
function jwt(claims, { alg = 'HS256', key = HS_SECRET, kid, header = {} } = {}) {
  const h = { alg, typ: 'JWT', ...(kid ? { kid } : {}), ...header };
  const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(claims))}`;
  let sig = '';
  if (alg === 'HS256') sig = crypto.createHmac('sha256', key).update(input).digest('base64url');
  else if (alg === 'RS256') sig = crypto.sign('sha256', Buffer.from(input), key).toString('base64url');
  return `${input}.${sig}`;
}
const now = () => Math.floor(Date.now() / 1000);
const hsToken = (scope, extra = {}) => jwt({ iss: 'https://idp.test', aud: 'herald', sub: 'alice', exp: now() + 600, scope, ...extra });

// A JWKS server whose key set can be swapped.
class JwksServer {
  constructor() { this.keys = []; this.fetches = 0; }
  async start() {
    this.server = http.createServer((req, res) => {
      this.fetches++;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=3600' });
      res.end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}/jwks.json`;
    return this;
  }
  stop() { this.server.closeAllConnections(); this.server.close(); }
}
function rsaKey(kid) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, jwk, kid };
}

const PUB_KEY = 'hk_publisher_key_aaaaaaaaaaaaaaaaaaaaaaaa';
const SUB_KEY = 'hk_subscriber_key_bbbbbbbbbbbbbbbbbbbbbbbb';

let h, jwks, k1, k2;
test.before(async () => {
  jwks = await new JwksServer().start();
  k1 = rsaKey('k1');
  k2 = rsaKey('k2');
  jwks.keys = [k1.jwk];
  const config = `
auth:
  enabled: true
  allow_query_token: true
  admin_token: admin-secret-token
  anonymous_scopes: ["subscribe:public.*"]
  jwt:
    - issuer: https://idp.test
      audiences: [herald]
      keys: [{secret: "${HS_SECRET}", alg: HS256}]
      leeway: 0s
    - issuer: https://jwks.test
      audiences: [herald]
      jwks_url: ${jwks.url}
  api_keys:
    - name: publisher
      key: ${PUB_KEY}
      scopes: ["publish:orders.*"]
    - name: subscriber
      key_sha256: ${crypto.createHash('sha256').update(SUB_KEY).digest('hex')}
      scopes: ["subscribe:orders.*"]
webhooks:
  allow_destinations: ["127.0.0.1/32"]
`;
  h = await new Herald({ config }).start();
});
test.after(async () => { await h.stop(); h.cleanup(); jwks.stop(); });

const ev = (id) => ({ specversion: '1.0', id, source: '/sec', type: 'sec.thing.v1', data: { id } });

async function doPublish(topic, headers) {
  const r = await request(`${h.url}/v1/topics/${topic}/events`, { method: 'POST', headers: { 'Content-Type': 'application/cloudevents+json', ...headers }, body: JSON.stringify(ev(crypto.randomUUID())) });
  return r.status;
}
function sseStatus(topic, headers, query = '') {
  return new Promise((resolve) => {
    const req = http.get(`${h.url}/v1/topics/${topic}/events${query}`, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => { resolve(res.statusCode); req.destroy(); });
    req.on('error', () => resolve(0));
  });
}
function wsOpen(headers) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`, ['herald.v1'], { headers });
    const messages = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
    ws.on('open', () => resolve({ ws, messages, status: 101 }));
    ws.on('unexpected-response', (req, res) => resolve({ status: res.statusCode }));
    ws.on('error', () => resolve({ status: 0 }));
  });
}
async function wsOp(headers, msg, match) {
  const c = await wsOpen(headers);
  if (c.status !== 101) return c.status;
  c.ws.send(JSON.stringify(msg));
  await waitFor(() => c.messages.find(match), { what: 'ws answer' });
  const m = c.messages.find(match);
  c.ws.close();
  return m.op === 'error' ? m.status : 200;
}
async function webhookCreate(topic, headers) {
  const r = await request(`${h.url}/v1/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ topic, url: 'http://127.0.0.1:9/hook' }) });
  return r.status;
}

test('principals × operations × topics', async () => {
  const bearer = (t) => ({ Authorization: `Bearer ${t}` });
  const principals = {
    anonymous: {},
    publisherKey: { 'X-API-Key': PUB_KEY },
    subscriberKeyBearer: bearer(SUB_KEY),
    jwtBoth: bearer(hsToken('publish:orders.* subscribe:orders.*')),
    jwtPublic: bearer(hsToken('subscribe:public.*')),
    expired: bearer(hsToken('publish:* subscribe:*', { exp: now() - 10 })),
    badSignature: bearer(hsToken('publish:*').slice(0, -4) + 'AAAA'),
    algNone: bearer(jwt({ iss: 'https://idp.test', aud: 'herald', sub: 'x', exp: now() + 60, scope: 'publish:*' }, { alg: 'none' }).replace(/\.[^.]*$/, '.')),
    wrongAudience: bearer(hsToken('publish:*', { aud: 'someone-else' })),
    unknownKey: { 'X-API-Key': 'hk_nobody_knows_this_key_ccccccccccccccc' },
  };
  const ok = { publish: 201, sse: 200, wsSubscribe: 200, wsPublish: 200, webhook: 201 };
  // Expected: 401 for bad credentials; else allowed → success, not allowed → 403.
  const grants = {
    anonymous: ['subscribe:public'],
    publisherKey: ['publish:orders'],
    subscriberKeyBearer: ['subscribe:orders'],
    jwtBoth: ['publish:orders', 'subscribe:orders'],
    jwtPublic: ['subscribe:public'],
  };
  const failures = [];
  for (const [who, headers] of Object.entries(principals)) {
    for (const topic of ['orders.eu', 'public.news']) {
      const family = topic.split('.')[0];
      const expect = (op, action) => {
        if (!grants[who]) return 401;
        return grants[who].includes(`${action}:${family}`) ? ok[op] : 403;
      };
      const got = {
        publish: await doPublish(topic, headers),
        sse: await sseStatus(topic, headers),
        wsSubscribe: await wsOp(headers, { op: 'subscribe', id: 's', topic }, (m) => (m.op === 'subscribed' || m.op === 'error') && m.id === 's'),
        wsPublish: await wsOp(headers, { op: 'publish', ref: 'p', topic, event: ev(crypto.randomUUID()) }, (m) => m.ref === 'p'),
        webhook: await webhookCreate(topic, headers),
      };
      const want = {
        publish: expect('publish', 'publish'),
        sse: expect('sse', 'subscribe'),
        wsSubscribe: expect('wsSubscribe', 'subscribe'),
        wsPublish: expect('wsPublish', 'publish'),
        webhook: expect('webhook', 'subscribe'),
      };
      for (const op of Object.keys(want)) if (got[op] !== want[op]) failures.push(`${who} ${op} ${topic}: got ${got[op]}, want ${want[op]}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('401 answers carry a Bearer challenge and a problem naming the reason', async () => {
  const r = await request(`${h.url}/v1/topics/orders.eu/events`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${hsToken('publish:*', { exp: now() - 5 })}` }, body: '{}' });
  assert.equal(r.status, 401);
  assert.match(r.headers['www-authenticate'], /^Bearer realm="herald".*error="invalid_token"/);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json.attribute, 'expired');
  const f = await request(`${h.url}/v1/topics/orders.eu/events`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-API-Key': SUB_KEY }, body: '{}' });
  assert.equal(f.status, 403);
  assert.match(f.headers['www-authenticate'], /insufficient_scope/);
});

test('security events are logged with their reason and principal, never the credential', async () => {
  const expired = hsToken('publish:*', { exp: now() - 5 });
  // The log takes at most 20 lines per event kind per second: let the earlier tests' refusals age out of it.
  await sleep(1100);
  const before = h.stderr.length;
  assert.equal(await doPublish('orders.eu', { Authorization: `Bearer ${expired}` }), 401);
  assert.equal(await doPublish('orders.eu', { 'X-API-Key': 'hk_not_a_key_at_all_zzzzzzzzzzzzzzzzzzz' }), 401);
  assert.equal(await doPublish('orders.eu', { 'X-API-Key': SUB_KEY }), 403);
  assert.equal(await sseStatus('orders.eu', {}, `?access_token=${expired}`), 401);
  const lines = () => h.stderr.slice(before).split('\n').filter((l) => l.includes('"module":"security"')).map((l) => JSON.parse(l));
  await waitFor(() => lines().length >= 4, { what: 'four security lines' });
  const got = lines();
  const failed = got.filter((l) => l.event === 'authentication_failed');
  assert.deepEqual(failed.map((l) => [l.reason, l.credential, l.status]),
    [['expired', 'authorization', 401], ['invalid_api_key', 'api_key', 401], ['expired', 'query', 401]]);
  assert.ok(failed.every((l) => l.remote === '127.0.0.1' && l.level === 'warn'));
  assert.equal(failed[2].route, '/v1/topics/orders.eu/events', 'the path, without the query that held the token');
  const denied = got.find((l) => l.event === 'authorization_denied');
  assert.equal(denied.principal, 'api_key:subscriber');
  assert.equal(denied.action, 'publish');
  assert.equal(denied.target, 'orders.eu');
  // No credential, nor any piece of one, in the log.
  const text = h.stderr.slice(before);
  for (const secret of [expired, expired.split('.')[2], 'hk_not_a_key_at_all', SUB_KEY]) assert.ok(!text.includes(secret), secret);
});

test('the catalog lists only topics the principal may subscribe to', async () => {
  const r = await request(`${h.url}/v1/topics`, { headers: { Authorization: `Bearer ${hsToken('subscribe:public.*')}` } });
  assert.equal(r.status, 200);
  assert.ok(r.json.topics.length > 0);
  assert.ok(r.json.topics.every((t) => t.name.startsWith('public.')), JSON.stringify(r.json.topics));
});

test('browsers: ?access_token= on SSE works and the token never appears in an answer', async () => {
  const token = hsToken('subscribe:orders.*');
  assert.equal(await sseStatus('orders.eu', {}, `?access_token=${token}`), 200);
  // Not on a publish route.
  const r = await request(`${h.url}/v1/topics/orders.eu/events?access_token=${hsToken('publish:*')}`, { method: 'POST', headers: { 'Content-Type': 'application/cloudevents+json' }, body: JSON.stringify(ev('q1')) });
  assert.equal(r.status, 401);
  assert.ok(!r.body.includes(token));
});

test('JWKS: keys fetched from the URL; a rotated key is picked up on its unknown kid', async () => {
  const t1 = jwt({ iss: 'https://jwks.test', aud: 'herald', sub: 'bob', exp: now() + 600, scope: 'publish:orders.*' }, { alg: 'RS256', key: k1.privateKey, kid: 'k1' });
  await waitFor(async () => (await doPublish('orders.eu', { Authorization: `Bearer ${t1}` })) === 201, { what: 'k1 accepted', timeout: 10000, interval: 200 });
  // Rotation: the IdP starts signing with k2 and publishes both keys.
  jwks.keys = [k1.jwk, k2.jwk];
  const t2 = jwt({ iss: 'https://jwks.test', aud: 'herald', sub: 'bob', exp: now() + 600, scope: 'publish:orders.*' }, { alg: 'RS256', key: k2.privateKey, kid: 'k2' });
  const fetchesBefore = jwks.fetches;
  await waitFor(async () => (await doPublish('orders.eu', { Authorization: `Bearer ${t2}` })) === 201, { what: 'k2 accepted after refetch', timeout: 15000, interval: 300 });
  assert.ok(jwks.fetches > fetchesBefore, 'an unknown kid triggered a refetch');
  // A token signed by a key the IdP never published stays refused.
  const k3 = rsaKey('k3');
  const t3 = jwt({ iss: 'https://jwks.test', aud: 'herald', sub: 'mallory', exp: now() + 600, scope: 'publish:*' }, { alg: 'RS256', key: k3.privateKey, kid: 'k3' });
  assert.equal(await doPublish('orders.eu', { Authorization: `Bearer ${t3}` }), 401);
  // HS256 "signed" with the RSA public key is algorithm confusion: refused.
  const pem = crypto.createPublicKey({ key: k1.jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const confused = jwt({ iss: 'https://jwks.test', aud: 'herald', sub: 'x', exp: now() + 600, scope: 'publish:*' }, { alg: 'HS256', key: pem, kid: 'k1' });
  assert.equal(await doPublish('orders.eu', { Authorization: `Bearer ${confused}` }), 401);
});

test('long-lived streams end when the token expires: SSE gets herald.auth-expired, WebSocket closes 1008', async () => {
  const short = hsToken('subscribe:orders.*', { exp: now() + 2 });
  const events = [];
  let closed = false;
  const s = sseConnect(`${h.url}/v1/topics/orders.eu/events`, { headers: { Authorization: `Bearer ${short}` }, onEvent: (e) => events.push(e), onClose: () => { closed = true; } });
  const ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`, ['herald.v1'], { headers: { Authorization: `Bearer ${short}` } });
  const wsClosed = new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  await waitFor(() => closed && events.some((e) => e.event === 'herald.auth-expired'), { timeout: 8000, what: 'SSE ends with herald.auth-expired' });
  const final = events.find((e) => e.event === 'herald.auth-expired');
  assert.match(JSON.parse(final.data).cursor, /^1\./);
  const c = await wsClosed;
  assert.equal(c.code, 1008);
  assert.match(c.reason, /expired/);
  s.close();
});

test('a WebSocket client extends its session with op auth; another principal\'s token is refused', async () => {
  const short = hsToken('subscribe:orders.*', { exp: now() + 2 });
  const ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`, ['herald.v1'], { headers: { Authorization: `Bearer ${short}` } });
  const messages = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
  let closedCode = null;
  ws.on('close', (code) => { closedCode = code; });
  await new Promise((r) => ws.on('open', r));
  ws.send(JSON.stringify({ op: 'auth', ref: 'other', token: hsToken('subscribe:orders.*', { sub: 'mallory' }) }));
  ws.send(JSON.stringify({ op: 'auth', ref: 'fresh', token: hsToken('subscribe:orders.*') }));
  await waitFor(() => messages.find((m) => m.ref === 'fresh') && messages.find((m) => m.ref === 'other'), { what: 'auth answers' });
  assert.equal(messages.find((m) => m.ref === 'other').status, 403);
  assert.equal(messages.find((m) => m.ref === 'fresh').op, 'authenticated');
  await sleep(3000);
  assert.equal(closedCode, null, 'still open after the first token expired');
  ws.close();
});

test('the admin listener needs the admin token or the admin scope; probes stay open', async () => {
  assert.equal((await request(`${h.admin}/healthz`)).status, 200);
  assert.equal((await request(`${h.admin}/metrics`)).status, 401);
  assert.equal((await request(`${h.admin}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await request(`${h.admin}/metrics`, { headers: { Authorization: `Bearer ${hsToken('publish:*')}` } })).status, 403);
  const ok = await request(`${h.admin}/metrics`, { headers: { Authorization: 'Bearer admin-secret-token' } });
  assert.equal(ok.status, 200);
  assert.match(ok.body, /herald_security_authn_failures_total\{reason="expired"\} [1-9]/);
  assert.match(ok.body, /herald_security_authz_denied_total [1-9]/);
  assert.equal((await request(`${h.admin}/metrics`, { headers: { Authorization: `Bearer ${hsToken('admin')}` } })).status, 200);
});

test('rate limits: 429 with Retry-After and RateLimit headers, then recovery', async () => {
  const h2 = await new Herald({ config: 'rate_limits:\n  publish: {rate: 2, burst: 3}\n  ws_messages: {rate: 1, burst: 2}\n' }).start();
  try {
    const statuses = [];
    let limited;
    for (let i = 0; i < 5; i++) {
      const r = await request(`${h2.url}/v1/topics/rl/events`, { method: 'POST', headers: { 'Content-Type': 'application/cloudevents+json' }, body: JSON.stringify(ev(`rl-${i}`)) });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    assert.deepEqual(statuses.slice(0, 3), [201, 201, 201]);
    assert.equal(statuses[3], 429);
    assert.match(limited.headers['retry-after'], /^\d+$/);
    assert.match(limited.headers['ratelimit-policy'], /^3;w=\d+/);
    assert.match(limited.headers.ratelimit, /remaining=0/);
    assert.equal(limited.headers['content-type'], 'application/problem+json');
    await sleep(1100);
    const again = await request(`${h2.url}/v1/topics/rl/events`, { method: 'POST', headers: { 'Content-Type': 'application/cloudevents+json' }, body: JSON.stringify(ev('rl-after')) });
    assert.equal(again.status, 201, 'recovers once tokens refill');
    // WebSocket messages: an error with status 429 for the message, the connection stays.
    const ws = new WebSocket(`${h2.url.replace('http', 'ws')}/v1/ws`, ['herald.v1']);
    const msgs = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.on('open', r));
    for (let i = 0; i < 4; i++) ws.send(JSON.stringify({ op: 'ping' }));
    await waitFor(() => msgs.length >= 4, { what: '4 answers' });
    assert.equal(msgs.filter((m) => m.op === 'pong').length, 2);
    assert.equal(msgs.filter((m) => m.op === 'error' && m.status === 429).length, 2);
    ws.close();
    const m = await metrics(h2.admin);
    assert.ok(m['herald_security_rate_limited_total{limit="publish"}'] >= 1);
  } finally { await h2.stop(); h2.cleanup(); }
});

test('slowloris: a client sending its head one byte a second is cut off while others are served', async () => {
  const h2 = await new Herald({ config: 'http:\n  header_timeout: 1s\n' }).start();
  try {
    const sock = net.connect(h2.port, h2.host);
    await new Promise((r) => sock.on('connect', r));
    let closedAt = 0;
    sock.on('close', () => { closedAt = Date.now(); });
    sock.on('error', () => {});
    const started = Date.now();
    const head = 'GET /v1/topics HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(50);
    let i = 0;
    const drip = setInterval(() => { if (i < head.length && !closedAt) sock.write(head[i++]); }, 200);
    await sleep(300);
    const normal = await request(`${h2.url}/v1/topics`);
    assert.equal(normal.status, 200, 'a normal client is served meanwhile');
    await waitFor(() => closedAt > 0, { timeout: 5000, what: 'the slow client cut off' });
    clearInterval(drip);
    assert.ok(closedAt - started < 3000, `cut off after ${closedAt - started} ms`);
  } finally { await h2.stop(); h2.cleanup(); }
});

test('a connection flood past the limit is refused without disturbing existing streams', async () => {
  const h2 = await new Herald({ config: 'http:\n  max_connections: 20\n' }).start();
  try {
    const got = [];
    const stream = sseConnect(`${h2.url}/v1/topics/flood/events`, { onEvent: (e) => got.push(e) });
    await waitFor(async () => (await metrics(h2.admin)).herald_sse_streams_open === 1, { what: 'stream open' });
    const socks = [];
    for (let i = 0; i < 60; i++) {
      const s = net.connect(h2.port, h2.host);
      s.on('error', () => {});
      socks.push(s);
    }
    await sleep(300);
    const m = await metrics(h2.admin);
    assert.ok(m.herald_http_connections_refused_total > 0, 'some connections refused');
    assert.ok(m.herald_http_connections_open <= 20);
    socks.forEach((s) => s.destroy());
    await waitFor(async () => (await metrics(h2.admin)).herald_http_connections_open === 1, { what: 'flood gone' });
    const p = await request(`${h2.url}/v1/topics/flood/events?type=flood.x.v1`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"n":1}' });
    assert.equal(p.status, 201);
    await waitFor(() => got.some((e) => e.event === 'flood.x.v1'), { what: 'the existing stream still receives' });
    stream.close();
  } finally { await h2.stop(); h2.cleanup(); }
});

test('one client address past its connection limit gets 429 while another address is served', async () => {
  const h2 = await new Herald({ config: 'http:\n  max_connections_per_address: 3\n' }).start();
  try {
    const open = (localAddress) => new Promise((resolve) => {
      const s = net.connect({ port: h2.port, host: h2.host, localAddress });
      s.on('error', () => resolve(null));
      s.on('connect', () => resolve(s));
    });
    const held = [await open('127.0.0.1'), await open('127.0.0.1'), await open('127.0.0.1')];
    await waitFor(async () => (await metrics(h2.admin)).herald_http_connections_open === 3, { what: '3 open' });
    const extra = await open('127.0.0.1');
    const answer = await new Promise((r) => { let b = ''; extra.on('data', (d) => { b += d; }); extra.on('close', () => r(b)); });
    assert.match(answer, /^HTTP\/1\.1 429/);
    // Another loopback address is a different client.
    const other = await new Promise((resolve, reject) => {
      const req = http.get({ host: h2.host, port: h2.port, path: '/v1/topics', localAddress: '127.0.0.2' }, (res) => { res.resume(); resolve(res.statusCode); });
      req.on('error', reject);
    });
    assert.equal(other, 200);
    held.forEach((s) => s.destroy());
    await waitFor(async () => (await metrics(h2.admin)).herald_http_connections_open === 0, { what: 'released' });
    const again = await open('127.0.0.1');
    assert.ok(again);
    again.destroy();
    assert.equal((await metrics(h2.admin)).herald_http_connections_refused_per_address_total, 1);
  } finally { await h2.stop(); h2.cleanup(); }
});

test('the config dump names the security settings but never a secret', async () => {
  const r = await request(`${h.admin}/config`, { headers: { Authorization: 'Bearer admin-secret-token' } });
  assert.equal(r.status, 200);
  assert.equal(r.json.auth.enabled, true);
  assert.deepEqual(r.json.auth.api_keys, ['publisher', 'subscriber']);
  for (const secret of [HS_SECRET, PUB_KEY, 'admin-secret-token', crypto.createHash('sha256').update(SUB_KEY).digest('hex')])
    assert.ok(!r.body.includes(secret), 'the dump leaks a secret');
});

test('streams per principal: SSE streams and WebSocket subscriptions count against one limit, freed on close', async () => {
  const h2 = await new Herald({ config: 'rate_limits:\n  max_streams_per_principal: 2\n' }).start();
  try {
    const opened = [];
    const s1 = sseConnect(`${h2.url}/v1/topics/lim/events`, { onOpen: (res) => opened.push(res.statusCode) });
    await waitFor(() => opened.length === 1, { what: 'first stream' });
    const ws = new WebSocket(`${h2.url.replace('http', 'ws')}/v1/ws`, ['herald.v1']);
    const msgs = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ op: 'subscribe', id: 'a', topic: 'lim' }));
    ws.send(JSON.stringify({ op: 'subscribe', id: 'b', topic: 'lim' }));
    await waitFor(() => msgs.filter((m) => m.id === 'a' || m.id === 'b').length === 2, { what: 'two answers' });
    assert.equal(msgs.find((m) => m.id === 'a').op, 'subscribed');
    const b = msgs.find((m) => m.id === 'b');
    assert.equal(b.op, 'error');
    assert.equal(b.status, 429);
    const third = await new Promise((resolve) => {
      const req = http.get(`${h2.url}/v1/topics/lim/events`, { headers: { Accept: 'text/event-stream' } }, (res) => { resolve(res.statusCode); req.destroy(); });
    });
    assert.equal(third, 429);
    // Unsubscribing frees a slot.
    ws.send(JSON.stringify({ op: 'unsubscribe', id: 'a' }));
    await waitFor(() => msgs.some((m) => m.op === 'unsubscribed'), { what: 'unsubscribed' });
    await sleep(50);
    ws.send(JSON.stringify({ op: 'subscribe', id: 'c', topic: 'lim' }));
    await waitFor(() => msgs.some((m) => m.id === 'c'), { what: 'c answered' });
    assert.equal(msgs.find((m) => m.id === 'c').op, 'subscribed');
    ws.close();
    s1.close();
  } finally { await h2.stop(); h2.cleanup(); }
});
