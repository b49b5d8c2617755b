'use strict';
// The NATS JetStream engine (docs/engines.md) against a real 3-node nats-server cluster on loopback, with several
// Herald nodes sharing its streams: a publish on any node reaches subscribers on every node in one order; cursors
// and event-id deduplication work across nodes; an SSE client of a node killed with SIGKILL resumes on another
// with Last-Event-ID and misses nothing; killing the stream's leader mid-publish loses no acknowledged event; with
// the whole cluster down, publishing answers 503 with Retry-After and /readyz says why.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { Herald, metrics, publish, publishEvent, request, sseConnect, sleep, waitFor } = require('./lib/herald');
const { Webhook } = require('standardwebhooks');
const { NatsCluster } = require('./lib/nats');
const { metricsPassPromtool, oneOrderOnEveryNode, resumeAfterKill } = require('./lib/cluster_scenarios');

function config(cluster, first, extra = '', top = '') {
  // Each node lists every server, its own first, as a deployment would.
  const urls = cluster.urls();
  const ordered = [urls[first % urls.length], ...urls.filter((_, i) => i !== first % urls.length)];
  return `
engine:
  kind: jetstream
  jetstream:
    servers: [${ordered.join(', ')}]
    replicas: ${cluster.size}
${extra}${top}`;
}

async function startNodes(cluster, n, extra = '', top = '') {
  const nodes = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(await new Herald({ config: config(cluster, i, extra, top) }).start());
  } catch (e) {
    // The caller's cleanup is not registered yet: stop what was started, or the test run waits for it forever.
    await stopAll(nodes);
    await cluster.stop();
    throw e;
  }
  return nodes;
}

async function stopAll(nodes) {
  for (const h of nodes) {
    await h.stop();
    h.cleanup();
  }
}

// Every event of `topic` from the beginning, through JSON pages of `limit` events.
async function readAll(base, topic, limit = 500) {
  const out = [];
  let from = 'earliest';
  for (let page = 0; page < 1000; page++) {
    const r = await request(`${base}/v1/topics/${topic}/events?from=${encodeURIComponent(from)}&limit=${limit}`);
    assert.equal(r.status, 200, r.body);
    const j = JSON.parse(r.body);
    out.push(...j.events);
    if (j.events.length === 0) return out;
    from = j.next;
  }
  throw new Error('too many pages');
}

