'use strict';
// The Kafka engine (docs/engines.md) against librdkafka's mock cluster (3 brokers, served by herald-kafka-mock;
// no Kafka broker is packaged in Debian), with several Herald nodes sharing its topics: a publish on any node
// reaches subscribers on every node in one order; cursors, event-id deduplication and Idempotency-Key replays work
// across nodes; an SSE client of a node killed with SIGKILL resumes on another and misses nothing. Bridge mode:
// records that kcat and kafkajs write into an existing Kafka topic arrive over SSE as CloudEvents (structured,
// binary or wrapped), and what Herald publishes is readable with kcat. With the brokers gone, publishing answers
// 503 with Retry-After and /readyz says why.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { Herald, metrics, publish, publishEvent, request, sseConnect, sleep, waitFor } = require('./lib/herald');
const { KafkaMock } = require('./lib/kafka');
const { metricsPassPromtool, oneOrderOnEveryNode, resumeAfterKill } = require('./lib/cluster_scenarios');

function config(kafka, extra = '', top = '') {
  return `
engine:
  kind: kafka
  kafka:
    brokers: [${kafka.brokerList().join(', ')}]
    create_topics: broker
    publish_timeout: 3s
    request_timeout: 3s
${extra}${top}`;
}

async function startNodes(kafka, n, extra = '', top = '') {
  const nodes = [];
  for (let i = 0; i < n; i++) nodes.push(await new Herald({ config: config(kafka, extra, top) }).start());
  return nodes;
}

async function stopAll(nodes) {
  for (const h of nodes) {
    await h.stop();
    h.cleanup();
  }
}

