'use strict';
// `make soak` (not part of ctest): a steady mixed load for SOAK_SECONDS (default 600) on the real binary, with
// access logging on (to a file): the healthy probe (40 events/s published and received on SSE, 10 proxied
// requests/s), 200 events/s in batches of 10 to a second topic read by 20 SSE and 10 WebSocket subscribers
// (one of each reconnects with its cursor every 30 s) and a webhook subscription, and a page read every second.
// Every 10 s it samples the server's RSS and descriptors and the probe's latency percentiles. It fails (exit 1)
// when RSS grows by more than 10% + 16 MiB between the first sample after warm-up and the largest of the last
// third, descriptors move by more than 20, a window's publish → SSE p99 reaches 1 s, the median p50 of the last
// third is more than twice that of the first third + 5 ms, any request fails, or any event is lost (each
// subscriber, the webhook receiver and the log must hold every acknowledged event exactly once, in order).
// The dedup window is bounded by design (dedup.max_entries, 100,000 per topic by default, about 150 bytes each);
// the soak sets 5,000 so that it is full after the warm-up and what is measured is growth that nothing bounds.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const F = require('./lib/faults');

const SECONDS = F.envInt('SOAK_SECONDS', 600);
const SAMPLE_MS = 10000;
const WARMUP_SAMPLES = 3;  // 30 s: connections, pools and the dedup windows (5,000 entries) fill up

async function okUpstream() {
  const server = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok'); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); } };
}

function median(values) { return F.percentile(values, 50); }