test('JetStream engine: three Herald nodes over a three-node cluster', async (t) => {
  const cluster = await new NatsCluster(3).start();
  const nodes = await startNodes(cluster, 3);
  t.after(async () => {
    await stopAll(nodes);
    await cluster.stop();
  });

  await t.test('a publish on any node reaches subscribers on every node, in one order', async () => {
    await oneOrderOnEveryNode(nodes, 'orders');
  });

  await t.test("/metrics has the engine's figures and passes promtool", async () => {
    const m = await metrics(nodes[1].admin);
    assert.equal(m.herald_engine_jetstream_connected, 1);
    assert.equal(m['herald_engine_jetstream_live_pending_events{topic="orders"}'], 0, 'node 1 delivered everything');
    assert.equal(m.herald_engine_jetstream_acks_outstanding, 0);
    assert.equal(m['herald_topic_end_offset{topic="orders"}'], 300);
    await metricsPassPromtool(nodes[1]);
  });

  await t.test('a cursor from one node resumes on another; event ids deduplicate across nodes', async () => {
    const event = { specversion: '1.0', id: 'dup-1', source: '/it', type: 'test.thingHappened.v1', data: { n: 1 } };
    const a = await publishEvent(nodes[0].url, 'payments', event);
    assert.equal(a.status, 201, a.body);
    const b = await publishEvent(nodes[1].url, 'payments', event);
    assert.equal(b.status, 200, b.body);
    const ja = JSON.parse(a.body);
    const jb = JSON.parse(b.body);
    assert.equal(jb.duplicate, true);
    assert.equal(jb.offset, ja.offset);
    const c = await publish(nodes[2].url, 'payments', { after: true });
    assert.equal(c.status, 201);
    // Node 2 reads what follows node 0's cursor.
    const page = await request(`${nodes[2].url}/v1/topics/payments/events?from=${encodeURIComponent(ja.cursor)}`);
    assert.equal(page.status, 200, page.body);
    const events = JSON.parse(page.body).events;
    assert.equal(events.length, 1);
    assert.deepEqual(events[0].data, { after: true });
    // The topic list of a node that never touched the topic shows it (from the engine, not local state).
    await waitFor(async () => {
      const r = await request(`${nodes[1].url}/v1/topics`);
      return JSON.parse(r.body).topics.some((tp) => tp.name === 'payments' && tp.end_offset === 2);
    }, { timeout: 10000, what: 'payments in node 1 topic list' });
  });

  await t.test('a topic deleted on one node and created again is new on every node', async () => {
    const a = await publish(nodes[0].url, 'ephemeral', { n: 1 });
    assert.equal(a.status, 201, a.body);
    const b = await publish(nodes[1].url, 'ephemeral', { n: 2 });  // node 1 has the topic open
    assert.equal(b.status, 201, b.body);
    const oldCursor = JSON.parse(b.body).cursor;
    const del = await request(`${nodes[0].admin}/admin/topics/ephemeral`, { method: 'DELETE' });
    assert.equal(del.status, 204, del.body);
    // Node 1 learns of it from its next refresh of the topic list (every 2 s), then a publish creates it anew.
    const again = await waitFor(async () => {
      const r = await publish(nodes[1].url, 'ephemeral', { n: 3 });
      return r.status === 201 ? r : null;
    }, { timeout: 20000, interval: 500, what: 'a publish on node 1 after the delete' });
    const j = JSON.parse(again.body);
    assert.equal(j.offset, 0, 'the re-created topic starts at offset 0');
    assert.notEqual(j.cursor.split('.')[1], oldCursor.split('.')[1], 'a new epoch');
    // The old cursor is detected on any node, not applied to the new events.
    const page = await request(`${nodes[2].url}/v1/topics/ephemeral/events?from=${encodeURIComponent(oldCursor)}`);
    assert.equal(page.status, 200, page.body);
    const body = JSON.parse(page.body);
    assert.equal(body.gap.reason, 'epoch', 'the page says the cursor is from another epoch');
    assert.deepEqual(body.events.map((e) => e.data), [{ n: 3 }]);
  });

  await t.test('SIGKILL of a node mid-stream: its SSE client resumes on another node and misses nothing', async () => {
    await resumeAfterKill({ publisher: nodes[0], victim: nodes[2], survivor: nodes[1], topic: 'failover' });
  });
});

// The streams of the Herald deployment, by name, from a live server's monitoring endpoint.
async function streamNames(cluster) {
  for (const n of cluster.nodes) {
    if (!n.proc || n.proc.exitCode !== null || n.proc.signalCode) continue;
    const j = await cluster.jsz(n, '?accounts=true&streams=true');
    if (!j) continue;
    const names = [];
    for (const acc of j.account_details || []) for (const s of acc.stream_detail || []) names.push(s.name);
    return names.sort();
  }
  return [];
}

