'use strict';
// Crash: `kill -9` of the server at a random moment of a mixed load (HTTP publishers, single and batch, on a
// topic with `fsync: always`, one with `interval` and one with `never`; an SSE and a WebSocket subscriber; an
// ordered and a concurrent webhook subscription), FAULT_CYCLES times (20 for `make test-faults`, 5 in the CI
// form). After each restart:
//   - `herald log verify` is clean (recovery cut whatever torn tail the kill left);
//   - every event answered 201 (or 200 duplicate) is in the log at the offset it was given, each publisher's
//     events in the order it published them, each batch contiguous;
//   - each publish that was in flight at the kill is retried with the same (source, id): it is either found
//     (200, duplicate: the whole batch) or appended (201, the whole batch) — never half, and every id is in
//     the log exactly once;
//   - the SSE subscriber (Last-Event-ID) and the WebSocket subscriber (?from=<cursor>) resume and end up with
//     exactly the log's sequence: no gap, no duplicate;
//   - every acknowledged event of crash-always and crash-interval reaches the local receiver (an ordered and
//     a concurrent webhook subscription) at least once.
// docs/formats/log.md: with `interval` and `never` the answer comes after the write reaches the kernel (the
// engine appends, makes visible, then answers; only `always` fsyncs first), so a process crash loses nothing
// acknowledged, only a power loss may; this test proves the process-crash half for all three policies.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const F = require('./lib/faults');

const CYCLES = F.envInt('FAULT_CYCLES', F.FULL ? 20 : 5);
const WORKERS = 6;
const TOPICS = ['crash-always', 'crash-interval', 'crash-never'];
const WEBHOOK_TOPICS = ['crash-always', 'crash-interval'];  // an ordered and a concurrent subscription
const LOAD_MS = F.FULL ? [300, 3000] : [250, 1200];  // the kill comes at a random moment in this range
const PAD = 'x'.repeat(160);

const CONFIG = `
topics:
  declared:
    - name: crash-always
      fsync: always
      segment_bytes: 1MiB
    - name: crash-interval
      fsync: interval
      fsync_interval: 100ms
      segment_bytes: 1MiB
    - name: crash-never
      fsync: never
      segment_bytes: 1MiB
webhooks:
  allow_destinations: ["127.0.0.1/32"]
  retry_schedule: [100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms]
log:
  access: false
`;

// One publisher: sequential requests on a keep-alive agent. Each topic gets one worker publishing single
// events and one publishing batches of 3.
function publisher(base, agent, state, cycle, w, stop) {
  const topic = TOPICS[w % 3];
  const batch = w % 2 === 1 ? 3 : 1;
  return (async () => {
    for (let i = 0; !stop.now; i++) {
      const events = Array.from({ length: batch }, (_, k) => ({
        specversion: '1.0', id: `c${cycle}-w${w}-${i}-${k}`, source: `/faults/w${w}`, type: 'faults.crashed.v1',
        data: { cycle, w, i, k, pad: PAD },
      }));
      const req = { topic, w, events };
      let r;
      try {
        r = await sendPublish(base, agent, req);
      } catch {
        state.inFlight.push(req);  // no answer: the kill came first. Retried with the same ids after the restart.
        return;
      }
      if (r.status !== 201 && r.status !== 200) {
        state.unexpected.push(`${r.status} ${r.body}`);
        return;
      }
      acknowledge(state, req, r.json);
    }
  })();
}

function sendPublish(base, agent, req) {
  const single = req.events.length === 1;
  return F.request(`${base}/v1/topics/${req.topic}/events`, {
    method: 'POST', agent, timeout: 15000,
    headers: { 'Content-Type': single ? 'application/cloudevents+json' : 'application/cloudevents-batch+json' },
    body: JSON.stringify(single ? req.events[0] : req.events),
  });
}

function acknowledge(state, req, json) {
  const results = req.events.length === 1 ? [json] : json.results;
  const offsets = results.map((x) => x.offset);
  for (let k = 0; k < req.events.length; k++) state.acked.get(req.topic).set(req.events[k].id, offsets[k]);
  state.order[req.w].push(offsets);
}