async function main() {
  const ok = await okUpstream();
  const receiver = await new F.Receiver().start();
  const logFile = path.join(F.tmpDir('herald-soak-log-'), 'herald.log');
  const h = await new F.Herald({
    config: `
log:
  output: ${logFile}
  access: true
dedup:
  max_entries: 5000
webhooks:
  allow_destinations: ["127.0.0.1/32"]
upstreams:
  ok: {targets: ["127.0.0.1:${ok.port}"]}
routes:
  - {name: ok, match: {prefix: /ok/}, upstream: ok}
`,
  }).start();
  const failures = [];
  const sses = Array.from({ length: 20 }, () => new F.ResumingSse('soak-b'));
  const wss = Array.from({ length: 10 }, () => new F.ResumingWs('soak-b'));
  let probe;
  try {
    await F.createSubscription(h.url, { topic: 'soak-b', url: receiver.url, from: 'earliest' });
    for (const s of sses) await s.connect(h.url);
    for (const w of wss) await w.connect(h.url);
    probe = await F.startProbe({ base: h.url, topic: 'soak-a', rate: 40, proxyUrl: `${h.url}/ok/soak` });

    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const acked = [];  // ids of soak-b, in offset order
    let stopping = false;
    let seq = 0;
    const publisher = setInterval(async () => {
      if (stopping) return;
      const batch = Array.from({ length: 10 }, () => ({ specversion: '1.0', id: `s-${seq++}`, source: '/faults/soak', type: 'faults.soaked.v1', data: { t: Date.now(), pad: 'p'.repeat(300) } }));
      try {
        const r = await F.request(`${h.url}/v1/topics/soak-b/events`, { method: 'POST', agent, headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch) });
        if (r.status !== 201) { failures.push(`batch publish ${r.status} ${r.body}`); return; }
        r.json.results.forEach((x, k) => { acked[x.offset] = batch[k].id; });
      } catch (e) { failures.push(`batch publish: ${e.message}`); }
    }, 50);
    const reader = setInterval(async () => {
      try {
        const r = await F.request(`${h.url}/v1/topics/soak-b/events?from=earliest&limit=100`, { agent });
        if (r.status !== 200) failures.push(`page ${r.status}`);
      } catch (e) { failures.push(`page: ${e.message}`); }
    }, 1000);
    let turn = 0;
    const churn = setInterval(async () => {
      const s = sses[turn % sses.length];
      const w = wss[turn % wss.length];
      turn++;
      s.close();
      w.close();
      try { await s.connect(h.url); await w.connect(h.url); } catch (e) { failures.push(`reconnect: ${e.message}`); }
    }, 30000);

    const samples = [];
    const t0 = Date.now();
    console.log('   t(s)   rss(KiB)  fds  thr  e2e p50/p99/max (ms)      proxy p50/p99 (ms)  failures');
    while (Date.now() - t0 < SECONDS * 1000) {
      await F.sleep(Math.min(SAMPLE_MS, SECONDS * 1000 - (Date.now() - t0)));
      const p = F.procStats(h.proc.pid);
      const w = await probe.window();
      const s = { t: Math.round((Date.now() - t0) / 1000), ...p, e2e: w.e2e, proxy: w.proxy, failures: w.failures };
      samples.push(s);
      console.log(`${String(s.t).padStart(7)} ${String(s.rssKiB).padStart(10)} ${String(s.fds).padStart(4)} ${String(s.threads).padStart(4)}  ` +
        `${`${s.e2e.p50}/${s.e2e.p99}/${s.e2e.max}`.padEnd(24)} ${`${s.proxy.p50}/${s.proxy.p99}`.padEnd(19)} ${s.failures}`);
    }
    stopping = true;
    clearInterval(publisher);
    clearInterval(reader);
    clearInterval(churn);
    await F.sleep(500);
    const stats = await probe.stop();
    probe = undefined;

    // Zero lost: the log, every subscriber and the webhook receiver hold every acknowledged event.
    const ids = acked.filter((x) => x !== undefined);
    assert.equal(ids.length, acked.length, 'acknowledged offsets are dense');
    const log = (await F.readAll(h.url, 'soak-b')).map((e) => e.id);
    assert.deepEqual(log, ids, 'the log holds exactly the acknowledged events');
    await F.waitFor(() => sses.every((s) => s.ids.length >= ids.length) && wss.every((w) => w.ids.length >= ids.length),
      { timeout: 60000, what: 'subscribers caught up' });
    for (const s of [...sses, ...wss]) {
      assert.equal(s.ids.length, ids.length, 'a subscriber got every event once');
      assert.ok(s.ids.every((id, i) => id === ids[i]), 'a subscriber got every event in order');
    }
    await F.waitFor(() => ids.every((id) => receiver.seen.has(id)), { timeout: 60000, what: 'webhook deliveries' });
    assert.deepEqual(failures, [], 'no request failed');
    assert.deepEqual(stats.publishFailures, [], 'no probe publish failed');
    assert.deepEqual(stats.proxyFailures, [], 'no probe proxied request failed');
    assert.equal(stats.missing, 0, 'the probe received every event');

    // Flat resources and stable latency.
    const steady = samples.slice(WARMUP_SAMPLES);
    assert.ok(steady.length >= 3, `SOAK_SECONDS=${SECONDS} leaves ${steady.length} samples after warm-up; run at least ${(WARMUP_SAMPLES + 3) * 10} s`);
    const third = Math.max(1, Math.floor(steady.length / 3));
    const first = steady.slice(0, third);
    const last = steady.slice(-third);
    const rssStart = steady[0].rssKiB;
    const rssEnd = Math.max(...last.map((s) => s.rssKiB));
    const rssLimit = rssStart * 1.1 + 16 * 1024;
    assert.ok(rssEnd <= rssLimit, `RSS ${rssStart} → ${rssEnd} KiB (limit ${Math.round(rssLimit)})`);
    const fds = steady.map((s) => s.fds);
    assert.ok(Math.max(...fds) - Math.min(...fds) <= 20, `descriptors stayed within 20: ${Math.min(...fds)}–${Math.max(...fds)}`);
    for (const s of samples) assert.ok(s.e2e.p99 < 1000, `window at ${s.t} s: publish → SSE p99 ${s.e2e.p99} ms`);
    const p50First = median(first.map((s) => s.e2e.p50));
    const p50Last = median(last.map((s) => s.e2e.p50));
    assert.ok(p50Last <= 2 * p50First + 5, `latency stable: median p50 ${p50First} ms → ${p50Last} ms`);

    const figures = {
      seconds: SECONDS, samples: samples.length, acknowledged: ids.length + stats.publishOk, probeEvents: stats.publishOk,
      subscribers: { sse: sses.length, ws: wss.length, reconnects: turn * 2 }, webhookUnique: receiver.seen.size,
      rss: { start: rssStart, endMax: rssEnd, min: Math.min(...steady.map((s) => s.rssKiB)), max: Math.max(...steady.map((s) => s.rssKiB)) },
      fds: { min: Math.min(...fds), max: Math.max(...fds) },
      e2e: { p50First, p50Last, worstP99: Math.max(...samples.map((s) => s.e2e.p99)), overall: stats.e2e },
      proxy: stats.proxy, lost: 0,
    };
    F.report('soak', figures);
    agent.destroy();
  } finally {
    if (probe) await probe.stop().catch(() => {});
    for (const s of sses) s.close();
    for (const w of wss) w.close();
    await h.stop();
    h.cleanup();
    await receiver.close();
    await ok.close();
    fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
  }
}

main().then(() => { console.log('soak: ok'); process.exit(0); }, (e) => { console.error(`soak: FAILED: ${e.message}`); process.exit(1); });