test('JetStream engine (streams: shared): every topic a subject of one stream', async (t) => {
  const cluster = await new NatsCluster(3).start();
  const nodes = await startNodes(cluster, 3, '    streams: shared\n');
  t.after(async () => {
    await stopAll(nodes);
    await cluster.stop();
  });
  const TOTAL = 120;
  const sent = { orders: [], payments: [] };
  const got = nodes.map(() => ({ orders: [], payments: [] }));

  await t.test('two topics interleaved in one stream: each subscriber on each node gets its topic, in order, with the same cursors', async () => {
    const conns = [];
    for (const [i, h] of nodes.entries()) {
      for (const topic of ['orders', 'payments']) {
        conns.push(sseConnect(`${h.url}/v1/topics/${topic}/events?from=earliest`, {
          onEvent: (e) => got[i][topic].push({ id: e.id, seq: JSON.parse(e.data).data.seq }),
        }));
      }
    }
    try {
      const agents = nodes.map(() => new http.Agent({ keepAlive: true, maxSockets: 2 }));
      for (let i = 0; i < TOTAL; i++) {
        const topic = i % 3 === 0 ? 'payments' : 'orders';
        const h = i % nodes.length;
        const r = await publish(nodes[h].url, topic, { seq: i }, { agent: agents[h] });
        assert.equal(r.status, 201, r.body);
        sent[topic].push({ seq: i, offset: JSON.parse(r.body).offset, cursor: JSON.parse(r.body).cursor });
      }
      await waitFor(() => got.every((g) => g.orders.length >= sent.orders.length && g.payments.length >= sent.payments.length),
        { timeout: 20000, what: 'every event of both topics on every node' });
      for (const g of got) {
        for (const topic of ['orders', 'payments']) assert.deepEqual(g[topic].map((e) => e.seq), sent[topic].map((e) => e.seq));
      }
      for (const g of got.slice(1)) {
        for (const topic of ['orders', 'payments']) assert.deepEqual(g[topic].map((e) => e.id), got[0][topic].map((e) => e.id));
      }
    } finally {
      conns.forEach((c) => c.close());
    }
    // Offsets are positions in the one stream: each topic's increase, with holes where the other's sit.
    const offsets = [...sent.orders, ...sent.payments].map((e) => e.offset).sort((a, b) => a - b);
    assert.deepEqual(offsets, Array.from({ length: TOTAL }, (_, i) => i));
    assert.ok(sent.orders.some((e, i) => i > 0 && e.offset > sent.orders[i - 1].offset + 1), 'orders has holes');
    assert.deepEqual(await streamNames(cluster), ['HERALD_EVENTS', 'KV_HERALD_LEASES', 'KV_HERALD_META']);
  });

  await t.test('cursors resume exactly across the holes: JSON pages, Last-Event-ID and catch-up on another node', async () => {
    // A page read from earliest on a node sees only its topic: through a consumer (pages of 500), and one
    // message lookup at a time (pages of 1 and 3).
    const lookups = async () => (await metrics(nodes[2].admin)).herald_engine_jetstream_lookup_reads_total;
    const all = await readAll(nodes[2].url, 'orders');
    assert.deepEqual(all.map((e) => e.data.seq), sent.orders.map((e) => e.seq));
    for (const limit of [1, 3]) {
      const before = await lookups();
      const small = await readAll(nodes[2].url, 'orders', limit);
      assert.deepEqual(small.map((e) => e.data.seq), sent.orders.map((e) => e.seq), `pages of ${limit}`);
      // Every page but the last (past the topic's end: no read at all) was one lookup read.
      assert.ok(await lookups() >= before + Math.ceil(sent.orders.length / limit), `pages of ${limit} are message lookups`);
    }
    // From the cursor of an event in the middle (answered by another node), exactly what follows.
    const mid = sent.orders[Math.floor(sent.orders.length / 2)];
    const page = await request(`${nodes[1].url}/v1/topics/orders/events?from=${encodeURIComponent(mid.cursor)}&limit=1000`);
    assert.equal(page.status, 200, page.body);
    const rest = sent.orders.filter((e) => e.seq > mid.seq).map((e) => e.seq);
    assert.deepEqual(JSON.parse(page.body).events.map((e) => e.data.seq), rest);
    // An SSE client resuming with Last-Event-ID catches up from the stream, then goes live.
    const resumed = [];
    const conn = sseConnect(`${nodes[0].url}/v1/topics/orders/events`, {
      headers: { 'Last-Event-ID': mid.cursor },
      onEvent: (e) => resumed.push(JSON.parse(e.data).data.seq),
    });
    try {
      await waitFor(() => resumed.length >= rest.length, { timeout: 10000, what: 'the catch-up' });
      const p = await publish(nodes[1].url, 'payments', { seq: 'other' });
      assert.equal(p.status, 201);
      const r = await publish(nodes[2].url, 'orders', { seq: 'live' });
      assert.equal(r.status, 201);
      await waitFor(() => resumed.length >= rest.length + 1, { timeout: 10000, what: 'the live event' });
      assert.deepEqual(resumed, [...rest, 'live']);
    } finally {
      conn.close();
    }
  });

  await t.test('one event id on two topics is two events; on one topic a copy from another node is a duplicate', async () => {
    const event = { specversion: '1.0', id: 'same-id', source: '/it', type: 'test.thingHappened.v1', data: { n: 1 } };
    const a = await publishEvent(nodes[0].url, 'orders', event);
    assert.equal(a.status, 201, a.body);
    const b = await publishEvent(nodes[1].url, 'payments', event);
    assert.equal(b.status, 201, b.body);
    const c = await publishEvent(nodes[2].url, 'orders', event);
    assert.equal(c.status, 200, c.body);
    assert.equal(JSON.parse(c.body).duplicate, true);
    assert.equal(JSON.parse(c.body).offset, JSON.parse(a.body).offset);
  });

  await t.test('topics live in the shared records: listed everywhere, retention is the stream\'s, delete and re-create give a new epoch', async () => {
    await waitFor(async () => {
      const r = await request(`${nodes[2].url}/v1/topics`);
      const names = JSON.parse(r.body).topics.map((tp) => tp.name);
      return names.includes('orders') && names.includes('payments');
    }, { timeout: 10000, what: 'both topics listed on node 2' });
    const own = await request(`${nodes[0].admin}/admin/topics/orders`, {
      method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"retention":{"max_age":"1h"}}',
    });
    assert.equal(own.status, 400, own.body);
    assert.match(own.headers['content-type'], /application\/problem\+json/);
    assert.match(own.body, /streams: shared/);
    const made = await request(`${nodes[1].admin}/admin/topics/audit`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(made.status, 201, made.body);

    const reused = { specversion: '1.0', id: 'kept-id', source: '/it', type: 'test.thingHappened.v1', data: { n: 'old' } };
    const before = await publishEvent(nodes[1].url, 'payments', reused);
    assert.equal(before.status, 201, before.body);
    const oldCursor = JSON.parse(before.body).cursor;
    const del = await request(`${nodes[0].admin}/admin/topics/payments`, { method: 'DELETE' });
    assert.equal(del.status, 204, del.body);
    const again = await waitFor(async () => {
      const r = await publish(nodes[1].url, 'payments', { n: 'new' });
      return r.status === 201 && JSON.parse(r.body).cursor.split('.')[1] !== oldCursor.split('.')[1] ? r : null;
    }, { timeout: 20000, interval: 500, what: 'a publish on node 1 into the re-created topic' });
    assert.ok(JSON.parse(again.body).offset > JSON.parse(before.body).offset, 'offsets never go back in one stream');
    // Node 2 had the topic open: it notices the delete within a refresh of its topic list (2 s).
    const body = await waitFor(async () => {
      const page = await request(`${nodes[2].url}/v1/topics/payments/events?from=${encodeURIComponent(oldCursor)}`);
      assert.equal(page.status, 200, page.body);
      const b = JSON.parse(page.body);
      return b.gap ? b : null;
    }, { timeout: 10000, interval: 250, what: 'node 2 to answer the old cursor with a reset' });
    assert.equal(body.gap.reason, 'epoch', 'the old cursor is detected');
    assert.deepEqual(body.events.map((e) => e.data.n), ['new'], 'the deleted events are gone');
    // Message lookups skip what was published under the old epoch as the consumer does.
    assert.deepEqual((await readAll(nodes[2].url, 'payments', 1)).map((e) => e.data.n), ['new']);
    // The stream's duplicate window outlives a purge: an event id of the deleted topic is new in the new one.
    const again2 = await publishEvent(nodes[0].url, 'payments', { ...reused, data: { n: 'again' } });
    assert.equal(again2.status, 201, again2.body);
    assert.deepEqual((await readAll(nodes[2].url, 'payments')).map((e) => e.data.n), ['new', 'again']);
    // The other topics are untouched.
    assert.deepEqual((await readAll(nodes[2].url, 'orders')).length, sent.orders.length + 2);
  });

  await t.test('a long-poll on a quiet topic waits while other topics publish, and wakes for its own event', async () => {
    const end = JSON.parse((await publish(nodes[0].url, 'quiet', { n: 1 })).body).cursor;
    const busy = (async () => {
      for (let i = 0; i < 40; i++) {
        await publish(nodes[1].url, 'orders', { seq: `busy-${i}` });
        await sleep(25);
      }
    })();
    // limit=3 makes every read a message lookup, so the counter shows whether the wait re-reads the topic each
    // time another topic's event arrives (it must not: nothing of this topic lies ahead).
    const lookups = async () => (await metrics(nodes[2].admin)).herald_engine_jetstream_lookup_reads_total;
    const before = await lookups();
    const started = Date.now();
    const idle = await request(`${nodes[2].url}/v1/topics/quiet/events?from=${encodeURIComponent(end)}&wait=1&limit=3`);
    const waited = Date.now() - started;
    assert.equal(idle.status, 200, idle.body);
    assert.deepEqual(JSON.parse(idle.body).events, []);
    assert.ok(waited >= 900, `answered after ${waited} ms: the wait ends on the deadline, not on other topics' events`);
    assert.ok(await lookups() - before <= 1, 'the wait did not re-read the topic for other topics\' events');
    const woken = request(`${nodes[2].url}/v1/topics/quiet/events?from=${encodeURIComponent(end)}&wait=10`);
    await sleep(200);
    await publish(nodes[0].url, 'quiet', { n: 2 });
    const page = await woken;
    assert.deepEqual(JSON.parse(page.body).events.map((e) => e.data.n), [2]);
    await busy;
  });

  await t.test('SIGKILL of a node mid-stream: its SSE client resumes on another node and misses nothing', async () => {
    await resumeAfterKill({ publisher: nodes[0], victim: nodes[2], survivor: nodes[1], topic: 'failover' });
  });
});

