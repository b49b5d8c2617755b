'use strict';
// Overload: publishers far above what the server can take.
//   - With rate limits configured (rate_limits.publish), HTTP publishers and a herald.v1 WebSocket publisher
//     hammering one topic get 429 problem+json with Retry-After, RateLimit-Policy and RateLimit; what is let
//     through stays within burst + rate × time, nothing refused is appended, and after Retry-After publishing
//     works again.
//   - Without rate limits, hundreds of HTTP publishers with 16 KiB events, batch publishers and WebSocket
//     publishers that never wait for answers (over the 64 in-flight limit: 429 for those messages) saturate
//     the server: every answer is a success or a documented refusal (HTTP 503, WebSocket 429/503), the
//     server's RSS stays under a bound (queues are bounded by connections × in-flight limits, not by the
//     offered load), a healthy client is still served, every acknowledged event is in the log and the log
//     verifies clean.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const F = require('./lib/faults');

const SECONDS = F.envInt('FAULT_OVERLOAD_SECONDS', F.FULL ? 30 : 8);

function wsClient(h) {
  const ws = new F.WebSocket(`ws://${h.host}:${h.port}/v1/ws`, 'herald.v1');
  ws.on('error', () => {});
  return new Promise((resolve, reject) => { ws.on('open', () => resolve(ws)); ws.on('error', reject); });
}

test('with rate limits: 429 with Retry-After, bounded admission, recovery', { timeout: 300000 }, async () => {
  const RATE = 100;
  const BURST = 200;
  const h = await new F.Herald({ config: `rate_limits:\n  publish: {rate: ${RATE}, burst: ${BURST}}\nlog:\n  access: false\n` }).start();
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const seconds = Math.min(SECONDS, 10);
    const t0 = Date.now();
    const until = t0 + seconds * 1000;
    let created = 0;
    let limited = 0;
    let maxRetryAfter = 0;
    const wrong = [];
    const http429 = (r) => {
      const ra = Number(r.headers['retry-after']);
      if (!(r.json && r.json.type === 'urn:herald:problem:rate-limited' && /problem\+json/.test(r.headers['content-type']) &&
            Number.isInteger(ra) && ra >= 1 && r.headers['ratelimit-policy'] && r.headers.ratelimit)) {
        wrong.push(`429 without the documented headers: ${JSON.stringify(r.headers)} ${r.body}`);
      }
      maxRetryAfter = Math.max(maxRetryAfter, ra);
    };
    const workers = Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) {
        const r = await F.publish(h.url, 'limited', { w, i }, { agent });
        if (r.status === 201) created++;
        else if (r.status === 429) { limited++; http429(r); }
        else wrong.push(`${r.status} ${r.body}`);
      }
    });
    // A herald.v1 publisher on the same topic draws from the same bucket.
    let wsPublished = 0;
    let ws429 = 0;
    const ws = await wsClient(h);
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString('utf8'));
      if (m.op === 'published') wsPublished++;
      else if (m.op === 'error' && m.status === 429) ws429++;
      else wrong.push(`websocket: ${raw}`);
    });
    const wsLoop = (async () => {
      for (let i = 0; Date.now() < until; i++) {
        ws.send(JSON.stringify({ op: 'publish', ref: `r${i}`, topic: 'limited', event: { specversion: '1.0', id: `ws-${i}`, source: '/faults/ws', type: 'faults.limited.v1', data: { i } } }));
        await F.sleep(2);
      }
    })();
    await Promise.all([...workers, wsLoop]);
    const elapsed = (Date.now() - t0) / 1000;
    await F.sleep(500);
    ws.terminate();
    agent.destroy();

    assert.deepEqual(wrong, [], 'every refusal is a documented 429');
    assert.ok(limited > 100, `publishers were refused (${limited} HTTP 429)`);
    assert.ok(ws429 > 10, `the WebSocket publisher was refused too (${ws429})`);
    const admitted = created + wsPublished;
    const ceiling = BURST + RATE * (elapsed + 1);
    assert.ok(admitted <= ceiling, `admitted ${admitted} ≤ burst + rate × ${elapsed.toFixed(1)} s = ${ceiling}`);
    assert.ok(admitted >= RATE * elapsed * 0.5, `the limit still lets the rate through (${admitted} in ${elapsed.toFixed(1)} s)`);
    const all = await F.readAll(h.url, 'limited');
    assert.equal(all.length, admitted, 'the log holds exactly the admitted events');

    // After Retry-After, publishing works again.
    await F.sleep(maxRetryAfter * 1000);
    const again = await F.publish(h.url, 'limited', { again: true });
    assert.equal(again.status, 201, again.body);
    F.report('overload-rate-limited', {
      seconds: Number(elapsed.toFixed(1)), rate: RATE, burst: BURST, http201: created, http429: limited,
      ws201: wsPublished, ws429, admitted, ceiling, maxRetryAfter,
    });
  } finally {
    await h.stop();
    h.cleanup();
  }
});