test(`kill -9 at random moments of a mixed load, ${CYCLES} cycles: nothing acknowledged is lost`, { timeout: 30 * 60 * 1000 }, async () => {
  const random = F.rng(F.SEED);
  const dataDir = path.join(F.tmpDir('herald-faults-crash-'), 'data');
  const state = {
    acked: new Map(TOPICS.map((t) => [t, new Map()])),  // topic -> id -> offset
    order: Array.from({ length: WORKERS }, () => []),   // worker -> offsets of each acknowledged request, in order
    inFlight: [],
    unexpected: [],
  };
  const figures = {
    cycles: 0, killAfterMs: [], tornTailsCut: 0, inFlightAtKill: 0, inFlightFoundWritten: 0,
    inFlightReappended: 0, restartMs: [],
  };
  const receiver = await new F.Receiver({ delayMs: 1 }).start();
  const sse = new F.ResumingSse('crash-always');
  const ws = new F.ResumingWs('crash-interval');
  const servers = [];
  let h = await new F.Herald({ dataDir, config: CONFIG }).start();
  servers.push(h);
  try {
    const ordered = await F.createSubscription(h.url, { topic: 'crash-always', url: receiver.url, from: 'earliest' });
    const concurrent = await F.createSubscription(h.url, {
      topic: 'crash-interval', url: receiver.url, from: 'earliest', mode: 'concurrent', max_in_flight: 8,
    });
    await sse.connect(h.url);
    await ws.connect(h.url);

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Load, then the kill at a random moment of it.
      const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });
      const stop = { now: false };
      state.inFlight = [];
      const workers = Array.from({ length: WORKERS }, (_, w) => publisher(h.url, agent, state, cycle, w, stop));
      const killAfter = Math.round(LOAD_MS[0] + random() * (LOAD_MS[1] - LOAD_MS[0]));
      figures.killAfterMs.push(killAfter);
      await F.sleep(killAfter);
      const killed = await h.kill9();
      assert.equal(killed.signal, 'SIGKILL', `cycle ${cycle}: the server was still running when killed`);
      stop.now = true;
      await Promise.all(workers);
      agent.destroy();
      assert.deepEqual(state.unexpected, [], `cycle ${cycle}: every answer before the kill was 201 or 200`);

      // What the kill left on disk, before recovery: a torn tail at most (counted), cut on start.
      const before = await F.verifyLog(dataDir);
      if (!before.ok) {
        figures.tornTailsCut++;
        const problems = before.out.split('\n').filter((l) => l.startsWith('  - '));
        assert.ok(problems.length > 0, before.out);
        for (const p of problems) {
          assert.match(p, /open\(\) cuts them off|torn index append|past the last good batch|open\(\) rebuilds it/,
            `cycle ${cycle}: damage other than a torn tail before recovery:\n${before.out}`);
        }
      }

      const t0 = Date.now();
      h = await new F.Herald({ dataDir, config: CONFIG }).start();
      servers.push(h);
      figures.restartMs.push(Date.now() - t0);

      // The log is clean once recovered (the server is idle: nothing publishes until the next cycle).
      const after = await F.verifyLog(dataDir);
      assert.ok(after.ok, `cycle ${cycle}: herald log verify after the restart:\n${after.out}`);

      // The publishes the kill interrupted: retried with the same ids, each found whole or appended whole.
      figures.inFlightAtKill += state.inFlight.length;
      for (const req of state.inFlight) {
        const r = await sendPublish(h.url, undefined, req);
        assert.ok(r.status === 201 || r.status === 200, `cycle ${cycle}: retry of an interrupted publish: ${r.status} ${r.body}`);
        const results = req.events.length === 1 ? [r.json] : r.json.results;
        const dups = results.map((x) => x.duplicate === true);
        assert.ok(dups.every((d) => d === dups[0]), `cycle ${cycle}: a batch was half written: ${r.body}`);
        if (dups[0]) figures.inFlightFoundWritten++; else figures.inFlightReappended++;
        acknowledge(state, req, r.json);
      }

      // Every acknowledged event at its offset; every id once; each publisher's requests in order.
      const settled = await F.verifyLog(dataDir);
      assert.ok(settled.ok, `cycle ${cycle}: herald log verify after the retries:\n${settled.out}`);
      const logIds = {};
      for (const topic of TOPICS) {
        const events = await F.readAll(h.url, topic);
        logIds[topic] = events.map((e) => e.id);
        const at = new Map();
        events.forEach((e, i) => {
          assert.ok(!at.has(e.id), `cycle ${cycle}: ${topic}: event ${e.id} is in the log twice`);
          at.set(e.id, i);
        });
        assert.equal(settled.topics[topic].records, events.length, `cycle ${cycle}: ${topic}: verify and read agree`);
        for (const [id, offset] of state.acked.get(topic)) {
          assert.ok(at.has(id), `cycle ${cycle}: ${topic}: acknowledged event ${id} (offset ${offset}) survived`);
          assert.equal(at.get(id), offset, `cycle ${cycle}: ${topic}: event ${id} kept its offset`);
        }
      }
      for (let w = 0; w < WORKERS; w++) {
        let last = -1;
        for (const offsets of state.order[w]) {
          offsets.forEach((o, k) => assert.equal(o, offsets[0] + k, `cycle ${cycle}: worker ${w}: a batch is contiguous`));
          assert.ok(offsets[0] > last, `cycle ${cycle}: worker ${w}: requests appear in the order they were made`);
          last = offsets[offsets.length - 1];
        }
      }

      // The subscribers resume from their cursor and end up with exactly the log: no gap, no duplicate.
      await sse.connect(h.url);
      await ws.connect(h.url);
      await F.waitFor(() => sse.ids.length >= logIds['crash-always'].length && ws.ids.length >= logIds['crash-interval'].length,
        { timeout: 60000, what: `cycle ${cycle}: subscribers caught up (sse ${sse.ids.length}/${logIds['crash-always'].length}, ws ${ws.ids.length}/${logIds['crash-interval'].length})` });
      await F.sleep(50);
      assert.deepEqual(sse.controls.filter((c) => c.event !== 'herald.shutdown'), [], `cycle ${cycle}: no SSE reset`);
      assert.deepEqual(ws.controls, [], `cycle ${cycle}: no WebSocket reset`);
      assert.ok(sse.ids.length === logIds['crash-always'].length && sse.ids.every((id, i) => id === logIds['crash-always'][i]),
        `cycle ${cycle}: the SSE subscriber saw exactly the log (${sse.ids.length} vs ${logIds['crash-always'].length})`);
      assert.ok(ws.ids.length === logIds['crash-interval'].length && ws.ids.every((id, i) => id === logIds['crash-interval'][i]),
        `cycle ${cycle}: the WebSocket subscriber saw exactly the log (${ws.ids.length} vs ${logIds['crash-interval'].length})`);

      // Webhooks: every acknowledged event delivered at least once.
      const missing = () => {
        const out = [];
        for (const topic of WEBHOOK_TOPICS) for (const id of state.acked.get(topic).keys()) if (!receiver.seen.has(id)) out.push(id);
        return out;
      };
      await F.waitFor(() => missing().length === 0, { timeout: 90000, interval: 100, what: `cycle ${cycle}: webhook deliveries (missing ${missing().length})` });
      figures.cycles++;
    }

    // A clean stop at the end, and the subscriptions kept their state through every kill.
    for (const id of [ordered.id, concurrent.id]) {
      const g = await F.request(`${h.url}/v1/subscriptions/${id}`);
      assert.equal(g.status, 200);
      assert.equal(g.json.state, 'active');
      assert.equal(g.json.dead_lettered, 0, `subscription ${id}: nothing dead-lettered`);
    }
    sse.close();
    ws.close();
    assert.equal((await h.stop()).code, 0, 'the last server stops cleanly');
    const final = await F.verifyLog(dataDir);
    assert.ok(final.ok, final.out);

    const events = Object.fromEntries(TOPICS.map((t) => [t, state.acked.get(t).size]));
    F.report('crash', {
      ...figures,
      killAfterMs: `${Math.min(...figures.killAfterMs)}–${Math.max(...figures.killAfterMs)}`,
      restartMs: F.latencySummary(figures.restartMs),
      acknowledged: events,
      sseEvents: sse.ids.length, sseConnections: sse.connections,
      wsEvents: ws.ids.length, wsConnections: ws.connections,
      webhookDeliveries: receiver.deliveries, webhookUnique: receiver.seen.size,
      webhookRedelivered: receiver.redelivered(), lost: 0,
    });
  } finally {
    sse.close();
    ws.close();
    for (const s of servers) {
      if (s.proc.exitCode === null && !s.proc.signalCode) await s.stop();
      s.cleanup();
    }
    await receiver.close();
    fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  }
});