// Retention is the shared stream's: another topic's traffic removes a quiet topic's old events. A cursor after
// the quiet topic's last event has lost nothing and resumes without a reset; one before removed events gets it.
test('JetStream engine (streams: shared): retention moved by other topics resets only cursors that lost events', async (t) => {
  const cluster = await new NatsCluster(1).start();
  const nodes = await startNodes(cluster, 1, '    streams: shared\n',
    'topics:\n  defaults:\n    retention: { max_bytes: 65536 }\n');
  t.after(async () => {
    await stopAll(nodes);
    await cluster.stop();
  });
  const [h] = nodes;
  const quiet = [];
  for (let i = 0; i < 3; i++) quiet.push(JSON.parse((await publish(h.url, 'quiet', { n: i })).body));
  // About 200 KiB on another topic: the stream keeps 64 KiB, so the quiet topic's three events go.
  const filler = 'x'.repeat(1024);
  for (let i = 0; i < 200; i++) assert.equal((await publish(h.url, 'busy', { i, filler })).status, 201);
  const all = await readAll(h.url, 'quiet');
  assert.deepEqual(all, [], 'the quiet topic\'s events were removed by the stream\'s retention');
  // After its last event: nothing was lost, no reset (start is not the stream's first offset here).
  const after = await request(`${h.url}/v1/topics/quiet/events?from=${encodeURIComponent(quiet[2].cursor)}`);
  assert.equal(after.status, 200, after.body);
  assert.equal(JSON.parse(after.body).gap, undefined, after.body);
  // After its first event: two were removed, and the page says so.
  const lost = await request(`${h.url}/v1/topics/quiet/events?from=${encodeURIComponent(quiet[0].cursor)}`);
  assert.equal(lost.status, 200, lost.body);
  assert.equal(JSON.parse(lost.body).gap.reason, 'retention', lost.body);
  // The quiet topic goes on where it was.
  const next = await publish(h.url, 'quiet', { n: 3 });
  assert.equal(next.status, 201);
  const resumed = await request(`${h.url}/v1/topics/quiet/events?from=${encodeURIComponent(quiet[2].cursor)}`);
  assert.deepEqual(JSON.parse(resumed.body).events.map((e) => e.data.n), [3]);
});