test(`without rate limits: ${SECONDS} s far above capacity keeps memory bounded and serves a healthy client`, { timeout: 600000 }, async () => {
  // Retention and a smaller dedup window keep what the log itself holds in memory (the sparse index of the
  // retained segments, one open descriptor per segment, the dedup entries) from growing with the run's length,
  // so what is measured is the memory that queues could take.
  const h = await new F.Herald({
    config: `
log:
  access: false
dedup:
  max_entries: 20000
topics:
  defaults:
    segment_bytes: 16MiB
    retention: {max_bytes: 256MiB}
`,
  }).start();
  try {
    // Warm-up and baseline.
    const warm = await F.startProbe({ base: h.url, topic: 'healthy', rate: 20 });
    await F.sleep(2000);
    await warm.stop();
    await F.sleep(500);
    const baseline = F.procStats(h.proc.pid);

    const probe = await F.startProbe({ base: h.url, topic: 'healthy', rate: 20 });
    const until = Date.now() + SECONDS * 1000;
    const HTTP_PUBLISHERS = 200;
    const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_PUBLISHERS });
    const big = 'o'.repeat(16 * 1024);
    const counts = { http201: 0, http503: 0, batch201: 0, ws201: 0, ws429: 0, ws503: 0, wsSent: 0 };
    const wrong = [];
    const acked = { flood: 0, batches: 0 };
    const loops = [];
    for (let w = 0; w < HTTP_PUBLISHERS; w++) {
      loops.push((async () => {
        for (let i = 0; Date.now() < until; i++) {
          let r;
          try { r = await F.publish(h.url, 'flood', { w, i, big }, { agent }); } catch (e) { wrong.push(`http: ${e.message}`); return; }
          if (r.status === 201) { counts.http201++; acked.flood++; } else if (r.status === 503 && /problem\+json/.test(r.headers['content-type'])) counts.http503++;
          else wrong.push(`http ${r.status} ${r.body.slice(0, 200)}`);
        }
      })());
    }
    for (let w = 0; w < 4; w++) {
      loops.push((async () => {
        for (let i = 0; Date.now() < until; i++) {
          const batch = Array.from({ length: 100 }, (_, k) => ({ specversion: '1.0', id: `b${w}-${i}-${k}`, source: '/faults/batch', type: 'faults.flooded.v1', data: { pad: 'b'.repeat(1024) } }));
          let r;
          try {
            r = await F.request(`${h.url}/v1/topics/batches/events`, { method: 'POST', headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch), timeout: 60000 });
          } catch (e) { wrong.push(`batch: ${e.message}`); return; }
          if (r.status === 201) { counts.batch201++; acked.batches += 100; } else if (r.status !== 503) wrong.push(`batch ${r.status} ${r.body.slice(0, 200)}`);
        }
      })());
    }
    const sockets = [];
    for (let c = 0; c < 10; c++) {
      const ws = await wsClient(h);
      sockets.push(ws);
      let outstanding = 0;
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString('utf8'));
        outstanding--;
        if (m.op === 'published') { counts.ws201++; acked.flood++; } else if (m.op === 'error' && m.status === 429) counts.ws429++;
        else if (m.op === 'error' && m.status === 503) counts.ws503++;
        else wrong.push(`websocket: ${raw.toString('utf8').slice(0, 200)}`);
      });
      loops.push((async () => {
        for (let i = 0; Date.now() < until; i++) {
          // Never more than 200 unanswered: over the server's 64 in-flight limit, under unbounded memory here.
          while (outstanding >= 200 && Date.now() < until) await F.sleep(5);
          outstanding++;
          counts.wsSent++;
          ws.send(JSON.stringify({ op: 'publish', ref: `r${i}`, topic: 'flood', event: { specversion: '1.0', id: `ws${c}-${i}`, source: '/faults/ws', type: 'faults.flooded.v1', data: { big } } }));
          if (i % 50 === 49) await F.sleep(1);
        }
      })());
    }
    let peak = { ...baseline };
    const samples = [];
    loops.push((async () => {
      while (Date.now() < until) {
        const s = F.procStats(h.proc.pid);
        samples.push(s.rssKiB);
        peak = { rssKiB: Math.max(peak.rssKiB, s.rssKiB), fds: Math.max(peak.fds, s.fds), threads: Math.max(peak.threads, s.threads) };
        await F.sleep(250);
      }
    })());
    await Promise.all(loops);
    await F.waitFor(() => counts.ws201 + counts.ws429 + counts.ws503 >= counts.wsSent, { timeout: 30000, what: 'every WebSocket publish answered' });
    const stats = await probe.stop();
    for (const ws of sockets) ws.terminate();
    agent.destroy();

    assert.deepEqual(wrong.slice(0, 10), [], 'every answer is a success or a documented refusal');
    assert.ok(counts.ws429 > 0, 'the WebSocket in-flight limit refused publishes beyond it');
    const growthMiB = (peak.rssKiB - baseline.rssKiB) / 1024;
    assert.ok(growthMiB < 256, `RSS peak ${baseline.rssKiB} → ${peak.rssKiB} KiB (+${growthMiB.toFixed(0)} MiB) stays bounded`);
    assert.deepEqual(stats.publishFailures, [], 'the healthy client was served');
    assert.equal(stats.missing, 0);

    // Nothing acknowledged is missing, nothing unacknowledged slipped in, and the log is sound.
    const topics = (await F.request(`${h.url}/v1/topics`)).json.topics;
    const end = Object.fromEntries(topics.map((t) => [t.name, t.end_offset]));
    assert.equal(end.flood, acked.flood, 'flood: the log holds exactly the acknowledged events');
    assert.equal(end.batches, acked.batches, 'batches: the log holds exactly the acknowledged events');
    await F.sleep(1000);
    const after = F.procStats(h.proc.pid);
    assert.equal((await h.stop()).code, 0);
    const v = await F.verifyLog(h.dataDir);
    assert.ok(v.ok, v.out);
    F.report('overload-unlimited', {
      seconds: SECONDS, httpPublishers: HTTP_PUBLISHERS, ...counts,
      eventsPerSecond: Math.round((acked.flood + acked.batches) / SECONDS),
      mibPerSecond: Number(((counts.http201 + counts.ws201) * 16 / 1024 / SECONDS + counts.batch201 * 0.1 / SECONDS).toFixed(1)),
      baseline, peak, rssGrowthMiB: Math.round(growthMiB), after,
      rssMiBEvery2s: samples.filter((_, i) => i % 8 === 7).map((k) => Math.round(k / 1024)),
      healthy: { published: stats.published, ok: stats.publishOk, e2e: stats.e2e, publish: stats.publish },
    });
  } finally {
    await h.stop();
    h.cleanup();
  }
});