test('Kafka engine: three Herald nodes over one Kafka cluster', async (t) => {
  const kafka = await new KafkaMock({ topics: ['herald.orders:1', 'herald.payments:1', 'herald.failover:1'] }).start();
  const nodes = await startNodes(kafka, 3);
  t.after(async () => {
    await stopAll(nodes);
    await kafka.stop();
  });

  await t.test('a publish on any node reaches subscribers on every node, in one order', async () => {
    await oneOrderOnEveryNode(nodes, 'orders');
  });

  await t.test("/metrics has the engine's figures and passes promtool", async () => {
    const m = await metrics(nodes[1].admin);
    assert.ok(m.herald_engine_kafka_produced_total >= 99, 'node 1 produced its share');
    assert.equal(m.herald_engine_kafka_delivery_failures_total, 0);
    // Node 1 opened the topic after its first event: its consumer read the other 299, every node's.
    assert.ok(m.herald_engine_kafka_consumed_total >= 299, `node 1 consumed every node's events: ${m.herald_engine_kafka_consumed_total}`);
    await waitFor(async () => (await metrics(nodes[1].admin))['herald_engine_kafka_consumer_lag{topic="orders"}'] === 0,
      { timeout: 10000, what: 'no consumer lag' });
    assert.equal(m['herald_topic_end_offset{topic="orders"}'], 300);
    await metricsPassPromtool(nodes[1]);
  });

  await t.test('cursors, event ids and Idempotency-Keys work across nodes', async () => {
    const event = { specversion: '1.0', id: 'dup-1', source: '/it', type: 'test.thingHappened.v1', data: { n: 1 } };
    const a = await publishEvent(nodes[0].url, 'payments', event);
    assert.equal(a.status, 201, a.body);
    // Node 1 opens the topic now: its dedup window is rebuilt from the topic's tail.
    const b = await publishEvent(nodes[1].url, 'payments', event);
    assert.equal(b.status, 200, b.body);
    const ja = JSON.parse(a.body);
    assert.equal(JSON.parse(b.body).duplicate, true);
    assert.equal(JSON.parse(b.body).offset, ja.offset);
    // Node 2 has the topic open already: the event reached its window through its consumer.
    await publish(nodes[2].url, 'payments', { warm: true });
    const event2 = { ...event, id: 'dup-2' };
    const c = await publishEvent(nodes[0].url, 'payments', event2);
    assert.equal(c.status, 201, c.body);
    await waitFor(async () => {
      const r = await request(`${nodes[2].url}/v1/topics`);
      return JSON.parse(r.body).topics.some((tp) => tp.name === 'payments' && tp.end_offset > JSON.parse(c.body).offset);
    }, { timeout: 10000, what: "node 2's consumer has the event" });
    const dup2 = await publishEvent(nodes[2].url, 'payments', event2);
    assert.equal(dup2.status, 200, dup2.body);
    assert.equal(JSON.parse(dup2.body).offset, JSON.parse(c.body).offset);

    // A batch with an Idempotency-Key on node 0, retried on node 1: the original answer, nothing appended.
    const batch = JSON.stringify([
      { specversion: '1.0', id: 'k-a', source: '/it', type: 'test.thingHappened.v1' },
      { specversion: '1.0', id: 'k-b', source: '/it', type: 'test.thingHappened.v1' },
    ]);
    const headers = { 'content-type': 'application/cloudevents-batch+json', 'idempotency-key': 'pay-42' };
    const p1 = await request(`${nodes[0].url}/v1/topics/payments/events`, { method: 'POST', headers, body: batch });
    assert.equal(p1.status, 201, p1.body);
    await sleep(300);  // node 1's consumer has the records (a retry is never this quick in practice)
    const p2 = await request(`${nodes[1].url}/v1/topics/payments/events`, { method: 'POST', headers, body: batch });
    assert.equal(p2.status, 200, p2.body);
    assert.deepEqual(JSON.parse(p2.body).results.map((r) => r.offset), JSON.parse(p1.body).results.map((r) => r.offset));

    // Node 2 reads what follows node 0's cursor.
    const page = await request(`${nodes[2].url}/v1/topics/payments/events?from=${encodeURIComponent(ja.cursor)}`);
    assert.equal(page.status, 200, page.body);
    assert.deepEqual(JSON.parse(page.body).events.map((e) => e.id).slice(1), ['dup-2', 'k-a', 'k-b']);
    // Every node lists the topic with the same end.
    for (const h of nodes) {
      await waitFor(async () => {
        const r = await request(`${h.url}/v1/topics`);
        return JSON.parse(r.body).topics.some((tp) => tp.name === 'payments' && tp.end_offset === 5);
      }, { timeout: 10000, what: 'payments in the topic list' });
    }
  });

  await t.test('what Herald stores is a CloudEvent any Kafka client reads (kcat)', async () => {
    const r = await kafka.kcat(['-C', '-t', 'herald.orders', '-p', '0', '-o', '0', '-c', '2', '-e',
      '-f', '%h\\t%s\\n']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    const [hdrs, value] = lines[0].split('\t');
    assert.match(hdrs, /content-type=application\/cloudevents\+json/);
    const ev = JSON.parse(value);
    assert.equal(ev.specversion, '1.0');
    assert.deepEqual(ev.data, { seq: 0 });
  });

  await t.test('SIGKILL of a node mid-stream: its SSE client resumes on another node and misses nothing', async () => {
    await resumeAfterKill({ publisher: nodes[0], victim: nodes[2], survivor: nodes[1], topic: 'failover' });
  });
});

test('Kafka engine: bridge mode exposes an existing Kafka topic as a Herald topic', async (t) => {
  const kafka = await new KafkaMock({ topics: ['legacy.orders:1', 'legacy.billing:1'] }).start();
  const bridges = `    bridges:
      - topic: orders
        kafka_topic: legacy.orders
        wrap_type: legacy.orderRecorded.v1
        wrap_source: /legacy/orders
      - topic: billing
        kafka_topic: legacy.billing
        write_format: binary
`;
  const [node] = await startNodes(kafka, 1, bridges);
  t.after(async () => {
    await node.stop();
    node.cleanup();
    await kafka.stop();
  });

  await t.test('records written by kcat and kafkajs arrive over SSE as CloudEvents', async () => {
    const got = [];
    const conn = sseConnect(`${node.url}/v1/topics/orders/events?from=earliest`, { onEvent: (e) => got.push(e) });
    try {
      // Plain JSON with a key → wrapped, the key as partitionkey.
      let r = await kafka.kcat(['-P', '-t', 'legacy.orders', '-p', '0', '-k', 'cust-7'], { input: '{"total":12}' });
      assert.equal(r.code, 0, r.stderr);
      // Binary mode: attributes in ce_ headers.
      r = await kafka.kcat(['-P', '-t', 'legacy.orders', '-p', '0', '-H', 'ce_specversion=1.0', '-H', 'ce_id=b-1',
        '-H', 'ce_source=/billing', '-H', 'ce_type=billing.invoicePaid.v1', '-H', 'ce_subject=inv-9',
        '-H', 'content-type=application/json'], { input: '{"paid":true}' });
      assert.equal(r.code, 0, r.stderr);
      // Structured mode from kafkajs, then bytes that are not JSON.
      const { Kafka, logLevel } = require('kafkajs');
      const client = new Kafka({ clientId: 'it', brokers: kafka.brokerList(), logLevel: logLevel.NOTHING });
      const producer = client.producer();
      await producer.connect();
      try {
        await producer.send({ topic: 'legacy.orders', messages: [
          { partition: 0, value: JSON.stringify({ specversion: '1.0', id: 's-1', source: '/shop', type: 'shop.orderPlaced.v1', data: { n: 3 } }),
            headers: { 'content-type': 'application/cloudevents+json; charset=UTF-8' } },
          { partition: 0, value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
        ] });
      } finally {
        await producer.disconnect();
      }
      await waitFor(() => got.length >= 4, { timeout: 10000, what: 'four bridged records' });
      const events = got.map((e) => JSON.parse(e.data));
      assert.deepEqual(got.map((e) => e.event), ['legacy.orderRecorded.v1', 'billing.invoicePaid.v1',
        'shop.orderPlaced.v1', 'legacy.orderRecorded.v1']);
      assert.equal(events[0].id, 'legacy.orders-0-0');
      assert.equal(events[0].source, '/legacy/orders');
      assert.equal(events[0].partitionkey, 'cust-7');
      assert.deepEqual(events[0].data, { total: 12 });
      assert.ok(events[0].time, 'the record timestamp');
      assert.equal(events[1].id, 'b-1');
      assert.equal(events[1].subject, 'inv-9');
      assert.deepEqual(events[1].data, { paid: true });
      assert.equal(events[2].id, 's-1');
      assert.deepEqual(events[2].data, { n: 3 });
      assert.equal(events[3].data_base64, '3q2+7w==');
    } finally {
      conn.close();
    }
    // A restart reads the same records into the same events (ids are derived from the record's position).
    const page = await request(`${node.url}/v1/topics/orders/events?from=earliest`);
    assert.deepEqual(JSON.parse(page.body).events.map((e) => e.id), ['legacy.orders-0-0', 'b-1', 's-1', 'legacy.orders-0-3']);
  });

  await t.test('events published to a bridged topic reach Kafka clients in the configured mode', async () => {
    const event = { specversion: '1.0', id: 'h-1', source: '/herald-it', type: 'billing.refundIssued.v1',
      subject: 'inv-9', data: { amount: 5 } };
    const r = await publishEvent(node.url, 'billing', event);
    assert.equal(r.status, 201, r.body);
    const out = await kafka.kcat(['-C', '-t', 'legacy.billing', '-p', '0', '-o', '0', '-c', '1', '-e', '-f', '%h\\t%s\\n']);
    assert.equal(out.code, 0, out.stderr);
    const [hdrs, value] = out.stdout.trim().split('\t');
    assert.match(hdrs, /ce_id=h-1/);
    assert.match(hdrs, /ce_type=billing\.refundIssued\.v1/);
    assert.match(hdrs, /ce_subject=inv-9/);
    assert.match(hdrs, /content-type=application\/json/);
    assert.deepEqual(JSON.parse(value), { amount: 5 });
    // Read back through Herald: the same event.
    const page = await request(`${node.url}/v1/topics/billing/events?from=earliest`);
    const [back] = JSON.parse(page.body).events;
    assert.equal(back.id, 'h-1');
    assert.equal(back.subject, 'inv-9');
    assert.deepEqual(back.data, { amount: 5 });
  });

  await t.test('a bridged topic cannot be deleted through Herald; a failed DeleteTopics is a clear 503', async () => {
    const del = await request(`${node.admin}/admin/topics/orders`, { method: 'DELETE' });
    assert.equal(del.status, 409, del.body);
    assert.match(del.headers['content-type'], /application\/problem\+json/);
    assert.match(JSON.parse(del.body).detail, /bridge/);
    // Herald's own topic: the mock cluster has no admin API, so Kafka's answer is a timeout — reported as such,
    // and the topic stays usable.
    assert.equal((await publish(node.url, 'scratch', { n: 1 })).status, 201);
    const own = await request(`${node.admin}/admin/topics/scratch`, { method: 'DELETE', timeout: 20000 });
    assert.equal(own.status, 503, own.body);
    assert.match(own.headers['content-type'], /application\/problem\+json/);
    assert.match(JSON.parse(own.body).detail, /DeleteTopics|deleting Kafka topic/);
    assert.equal((await publish(node.url, 'scratch', { n: 2 })).status, 201);
    const page = await request(`${node.url}/v1/topics/scratch/events?from=earliest`);
    assert.deepEqual(JSON.parse(page.body).events.map((e) => e.data.n), [1, 2]);
    // Unknown topics are 404 as on every engine.
    const none = await request(`${node.admin}/admin/topics/never-made`, { method: 'DELETE', timeout: 20000 });
    assert.equal(none.status, 404, none.body);
  });
});

test('Kafka engine: with the brokers gone, publishing answers 503 with Retry-After and /readyz says why', async (t) => {
  const kafka = await new KafkaMock({ topics: ['herald.down:1'] }).start();
  const [node] = await startNodes(kafka, 1);
  t.after(async () => {
    await node.stop();
    node.cleanup();
    await kafka.stop();
  });
  const ok = await publish(node.url, 'down', { n: 1 });
  assert.equal(ok.status, 201, ok.body);
  for (let i = 1; i <= 3; i++) await kafka.command(`down ${i}`);
  const r = await publish(node.url, 'down', { n: 2 }, { timeout: 20000 });
  assert.equal(r.status, 503, r.body);
  assert.equal(r.headers['retry-after'], '1');
  assert.match(r.headers['content-type'], /application\/problem\+json/);
  await waitFor(async () => (await request(`${node.url}/readyz`)).status === 503, { timeout: 15000, what: '/readyz 503' });
  const ready = await request(`${node.url}/readyz`);
  assert.match(ready.body, /Kafka/);
  // An admin change the other nodes could not learn of is not made at all.
  const schema = await request(`${node.admin}/schemas/shipping.parcelSent.v1`, {
    method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'object' }), timeout: 20000,
  });
  assert.equal(schema.status, 503, schema.body);
  assert.equal(schema.headers['retry-after'], '1');
  assert.match(JSON.parse(schema.body).detail, /schema registry was not changed/);
  assert.equal((await request(`${node.admin}/schemas/shipping.parcelSent.v1`)).status, 404);
  // The brokers come back: publishing works again, and nothing acknowledged was lost.
  for (let i = 1; i <= 3; i++) await kafka.command(`up ${i}`);
  const back = await waitFor(async () => {
    const x = await publish(node.url, 'down', { n: 3 }, { timeout: 20000 });
    return x.status === 201 ? x : null;
  }, { timeout: 30000, interval: 500, what: 'a publish after the brokers return' });
  assert.equal(back.status, 201);
  const page = await request(`${node.url}/v1/topics/down/events?from=earliest`);
  const data = JSON.parse(page.body).events.map((e) => e.data.n);
  assert.equal(data[0], 1);
  assert.equal(data[data.length - 1], 3);
});