for (const layout of ['per_topic', 'shared']) test(`JetStream engine (streams: ${layout}): killing the stream leader mid-publish loses no acknowledged event`, async (t) => {
  const cluster = await new NatsCluster(3).start();
  const nodes = await startNodes(cluster, 2, `    streams: ${layout}\n`);
  t.after(async () => {
    await stopAll(nodes);
    await cluster.stop();
  });
  const first = await publish(nodes[0].url, 'ledger', { seq: 0 });
  assert.equal(first.status, 201, first.body);
  const stream = layout === 'shared' ? 'HERALD_EVENTS' : 'HERALD_ledger';
  const leader = await waitFor(() => cluster.streamLeader(stream), { timeout: 10000, what: 'the stream leader' });

  const acked = new Set([0]);
  const failed = [];
  let seq = 1;
  // A live subscriber on node 1 goes through the kill too (its node's consumer may be on the killed server).
  const streamed = [];
  const conn = sseConnect(`${nodes[1].url}/v1/topics/ledger/events?from=earliest`, {
    onEvent: (e) => { if (e.event === 'test.thingHappened.v1') streamed.push(JSON.parse(e.data).data.seq); },
  });
  t.after(() => conn.close());
  const publishers = nodes.map(async (h) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (seq <= 300) {
      const n = seq++;
      // An election outlasts the default 10 s client timeout only in the worst case; publish_timeout is 15 s.
      const r = await publish(h.url, 'ledger', { seq: n }, { agent, timeout: 30000 });
      if (r.status === 201 || r.status === 200) acked.add(n);
      else failed.push({ n, status: r.status, body: r.body });
      if (n === 100) await cluster.kill9(leader);  // mid-publish, from inside the loop
      await sleep(5);
    }
  });
  await Promise.all(publishers);
  // The kill did something: events were published again on at least one node.
  let republished = 0;
  for (const h of nodes) republished += (await metrics(h.admin)).herald_engine_jetstream_republished_total;
  assert.ok(republished > 0, 'no event needed publishing again: the kill came too late or too early');
  t.diagnostic(`republished ${republished}; `);
  t.diagnostic(`acknowledged ${acked.size} of 301, answered 503: ${failed.length} ${JSON.stringify(failed.slice(0, 2))}`);
  // Every acknowledged event is in the stream, once; failures (if the election outlasted publish_timeout) were
  // answered as such, never acknowledged.
  assert.ok(acked.size >= 250, `acknowledged ${acked.size}, failed ${JSON.stringify(failed.slice(0, 3))}`);
  for (const f of failed) assert.equal(f.status, 503, f.body);
  // Read through the other node: its view of the stream's end follows within a round of its live consumer or
  // its topic refresh (the consumer may have been on the killed server).
  let events = [];
  let lastError = '';
  await waitFor(async () => {
    try {
      events = await readAll(nodes[1].url, 'ledger');
    } catch (e) {
      lastError = e.message;
      return false;
    }
    return [...acked].every((n) => events.some((e) => e.data.seq === n));
  }, { timeout: 20000, interval: 500, what: 'every acknowledged event readable on node 1' }).catch(() => {});
  if (lastError) t.diagnostic(`a read on node 1 failed: ${lastError}`);
  const lookups = (await metrics(nodes[1].admin)).herald_engine_jetstream_lookup_reads_total;
  t.diagnostic(`node 1 read ${events.length} events (reads by message lookup: ${lookups})`);
  const seen = events.map((e) => e.data.seq);
  assert.equal(new Set(seen).size, seen.length, 'no event stored twice');
  for (const n of acked) assert.ok(seen.includes(n), `acknowledged event ${n} is in the stream`);
  await waitFor(() => [...acked].every((n) => streamed.includes(n)), { timeout: 20000, what: 'the SSE subscriber to get every acknowledged event' });
  assert.deepEqual(streamed, seen.slice(0, streamed.length), 'the subscriber saw the stream in its order, once');
});

