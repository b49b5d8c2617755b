'use strict';
// Webhooks end to end: a real Herald delivering to real receivers on loopback. Every delivery is verified with
// the npm `standardwebhooks` library (the reference implementation of the signature scheme); one that does not
// verify fails the test.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { Webhook } = require('standardwebhooks');
const { Herald, request, publish, metrics, sleep, waitFor } = require('./lib/herald');

const CONFIG = `
webhooks:
  allow_destinations: ["127.0.0.1/32"]
  retry_schedule: [50ms, 100ms, 150ms, 200ms]
  retry_jitter: false
  timeout: 2s
`;

// A receiver on 127.0.0.1. `behave(req, body, n)` returns a status (or [status, headers]); n counts requests.
class Receiver {
  constructor(secret, behave = () => 200) {
    this.secrets = secret ? [secret] : [];
    this.behave = behave;
    this.received = [];   // verified deliveries: {headers, body, json}
    this.requests = 0;
    this.failures = [];   // deliveries that did not verify
  }
  async start(port = 0) {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const body = Buffer.concat(chunks).toString('utf8');
        if (req.method === 'POST') {
          let verified = this.secrets.length === 0;
          for (const s of this.secrets) {
            try { new Webhook(s).verify(body, req.headers); verified = true; } catch { /* next secret */ }
          }
          if (!verified) this.failures.push({ headers: req.headers, body });
        }
        let out = this.behave(req, body, this.requests);
        if (!Array.isArray(out)) out = [out, {}];
        const [status, headers] = out;
        if (status >= 200 && status < 300 && req.method === 'POST') {
          let json; try { json = JSON.parse(body); } catch { json = undefined; }
          this.received.push({ headers: req.headers, body, json });
        }
        res.writeHead(status, headers);
        res.end();
      });
    });
    await new Promise((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}/hook`;
    return this;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
  seqs() { return this.received.map((d) => d.json.data.seq); }
}

async function createSub(h, body) {
  return request(`${h.url}/v1/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

async function publishN(h, topic, n, start = 0, type = 'test.thingHappened.v1') {
  for (let i = start; i < start + n; i++) {
    const r = await publish(h.url, topic, { seq: i }, { type });
    assert.equal(r.status, 201, r.body);
  }
}

let h;
test.before(async () => { h = await new Herald({ config: CONFIG }).start(); });
test.after(async () => { await h.stop(); h.cleanup(); });

test('a subscription delivers every event, signed and in order, with webhook-id = event id', async () => {
  const rx = await new Receiver().start();
  try {
    const r = await createSub(h, { topic: 'wh-basic', url: rx.url });
    assert.equal(r.status, 201, r.body);
    assert.match(r.json.secret, /^whsec_[A-Za-z0-9+/=]+$/);
    assert.match(r.json.id, /^wh_[0-9a-f]+$/);
    assert.equal(r.headers.location, `/v1/subscriptions/${r.json.id}`);
    rx.secrets.push(r.json.secret);
    await publishN(h, 'wh-basic', 20);
    await waitFor(() => rx.received.length >= 20, { what: '20 deliveries' });
    assert.deepEqual(rx.seqs(), [...Array(20).keys()]);
    assert.equal(rx.failures.length, 0, 'every delivery verifies');
    for (const d of rx.received) {
      assert.equal(d.headers['webhook-id'], d.json.id);
      assert.equal(d.headers['content-type'], 'application/cloudevents+json');
    }
    // The secret is shown once: GET shows only a prefix.
    const g = await request(`${h.url}/v1/subscriptions/${r.json.id}`);
    assert.equal(g.status, 200);
    assert.equal(g.json.secret, undefined);
    assert.equal(g.json.state, 'active');
    // The receiver has the 20th delivery before Herald has read its answer and counted it: wait for the count.
    await waitFor(async () => (await request(`${h.url}/v1/subscriptions/${r.json.id}`)).json.delivered === 20,
      { what: 'delivered 20' });
    await waitFor(async () => (await request(`${h.url}/v1/subscriptions/${r.json.id}`)).json.lag === 0, { what: 'lag 0' });
    const list = await request(`${h.url}/v1/subscriptions?topic=wh-basic`);
    assert.equal(list.json.subscriptions.length, 1);
  } finally { await rx.stop(); }
});

test('a receiver that fails its first attempts still gets everything, in order (retries)', async () => {
  const rx = await new Receiver(null, (req, body, n) => (n <= 3 ? 500 : 200)).start();
  try {
    const r = await createSub(h, { topic: 'wh-retry', url: rx.url });
    rx.secrets.push(r.json.secret);
    await publishN(h, 'wh-retry', 10);
    await waitFor(() => rx.received.length >= 10, { what: 'deliveries after retries' });
    assert.deepEqual(rx.seqs(), [...Array(10).keys()]);
    assert.equal(rx.failures.length, 0);
    const a = await request(`${h.url}/v1/subscriptions/${r.json.id}/attempts`);
    const outcomes = a.json.attempts.map((x) => x.outcome);
    assert.equal(outcomes.filter((o) => o === 'retry').length, 3);
    assert.equal(outcomes.filter((o) => o === 'delivered').length, 10);
    assert.equal(a.json.attempts.find((x) => x.outcome === 'retry').status, 500);
  } finally { await rx.stop(); }
});

test('429 with Retry-After is honoured', async () => {
  const times = [];
  const rx = await new Receiver(null, (req, body, n) => { times.push(Date.now()); return n === 1 ? [429, { 'Retry-After': '1' }] : 200; }).start();
  try {
    const r = await createSub(h, { topic: 'wh-429', url: rx.url });
    rx.secrets.push(r.json.secret);
    await publishN(h, 'wh-429', 1);
    await waitFor(() => rx.received.length >= 1, { what: 'delivery after Retry-After' });
    assert.ok(times[1] - times[0] >= 900, `retried after ${times[1] - times[0]} ms, Retry-After said 1 s`);
  } finally { await rx.stop(); }
});

test('a receiver that is down for a while loses nothing', async () => {
  const rx = await new Receiver().start();
  const port = rx.port;
  const r = await createSub(h, { topic: 'wh-down', url: rx.url, retry: { schedule: ['100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms', '100ms'] } });
  assert.equal(r.status, 201, r.body);
  rx.secrets.push(r.json.secret);
  await publishN(h, 'wh-down', 5);
  await waitFor(() => rx.received.length >= 5, { what: 'first 5' });
  await rx.stop();
  await publishN(h, 'wh-down', 5, 5);
  await sleep(400);  // several failed attempts against a closed port
  const back = new Receiver(r.json.secret);
  await back.start(port);
  try {
    await waitFor(() => back.received.length >= 5, { what: 'the 5 published while down' });
    assert.deepEqual(back.seqs(), [5, 6, 7, 8, 9]);
    assert.equal(back.failures.length, 0);
    const g = await request(`${h.url}/v1/subscriptions/${r.json.id}`);
    assert.equal(g.json.state, 'active');
  } finally { await back.stop(); }
});

test('a 400 goes to the dead-letter queue; replay after the fix delivers it, signed afresh', async () => {
  let broken = true;
  const rx = await new Receiver(null, () => (broken ? 400 : 200)).start();
  try {
    const r = await createSub(h, { topic: 'wh-dlq', url: rx.url });
    rx.secrets.push(r.json.secret);
    await publishN(h, 'wh-dlq', 3);
    const id = r.json.id;
    await waitFor(async () => (await request(`${h.url}/v1/subscriptions/${id}/dead-letters`)).json.total === 3, { what: '3 dead letters' });
    const dl = await request(`${h.url}/v1/subscriptions/${id}/dead-letters`);
    assert.equal(dl.json.entries[0].last_status, 400);
    assert.equal(dl.json.entries[0].attempts, 1, 'a 4xx is not retried');
    assert.deepEqual(dl.json.entries.map((e) => e.event.data.seq), [0, 1, 2]);
    assert.equal(rx.received.length, 0);
    broken = false;
    const rp = await request(`${h.url}/v1/subscriptions/${id}/dead-letters/replay`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"all":true}' });
    assert.equal(rp.status, 202, rp.body);
    assert.equal(rp.json.queued, 3);
    await waitFor(() => rx.received.length >= 3, { what: 'replayed deliveries' });
    assert.deepEqual(rx.seqs(), [0, 1, 2]);
    assert.equal(rx.failures.length, 0);
    await waitFor(async () => (await request(`${h.url}/v1/subscriptions/${id}/dead-letters`)).json.total === 0, { what: 'DLQ drained' });
    // New events flow normally after the fix.
    await publishN(h, 'wh-dlq', 1, 3);
    await waitFor(() => rx.received.length >= 4, { what: 'live delivery after replay' });
  } finally { await rx.stop(); }
});

test('410 Gone disables the subscription with the reason visible', async () => {
  const rx = await new Receiver(null, () => 410).start();
  try {
    const r = await createSub(h, { topic: 'wh-gone', url: rx.url });
    await publishN(h, 'wh-gone', 2);
    const id = r.json.id;
    await waitFor(async () => (await request(`${h.url}/v1/subscriptions/${id}`)).json.state === 'disabled', { what: 'disabled' });
    const g = await request(`${h.url}/v1/subscriptions/${id}`);
    assert.match(g.json.disabled_reason, /410/);
    assert.equal(rx.requests, 1, 'nothing more is sent to a receiver that said Gone');
    // Resume after the receiver is fixed: the event that got 410 is delivered (the cursor never moved past it).
    rx.behave = () => 200;
    rx.secrets.push(r.json.secret);
    const res = await request(`${h.url}/v1/subscriptions/${id}/resume`, { method: 'POST' });
    assert.equal(res.json.state, 'active');
    await waitFor(() => rx.received.length >= 2, { what: 'deliveries after resume' });
    assert.deepEqual(rx.seqs(), [0, 1]);
  } finally { await rx.stop(); }
});

test('a subscription failing for longer than disable_after is disabled automatically', async () => {
  const rx = await new Receiver(null, () => 503).start();
  try {
    const r = await createSub(h, { topic: 'wh-autodisable', url: rx.url, retry: { schedule: ['50ms', '50ms', '50ms', '50ms', '50ms', '50ms', '50ms', '50ms', '50ms', '50ms', '50ms', '50ms'], disable_after: '300ms' } });
    assert.equal(r.status, 201, r.body);
    await publishN(h, 'wh-autodisable', 1);
    await waitFor(async () => (await request(`${h.url}/v1/subscriptions/${r.json.id}`)).json.state === 'disabled', { what: 'auto-disabled' });
    const g = await request(`${h.url}/v1/subscriptions/${r.json.id}`);
    assert.match(g.json.disabled_reason, /failing for longer than/);
    assert.match(g.json.disabled_reason, /503/);
  } finally { await rx.stop(); }
});

test('retries exhausted → dead-letter queue, and the next event still flows', async () => {
  const rx = await new Receiver(null, (req, body) => (JSON.parse(body).data.seq === 0 ? 500 : 200)).start();
  try {
    const r = await createSub(h, { topic: 'wh-exhaust', url: rx.url, retry: { schedule: ['20ms', '20ms'] } });
    rx.secrets.push(r.json.secret);
    await publishN(h, 'wh-exhaust', 2);
    await waitFor(() => rx.received.length >= 1, { what: 'second event' });
    const dl = await request(`${h.url}/v1/subscriptions/${r.json.id}/dead-letters`);
    assert.equal(dl.json.total, 1);
    assert.equal(dl.json.entries[0].attempts, 3);
    assert.match(dl.json.entries[0].last_error, /retries exhausted/);
  } finally { await rx.stop(); }
});

test('secret rotation: during the overlap every delivery verifies with the old and with the new secret', async () => {
  const rx = await new Receiver().start();
  try {
    const r = await createSub(h, { topic: 'wh-rotate', url: rx.url });
    const oldSecret = r.json.secret;
    const rot = await request(`${h.url}/v1/subscriptions/${r.json.id}/rotate-secret`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"overlap":"1h"}' });
    assert.equal(rot.status, 200, rot.body);
    const newSecret = rot.json.secret;
    assert.notEqual(newSecret, oldSecret);
    assert.equal(rot.json.secrets.length, 2);
    await publishN(h, 'wh-rotate', 2);
    await waitFor(() => rx.received.length >= 2, { what: 'deliveries' });
    for (const d of rx.received) {
      assert.match(d.headers['webhook-signature'], /^v1,\S+ v1,\S+$/);
      new Webhook(oldSecret).verify(d.body, d.headers);
      new Webhook(newSecret).verify(d.body, d.headers);
    }
    // Zero overlap: the old secret stops at once.
    const rot2 = await request(`${h.url}/v1/subscriptions/${r.json.id}/rotate-secret`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"overlap":"0ms"}' });
    await publishN(h, 'wh-rotate', 1, 2);
    await waitFor(() => rx.received.length >= 3, { what: 'delivery after second rotation' });
    const last = rx.received[2];
    new Webhook(rot2.json.secret).verify(last.body, last.headers);
    assert.throws(() => new Webhook(newSecret).verify(last.body, last.headers));
  } finally { await rx.stop(); }
});

test('pause holds deliveries; resume delivers what was published meanwhile', async () => {
  const rx = await new Receiver().start();
  try {
    const r = await createSub(h, { topic: 'wh-pause', url: rx.url });
    rx.secrets.push(r.json.secret);
    const p = await request(`${h.url}/v1/subscriptions/${r.json.id}/pause`, { method: 'POST' });
    assert.equal(p.json.state, 'paused');
    await publishN(h, 'wh-pause', 3);
    await sleep(300);
    assert.equal(rx.received.length, 0);
    await request(`${h.url}/v1/subscriptions/${r.json.id}/resume`, { method: 'POST' });
    await waitFor(() => rx.received.length >= 3, { what: 'deliveries after resume' });
    assert.deepEqual(rx.seqs(), [0, 1, 2]);
  } finally { await rx.stop(); }
});

test('concurrent mode delivers every event; type filters and from=earliest apply', async () => {
  await publishN(h, 'wh-conc', 30, 0, 'test.kept.v1');
  await publishN(h, 'wh-conc', 10, 30, 'test.dropped.v1');
  const rx = await new Receiver(null, () => 200).start();
  try {
    const r = await createSub(h, { topic: 'wh-conc', url: rx.url, mode: 'concurrent', max_in_flight: 8, from: 'earliest', types: ['test.kept.*'] });
    assert.equal(r.status, 201, r.body);
    rx.secrets.push(r.json.secret);
    await waitFor(() => rx.received.length >= 30, { what: '30 deliveries' });
    await sleep(200);
    assert.deepEqual([...rx.seqs()].sort((a, b) => a - b), [...Array(30).keys()]);
    assert.equal(rx.failures.length, 0);
  } finally { await rx.stop(); }
});

test('binary content mode sends ce- headers and the data as the body', async () => {
  const rx = await new Receiver().start();
  try {
    const r = await createSub(h, { topic: 'wh-binary', url: rx.url, content_mode: 'binary' });
    rx.secrets.push(r.json.secret);
    await publishN(h, 'wh-binary', 1);
    await waitFor(() => rx.received.length >= 1, { what: 'delivery' });
    const d = rx.received[0];
    assert.equal(d.headers['ce-specversion'], '1.0');
    assert.equal(d.headers['ce-type'], 'test.thingHappened.v1');
    assert.equal(d.headers['ce-id'], d.headers['webhook-id']);
    assert.deepEqual(JSON.parse(d.body), { seq: 0 });
    assert.equal(rx.failures.length, 0);
  } finally { await rx.stop(); }
});

test('traceparent from the published event is forwarded on delivery', async () => {
  const rx = await new Receiver().start();
  try {
    const r = await createSub(h, { topic: 'wh-trace', url: rx.url });
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ev = { specversion: '1.0', id: 'trace-1', source: '/t', type: 'test.traced.v1', traceparent: tp, data: { seq: 0 } };
    const p = await request(`${h.url}/v1/topics/wh-trace/events`, { method: 'POST', headers: { 'Content-Type': 'application/cloudevents+json' }, body: JSON.stringify(ev) });
    assert.equal(p.status, 201, p.body);
    await waitFor(() => rx.received.length >= 1, { what: 'delivery' });
    assert.equal(rx.received[0].headers.traceparent, tp);
  } finally { await rx.stop(); }
});

test('the CloudEvents validation handshake is required when asked for', async () => {
  const ok = await new Receiver(null, (req) => (req.method === 'OPTIONS' ? [200, { 'WebHook-Allowed-Origin': '*' }] : 200)).start();
  const refuses = await new Receiver(null, (req) => (req.method === 'OPTIONS' ? 405 : 200)).start();
  try {
    const a = await createSub(h, { topic: 'wh-hs', url: ok.url, validation_handshake: true });
    assert.equal(a.status, 201, a.body);
    const b = await createSub(h, { topic: 'wh-hs', url: refuses.url, validation_handshake: true });
    assert.equal(b.status, 400);
    assert.match(b.json.detail, /handshake/);
  } finally { await ok.stop(); await refuses.stop(); }
});

test('bad subscription requests are answered with problem+json naming the field', async () => {
  const cases = [
    [{ url: 'http://127.0.0.1:1/x' }, 'topic'],
    [{ topic: 'wh-bad' }, 'url'],
    [{ topic: 'wh-bad', url: 'ftp://127.0.0.1/x' }, 'url'],
    [{ topic: 'wh-bad', url: 'not a url' }, 'url'],
    [{ topic: 'Bad Topic', url: 'http://127.0.0.1:1/x' }, 'topic'],
    [{ topic: 'wh-bad', url: 'http://127.0.0.1:1/x', mode: 'sideways' }, 'mode'],
    [{ topic: 'wh-bad', url: 'http://127.0.0.1:1/x', secret: 'nope' }, 'secret'],
    [{ topic: 'wh-bad', url: 'http://127.0.0.1:1/x', retry: { schedule: ['5 parsecs'] } }, 'retry.schedule'],
    [{ topic: 'wh-bad', url: 'http://127.0.0.1:1/x', from: 'yesterday' }, 'from'],
    [{ topic: 'wh-bad', url: 'http://127.0.0.1:1/x', colour: 'blue' }, 'colour'],
  ];
  for (const [body, field] of cases) {
    const r = await createSub(h, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${r.body}`);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(r.json.attribute ?? r.json.parameter ?? r.json.field, field, r.body);
  }
  const notJson = await request(`${h.url}/v1/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' });
  assert.equal(notJson.status, 400);
  assert.equal((await request(`${h.url}/v1/subscriptions/wh_nope`)).status, 404);
  assert.equal((await request(`${h.url}/v1/subscriptions/wh_nope`, { method: 'DELETE' })).status, 404);
  assert.equal((await request(`${h.url}/v1/subscriptions`, { method: 'PUT' })).status, 405);
});

test('metrics count attempts by outcome and expose lag and the DLQ size', async () => {
  const m = await metrics(h.admin);
  assert.ok(m['herald_webhook_attempts_total{outcome="delivered"}'] > 0);
  assert.ok(m['herald_webhook_attempts_total{outcome="retry"}'] > 0);
  assert.ok(m['herald_webhook_attempts_total{outcome="dead_letter"}'] > 0);
  assert.ok(m['herald_webhook_attempts_total{outcome="gone"}'] >= 1);
  assert.ok(m['herald_webhook_delivery_latency_seconds_count'] > 0);
  assert.ok(Object.keys(m).some((k) => k.startsWith('herald_webhook_lag_events{')));
});

test('deleting a subscription stops deliveries', async () => {
  const rx = await new Receiver().start();
  try {
    const r = await createSub(h, { topic: 'wh-delete', url: rx.url });
    const d = await request(`${h.url}/v1/subscriptions/${r.json.id}`, { method: 'DELETE' });
    assert.equal(d.status, 204);
    await publishN(h, 'wh-delete', 2);
    await sleep(300);
    assert.equal(rx.requests, 0);
    assert.equal((await request(`${h.url}/v1/subscriptions/${r.json.id}`)).status, 404);
  } finally { await rx.stop(); }
});