test('Kafka engine: a node that cannot reach the brokers does not start, and says why', async () => {
  const h = new Herald({ config: `
engine:
  kind: kafka
  kafka:
    brokers: [127.0.0.1:1]
    request_timeout: 1s
` });
  await assert.rejects(h.start(), /cannot start the Kafka engine[\s\S]*Kafka did not answer/);
  await h.stop();
  h.cleanup();
});

test('Kafka engine: a webhook subscription is delivered by one node at a time and survives that node', async (t) => {
  const kafka = await new KafkaMock({ topics: ['herald.shipments:1'] }).start();
  // The lease is a consumer group whose session timeout is the lease TTL (the mock wants more than 3 s).
  const nodes = await startNodes(kafka, 3, '    lease_ttl: 4s\n', `webhooks:
  allow_destinations: ["127.0.0.1/32"]
  retry_schedule: [50ms, 100ms]
  retry_jitter: false
`);
  const received = [];
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')).data.seq);
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  t.after(async () => {
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
    await stopAll(nodes);
    await kafka.stop();
  });
  assert.equal((await publish(nodes[0].url, 'shipments', { seq: -1 })).status, 201);
  const created = await request(`${nodes[1].url}/v1/subscriptions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ topic: 'shipments', url: `http://127.0.0.1:${receiver.address().port}/hook` }),
  });
  assert.equal(created.status, 201, created.body);
  const sub = JSON.parse(created.body);
  const dispatchers = async (hs) => {
    const out = [];
    for (const h of hs) {
      const r = await request(`${h.url}/v1/subscriptions/${sub.id}`);
      if (r.status !== 200) return null;
      if (JSON.parse(r.body).dispatched_here) out.push(h);
    }
    return out;
  };
  const [holder] = await waitFor(async () => {
    const d = await dispatchers(nodes);
    return d && d.length === 1 ? d : null;
  }, { timeout: 30000, interval: 200, what: 'every node to know the subscription and one to dispatch it' });
  for (const h of nodes)
    assert.equal((await metrics(h.admin)).herald_webhook_dispatching, h === holder ? 1 : 0, 'one node dispatches');

  for (let i = 0; i < 30; i++) assert.equal((await publish(nodes[i % 3].url, 'shipments', { seq: i })).status, 201);
  await waitFor(() => received.length >= 30, { timeout: 15000, what: 'the first 30 deliveries' });
  await sleep(300);
  assert.deepEqual(received, Array.from({ length: 30 }, (_, i) => i), 'one node dispatches: each event once, in order');

  await sleep(1500);  // the holder's progress reaches Kafka (a round is 800 ms here)
  await holder.kill9();
  const survivors = nodes.filter((h) => h !== holder);
  for (let i = 30; i < 60; i++) assert.equal((await publish(survivors[i % 2].url, 'shipments', { seq: i })).status, 201);
  // The group notices the dead member after its session timeout, then a survivor is assigned the lease.
  await waitFor(() => new Set(received).size >= 60, { timeout: 30000, what: 'the takeover to deliver the rest' });
  const next = await waitFor(async () => {
    const d = await dispatchers(survivors);
    return d && d.length === 1 ? d : null;
  }, { timeout: 10000, interval: 200, what: 'one survivor to dispatch' });
  assert.notEqual(next[0], holder);
  const firsts = [];
  const seen = new Set();
  for (const n of received) if (!seen.has(n)) { seen.add(n); firsts.push(n); }
  assert.deepEqual(firsts, Array.from({ length: 60 }, (_, i) => i), 'at least once, in order');
  t.diagnostic(`deliveries ${received.length} for 60 events (${received.length - 60} repeated across the takeover)`);
  assert.ok(received.length - 60 <= 10, `too many repeats: ${received.length - 60}`);
});