test('JetStream engine: with the cluster down, publishing answers 503 with Retry-After and /readyz says why', async (t) => {
  const cluster = await new NatsCluster(1).start();
  const [h] = await startNodes(cluster, 1, '    ack_timeout: 200ms\n    publish_timeout: 1s\n');
  t.after(async () => {
    await stopAll([h]);
    await cluster.stop();
  });
  const ok = await publish(h.url, 'down', { n: 1 });
  assert.equal(ok.status, 201, ok.body);
  await cluster.kill9(cluster.nodes[0]);
  const r = await publish(h.url, 'down', { n: 2 });
  assert.equal(r.status, 503, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.headers['retry-after'], '1');
  const ready = await waitFor(async () => {
    const x = await request(`${h.admin}/readyz`);
    return x.status === 503 ? x : null;
  }, { timeout: 10000, what: '/readyz to fail' });
  assert.match(ready.body, /NATS/);
});

test('JetStream engine: a webhook subscription is delivered by one node at a time and survives that node', async (t) => {
  const cluster = await new NatsCluster(3).start();
  const nodes = await startNodes(cluster, 3, '    lease_ttl: 2s\n', `webhooks:
  allow_destinations: ["127.0.0.1/32"]
  retry_schedule: [50ms, 100ms]
  retry_jitter: false
`);
  const received = [];
  const unverified = [];
  let secret;
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try { new Webhook(secret).verify(body, req.headers); } catch { unverified.push(body); }
      received.push(JSON.parse(body).data.seq);
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  t.after(async () => {
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
    await stopAll(nodes);
    await cluster.stop();
  });
  const first = await publish(nodes[0].url, 'shipments', { seq: -1 });
  assert.equal(first.status, 201, first.body);

  // Created on node 1; every node knows it within a few rounds.
  const created = await request(`${nodes[1].url}/v1/subscriptions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ topic: 'shipments', url: `http://127.0.0.1:${receiver.address().port}/hook` }),
  });
  assert.equal(created.status, 201, created.body);
  const sub = JSON.parse(created.body);
  secret = sub.secret;
  const dispatchers = async (hs) => {
    const out = [];
    for (const h of hs) {
      const r = await request(`${h.url}/v1/subscriptions/${sub.id}`);
      if (r.status !== 200) return null;
      if (JSON.parse(r.body).dispatched_here) out.push(h);
    }
    return out;
  };
  const holders = await waitFor(async () => {
    const d = await dispatchers(nodes);
    return d && d.length === 1 ? d : null;
  }, { timeout: 15000, interval: 200, what: 'every node to know the subscription and one to dispatch it' });
  const holder = holders[0];
  for (const h of nodes)
    assert.equal((await metrics(h.admin)).herald_webhook_dispatching, h === holder ? 1 : 0, 'one node dispatches');

  for (let i = 0; i < 50; i++) {
    const r = await publish(nodes[i % 3].url, 'shipments', { seq: i });
    assert.equal(r.status, 201, r.body);
  }
  await waitFor(() => received.length >= 50, { timeout: 15000, what: 'the first 50 deliveries' });
  await sleep(300);
  // One node dispatches: each event once, in order.
  assert.deepEqual(received, Array.from({ length: 50 }, (_, i) => i));

  await sleep(1000);  // the holder's progress reaches the cluster (a round is 400 ms here)
  await holder.kill9();
  const survivors = nodes.filter((h) => h !== holder);
  for (let i = 50; i < 100; i++) {
    const r = await publish(survivors[i % 2].url, 'shipments', { seq: i });
    assert.equal(r.status, 201, r.body);
  }
  await waitFor(() => new Set(received).size >= 100, { timeout: 20000, what: 'the takeover to deliver the rest' });
  const next = await waitFor(async () => {
    const d = await dispatchers(survivors);
    return d && d.length === 1 ? d : null;
  }, { timeout: 10000, interval: 200, what: 'one survivor to dispatch' });
  assert.notEqual(next[0], holder);
  // At least once across the takeover, in order: nothing missing, first deliveries increasing, few repeats.
  const firsts = [];
  const seen = new Set();
  for (const n of received) if (!seen.has(n)) { seen.add(n); firsts.push(n); }
  assert.deepEqual(firsts, Array.from({ length: 100 }, (_, i) => i));
  t.diagnostic(`deliveries ${received.length} for 100 events (${received.length - 100} repeated across the takeover)`);
  assert.ok(received.length - 100 <= 10, `too many repeats: ${received.length - 100}`);
  assert.deepEqual(unverified, [], 'every delivery verifies with the secret given on node 1');

  // Pause on the node that does not dispatch: the dispatching node stops; resume there: it goes on.
  const dispatcher = next[0];
  const other = survivors.find((h) => h !== dispatcher);
  const paused = await request(`${other.url}/v1/subscriptions/${sub.id}/pause`, { method: 'POST' });
  assert.equal(paused.status, 200, paused.body);
  await waitFor(async () => {
    const r = await request(`${dispatcher.url}/v1/subscriptions/${sub.id}`);
    return JSON.parse(r.body).state === 'paused';
  }, { timeout: 5000, interval: 100, what: 'the pause to reach the dispatching node' });
  const before = received.length;
  for (let i = 100; i < 105; i++) assert.equal((await publish(other.url, 'shipments', { seq: i })).status, 201);
  await sleep(1500);
  assert.equal(received.length, before, 'nothing is delivered while paused');
  const resumed = await request(`${dispatcher.url}/v1/subscriptions/${sub.id}/resume`, { method: 'POST' });
  assert.equal(resumed.status, 200, resumed.body);
  await waitFor(() => new Set(received).size >= 105, { timeout: 10000, what: 'the deliveries after the resume' });

  // Deleted on one node: gone on the other, and nothing more is delivered.
  const del = await request(`${other.url}/v1/subscriptions/${sub.id}`, { method: 'DELETE' });
  assert.equal(del.status, 204, del.body);
  await waitFor(async () => (await request(`${dispatcher.url}/v1/subscriptions/${sub.id}`)).status === 404,
    { timeout: 5000, interval: 100, what: 'the deletion to reach the dispatching node' });
  const after = received.length;
  assert.equal((await publish(dispatcher.url, 'shipments', { seq: 105 })).status, 201);
  await sleep(1000);
  assert.equal(received.length, after, 'a deleted subscription delivers nothing');
});

