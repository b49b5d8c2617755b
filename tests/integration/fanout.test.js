'use strict';
// Fan-out: 200 concurrent SSE subscribers each receive every event, in order, exactly once.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { Herald, publish, sseConnect, waitFor, metrics } = require('./lib/herald');

test('200 subscribers each receive every event in order', async () => {
  const h = await new Herald().start();
  try {
    const N = 200;
    const EVENTS = 300;
    const received = Array.from({ length: N }, () => []);
    const conns = [];
    let open = 0;
    for (let s = 0; s < N; s++) {
      conns.push(sseConnect(`${h.url}/v1/topics/fan/events?from=latest`, {
        onOpen: () => { open++; },
        onEvent: (e) => received[s].push(JSON.parse(e.data).data.seq),
      }));
    }
    await waitFor(() => open === N, { what: 'all subscribers connected' });
    await waitFor(async () => (await metrics(h.admin)).herald_sse_streams_open === N, { what: 'streams registered' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    for (let i = 0; i < EVENTS; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => publish(h.url, 'fan', { seq: i + k }, { agent })));
    }
    await waitFor(() => received.every((r) => r.length >= EVENTS), { timeout: 30000, what: 'every subscriber got every event' });
    // Order: publishes in a group of 10 run concurrently, so compare against the log's order, read back.
    const page = await (await fetch(`${h.url}/v1/topics/fan/events?from=earliest&limit=1000`)).json();
    const logOrder = page.events.map((e) => e.data.seq);
    assert.equal(logOrder.length, EVENTS);
    for (const r of received) assert.deepEqual(r, logOrder);
    // Every delivery went through the worker's write scheduler: at least one scheduled write, at most one per
    // delivered event (fewer when a stream's write carried several events).
    const m = await metrics(h.admin);
    assert.ok(m.herald_hub_deliveries_total >= N * EVENTS);
    assert.ok(m.herald_hub_flushes_total >= N, `flushes ${m.herald_hub_flushes_total}`);
    assert.ok(m.herald_hub_flushes_total <= m.herald_hub_deliveries_total);
    conns.forEach((c) => c.close());
    agent.destroy();
  } finally {
    await h.stop();
    h.cleanup();
  }
});

test('a topic nobody reads is not encoded, and a subscriber that comes later reads its events from the log', async () => {
  const h = await new Herald().start();
  try {
    const before = (await metrics(h.admin)).herald_hub_unwatched_batches_total;
    for (let i = 0; i < 5; i++) await publish(h.url, 'quiet', { seq: i });
    const m = await metrics(h.admin);
    assert.equal(m.herald_hub_unwatched_batches_total - before, 5);
    assert.equal(m.herald_hub_batches_total, 0, 'no worker was handed a batch');
    // A subscriber from the start gets the five from the log, then the next one live.
    const seqs = [];
    const conn = sseConnect(`${h.url}/v1/topics/quiet/events?from=earliest`, {
      onEvent: (e) => seqs.push(JSON.parse(e.data).data.seq),
    });
    await waitFor(() => seqs.length === 5, { what: 'the five unwatched events' });
    await publish(h.url, 'quiet', { seq: 5 });
    await waitFor(() => seqs.length === 6, { what: 'the live event' });
    assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5]);
    const after = await metrics(h.admin);
    assert.equal(after.herald_hub_unwatched_batches_total - before, 5, 'the live event was dispatched');
    assert.ok(after.herald_hub_batches_total >= 1);
    conn.close();
  } finally {
    await h.stop();
    h.cleanup();
  }
});
