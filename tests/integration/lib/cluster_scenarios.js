'use strict';
// Scenarios every shared engine must pass the same way (JetStream, Kafka): several Herald nodes over one engine.
// Each takes running nodes (lib/herald.js) and asserts; the engine-specific tests set the nodes up.

const assert = require('node:assert/strict');
const http = require('node:http');
const { publish, request, run, sleep, sseConnect, waitFor } = require('./herald');

// TOTAL events published round-robin on every node reach an SSE subscriber on each node, in one order, with
// the same cursors everywhere; offsets are 0..TOTAL-1 whatever node answered.
async function oneOrderOnEveryNode(nodes, topic, TOTAL = 300) {
  const first = await publish(nodes[0].url, topic, { seq: 0 });
  assert.equal(first.status, 201, first.body);
  const got = nodes.map(() => []);
  const conns = nodes.map((h, i) => sseConnect(`${h.url}/v1/topics/${topic}/events?from=earliest`, {
    onEvent: (e) => got[i].push({ id: e.id, seq: JSON.parse(e.data).data.seq }),
  }));
  try {
    const agents = nodes.map(() => new http.Agent({ keepAlive: true, maxSockets: 2 }));
    for (let i = 1; i < TOTAL; i++) {
      const h = i % nodes.length;
      const r = await publish(nodes[h].url, topic, { seq: i }, { agent: agents[h] });
      assert.equal(r.status, 201, r.body);
      assert.equal(JSON.parse(r.body).offset, i, 'offsets name one position in the shared stream');
    }
    await waitFor(() => got.every((g) => g.length >= TOTAL), { timeout: 20000, what: 'every event on every node' });
    for (const g of got) {
      assert.equal(g.length, TOTAL);
      assert.deepEqual(g.map((e) => e.seq), Array.from({ length: TOTAL }, (_, i) => i));
    }
    for (const g of got.slice(1)) assert.deepEqual(g.map((e) => e.id), got[0].map((e) => e.id));
  } finally {
    conns.forEach((c) => c.close());
  }
}

// While `publisher` publishes TOTAL events, `victim` is killed with SIGKILL mid-stream; its SSE client
// reconnects to `survivor` with Last-Event-ID and ends up with every acknowledged event once, in order.
async function resumeAfterKill({ publisher, victim, survivor, topic, TOTAL = 400 }) {
  const acked = [];
  const got = [];
  let lastId;
  await publish(publisher.url, topic, { seq: -1 });
  const publishing = (async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    for (let i = 0; i < TOTAL; i++) {
      const r = await publish(publisher.url, topic, { seq: i }, { agent });
      assert.equal(r.status, 201, r.body);
      acked.push(i);
      if (i % 10 === 0) await sleep(2);
    }
  })();
  const onEvent = (e) => { got.push(JSON.parse(e.data).data.seq); lastId = e.id; };
  const firstClosed = new Promise((resolve) => {
    sseConnect(`${victim.url}/v1/topics/${topic}/events?from=earliest`, { onEvent, onClose: resolve });
  });
  await waitFor(() => got.length > 50, { timeout: 10000, what: 'events before the kill' });
  await victim.kill9();
  await firstClosed;
  const before = got.length;
  const conn = sseConnect(`${survivor.url}/v1/topics/${topic}/events`, { headers: { 'Last-Event-ID': lastId }, onEvent });
  try {
    await publishing;
    await waitFor(() => got.length >= TOTAL + 1, { timeout: 20000, what: 'every event after the resume' });
    assert.ok(before < TOTAL + 1, 'the kill happened mid-stream');
    assert.deepEqual(got, [-1, ...acked]);
  } finally {
    conn.close();
  }
}

// A node's /metrics, engine figures included, passes `promtool check metrics` without a lint problem.
async function metricsPassPromtool(node) {
  const scrape = await request(`${node.admin}/metrics`);
  const checked = await run('/usr/bin/promtool', ['check', 'metrics'], { input: scrape.body });
  assert.equal(checked.code, 0, `${checked.stdout}${checked.stderr}`);
  assert.equal(`${checked.stdout}${checked.stderr}`.trim(), '');
}

module.exports = { metricsPassPromtool, oneOrderOnEveryNode, resumeAfterKill };