test('Kafka engine: API keys made through the admin API work, rotate and die on every node', async (t) => {
  const kafka = await new KafkaMock({ topics: ['herald.orders:1'] }).start();
  const ADMIN_TOKEN = 'admin-token-for-the-kafka-test-0123456789';
  const nodes = await startNodes(kafka, 2, '', `auth:
  enabled: true
  admin_token: ${ADMIN_TOKEN}
`);
  const retired = [];
  t.after(async () => {
    await stopAll(nodes);
    retired.forEach((h) => h.cleanup());
    await kafka.stop();
  });
  const admin = (h, method, path, body) => request(`${h.admin}${path}`, {
    method, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ADMIN_TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const status = async (h, key) => (await publish(h.url, 'orders', { n: 1 }, { headers: { 'X-API-Key': key } })).status;

  const created = await admin(nodes[0], 'POST', '/admin/api-keys', { name: 'ci', scopes: ['publish:orders'] });
  assert.equal(created.status, 201, created.body);
  const key = JSON.parse(created.body).key;
  assert.equal(await status(nodes[0], key), 201, 'at once on the node that made it');
  await waitFor(async () => (await status(nodes[1], key)) === 201, { timeout: 10000, interval: 200, what: 'the key on node 1' });
  const listed = JSON.parse((await admin(nodes[1], 'GET', '/admin/api-keys/ci')).body);
  assert.deepEqual(listed.scopes, ['publish:orders']);
  assert.equal(listed.source, 'admin');

  // Rotated on node 1: the old key stops on node 0 too, the new one works there.
  const rotated = await admin(nodes[1], 'POST', '/admin/api-keys/ci/rotate', {});
  assert.equal(rotated.status, 200, rotated.body);
  const fresh = JSON.parse(rotated.body).key;
  assert.equal(await status(nodes[1], key), 401);
  await waitFor(async () => (await status(nodes[0], key)) === 401 && (await status(nodes[0], fresh)) === 201,
    { timeout: 10000, interval: 200, what: 'the rotation on node 0' });

  // Deleted on node 0: rejected on node 1 within a round.
  assert.equal((await admin(nodes[0], 'DELETE', '/admin/api-keys/ci')).status, 204);
  await waitFor(async () => (await status(nodes[1], fresh)) === 401, { timeout: 10000, interval: 200, what: 'the deletion on node 1' });
  assert.equal((await admin(nodes[1], 'GET', '/admin/api-keys/ci')).status, 404);

  // A node that restarts finds the cluster's keys, not only its own meta.db.
  const again = await admin(nodes[1], 'POST', '/admin/api-keys', { name: 'late', scopes: ['publish:orders'] });
  assert.equal(again.status, 201, again.body);
  await nodes[0].stop();
  retired.push(nodes[0]);
  nodes[0] = await new Herald({ dataDir: nodes[0].dataDir, config: nodes[0].configText }).start();
  await waitFor(async () => (await status(nodes[0], JSON.parse(again.body).key)) === 201,
    { timeout: 10000, interval: 200, what: 'the key on the restarted node' });
});

test('Kafka engine: schema versions registered on one node validate on every node', async (t) => {
  const kafka = await new KafkaMock({ topics: ['herald.parcels:1'] }).start();
  const nodes = await startNodes(kafka, 2);
  const retired = [];
  t.after(async () => {
    await stopAll(nodes);
    retired.forEach((h) => h.cleanup());
    await kafka.stop();
  });
  const admin = (h, method, path, body) => request(`${h.admin}${path}`, {
    method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const TYPE = 'shipping.parcelSent.v1';
  const post = (h, id, data) => publishEvent(h.url, 'parcels', { specversion: '1.0', id, source: '/it', type: TYPE, data });
  const versions = async (h) => {
    const r = await admin(h, 'GET', `/schemas/${TYPE}/versions`);
    return r.status === 200 ? JSON.parse(r.body).versions : [];
  };

  const v1 = { type: 'object', required: ['parcelId'], properties: { parcelId: { type: 'string' } } };
  const r1 = await admin(nodes[0], 'PUT', `/schemas/${TYPE}`, v1);
  assert.equal(r1.status, 201, r1.body);
  // Node 1 learns of it and refuses what does not match.
  await waitFor(async () => (await post(nodes[1], `bad-${Date.now()}`, { weight: 1 })).status === 422,
    { timeout: 10000, interval: 200, what: 'node 1 to validate against v1' });
  assert.equal((await post(nodes[1], 'ok-1', { parcelId: 'p1' })).status, 201);

  // v2 registered on node 1 (a compatible change) has number 2 on node 0 too.
  const v2 = { type: 'object', required: ['parcelId'], properties: { parcelId: { type: 'string' }, weight: { type: 'number' } } };
  const r2 = await admin(nodes[1], 'PUT', `/schemas/${TYPE}`, v2);
  assert.equal(r2.status, 201, r2.body);
  assert.equal(JSON.parse(r2.body).version, 2);
  await waitFor(async () => JSON.stringify(await versions(nodes[0])) === '[1,2]', { timeout: 10000, interval: 200, what: 'v2 on node 0' });
  const got = JSON.parse((await admin(nodes[0], 'GET', `/schemas/${TYPE}/versions/2`)).body);
  assert.deepEqual(got.schema, v2);

  // Removed on node 0: gone on node 1, and a node that was down while it happened does not bring it back.
  await nodes[1].stop();
  retired.push(nodes[1]);
  assert.equal((await admin(nodes[0], 'DELETE', `/schemas/${TYPE}/versions/2`)).status, 204);
  nodes[1] = await new Herald({ dataDir: nodes[1].dataDir, config: nodes[1].configText }).start();
  await waitFor(async () => JSON.stringify(await versions(nodes[1])) === '[1]', { timeout: 10000, interval: 200, what: 'the removal on the restarted node' });
  await sleep(1500);  // a few rounds: neither node brings v2 back
  assert.deepEqual(await versions(nodes[0]), [1]);
  assert.deepEqual(await versions(nodes[1]), [1]);
});

test('Kafka engine: routes and upstreams made through the admin API serve on every node', async (t) => {
  const kafka = await new KafkaMock({ topics: [] }).start();
  const backend = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`backend saw ${req.url}`);
  });
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  const nodes = await startNodes(kafka, 2);
  t.after(async () => {
    await stopAll(nodes);
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
    await kafka.stop();
  });
  const put = (h, path, body) => request(`${h.admin}${path}`, {
    method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const get = async (h, path) => {
    const r = await request(`${h.url}${path}`);
    return r.status === 200 ? r.body : r.status;
  };
  assert.equal((await put(nodes[0], '/admin/upstreams/orders', { targets: [`127.0.0.1:${backend.address().port}`] })).status, 201);
  const route = await put(nodes[0], '/admin/routes/orders', { match: { prefix: '/api/orders/' }, upstream: 'orders', rewrite: { strip_prefix: '/api' } });
  assert.equal(route.status, 201, route.body);
  assert.equal(await get(nodes[0], '/api/orders/7'), 'backend saw /orders/7');
  await waitFor(async () => (await get(nodes[1], '/api/orders/7')) === 'backend saw /orders/7',
    { timeout: 10000, interval: 200, what: 'the route on node 1' });
  const listed = JSON.parse((await request(`${nodes[1].admin}/admin/routes/orders`)).body);
  assert.equal(listed.source, 'admin');

  // Changed on node 1 (no prefix strip): node 0 follows; deleted on node 0: node 1 answers 404 again.
  assert.equal((await put(nodes[1], '/admin/routes/orders', { match: { prefix: '/api/orders/' }, upstream: 'orders' })).status, 200);
  await waitFor(async () => (await get(nodes[0], '/api/orders/8')) === 'backend saw /api/orders/8',
    { timeout: 10000, interval: 200, what: 'the change on node 0' });
  assert.equal((await request(`${nodes[0].admin}/admin/routes/orders`, { method: 'DELETE' })).status, 204);
  await waitFor(async () => (await get(nodes[1], '/api/orders/9')) === 404, { timeout: 10000, interval: 200, what: 'the deletion on node 1' });
  assert.equal((await request(`${nodes[1].admin}/admin/upstreams/orders`, { method: 'DELETE' })).status, 204);
  await waitFor(async () => (await request(`${nodes[0].admin}/admin/upstreams/orders`)).status === 404,
    { timeout: 10000, interval: 200, what: 'the upstream deletion on node 0' });
});