test('JetStream engine: schema versions and admin routes made on one node apply on every node', async (t) => {
  const cluster = await new NatsCluster(1).start();
  const nodes = await startNodes(cluster, 2);
  const backend = http.createServer((req, res) => { res.writeHead(200); res.end(`backend saw ${req.url}`); });
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  t.after(async () => {
    await stopAll(nodes);
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
    await cluster.stop();
  });
  const put = (h, path, body) => request(`${h.admin}${path}`, {
    method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const TYPE = 'shipping.parcelSent.v1';
  const schema = { type: 'object', required: ['parcelId'], properties: { parcelId: { type: 'string' } } };
  assert.equal((await put(nodes[0], `/schemas/${TYPE}`, schema)).status, 201);
  const post = (h, id, data) => publishEvent(h.url, 'parcels', { specversion: '1.0', id, source: '/it', type: TYPE, data });
  await waitFor(async () => (await post(nodes[1], `bad-${Date.now()}`, { weight: 1 })).status === 422,
    { timeout: 10000, interval: 200, what: 'node 1 to validate against the schema made on node 0' });
  assert.equal((await post(nodes[1], 'ok-1', { parcelId: 'p1' })).status, 201);

  assert.equal((await put(nodes[1], '/admin/upstreams/b', { targets: [`127.0.0.1:${backend.address().port}`] })).status, 201);
  assert.equal((await put(nodes[1], '/admin/routes/b', { match: { prefix: '/b/' }, upstream: 'b' })).status, 201);
  await waitFor(async () => {
    const r = await request(`${nodes[0].url}/b/1`);
    return r.status === 200 && r.body === 'backend saw /b/1';
  }, { timeout: 10000, interval: 200, what: 'the route made on node 1 to serve on node 0' });
});
