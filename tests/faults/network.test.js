'use strict';
// Network faults around a healthy client. For FAULT_NET_SECONDS (15 s in the CI form, 60 s in the full one),
// all at once:
//   - REST upstreams (routes /hang/, /drip/, /reset/, /garbage/) that accept and never answer, answer one
//     body byte per second, reset the connection mid-body, or answer bytes that are not HTTP — called in loops;
//   - webhook receivers with the same four behaviours, each with a subscription on the healthy topic;
//   - clients that vanish: SSE streams, half-sent publishes, WebSocket subscriptions and proxied requests cut
//     with a TCP reset at a random moment; and a process holding SSE streams, half-sent publishes, WebSocket
//     subscriptions and bare connections that is SIGSTOPped (silent: no FIN, no reads) for the whole phase;
//   - 2,000 idle connections: bare, half a request head, and kept-alive after one request, reopened whenever
//     the server closes them.
// Throughout, the healthy client (lib/probe.js, its own process) publishes 40 events/s that it receives on SSE
// and calls a healthy proxied route 10 times/s: every request must succeed and the publish → SSE p99 stay under
// 1 s; a healthy webhook receiver gets every event. Each fault ends within its timeout with the documented
// answer (504, 502, or the connection cut after the head), the server closes the idle and silent connections
// by its timeouts, and afterwards the server's descriptors return to the baseline and its RSS near it.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const http = require('node:http');
const F = require('./lib/faults');

const SECONDS = F.envInt('FAULT_NET_SECONDS', F.FULL ? 60 : 15);
const IDLE = F.envInt('FAULT_IDLE_CONNECTIONS', 2000);
const KINDS = ['hang', 'drip', 'reset', 'garbage'];
const LIMITS_MS = { hang: 2000 + 2000, drip: 4000 + 2000, reset: 3000, garbage: 3000 };  // timeout + slack

// An upstream / webhook receiver that misbehaves in one way, whatever it is asked.
async function badServer(kind) {
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let head = '';
    let answered = false;
    s.on('data', (d) => {
      if (answered) return;
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      answered = true;
      if (kind === 'drip') {
        s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n');
        const t = setInterval(() => s.write('d'), 1000);
        s.on('close', () => clearInterval(t));
      } else if (kind === 'reset') {
        s.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n${'r'.repeat(300)}`);
        setTimeout(() => s.resetAndDestroy(), 50);
      } else if (kind === 'garbage') {
        s.end(Buffer.from('\u0000\u00ffSSH-2.0-not-http\r\n\r\n\u0016\u0003\u0001 garbage garbage\r\n', 'latin1'));
      }
      // hang: read everything, answer nothing
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    kind, port: server.address().port,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); },
  };
}

async function okUpstream() {
  const server = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok'); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); } };
}

function config(ok, bad) {
  const upstream = (port) => `{targets: ["127.0.0.1:${port}"], timeouts: {connect: 1s, read: 2s, total: 4s}, ` +
    'retries: {attempts: 0}, passive_health: {consecutive_failures: 0}}';
  return `
http:
  header_timeout: 5s
  body_timeout: 5s
  idle_timeout: 10s
websocket:
  ping_interval: 3s
  pong_timeout: 2s
webhooks:
  allow_destinations: ["127.0.0.1/32"]
  timeout: 1s
  retry_schedule: [200ms, 200ms, 200ms]
  retry_jitter: false
log:
  access: false
upstreams:
  ok: ${upstream(ok.port)}
${bad.map((b) => `  ${b.kind}: ${upstream(b.port)}`).join('\n')}
routes:
  - {name: ok, match: {prefix: /ok/}, upstream: ok}
${bad.map((b) => `  - {name: ${b.kind}, match: {prefix: /${b.kind}/}, upstream: ${b.kind}}`).join('\n')}
`;
}

// One proxied request; how it ended and how long it took.
function proxied(url) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let status = 0;
    let length = 0;
    let expected = -1;
    let done = false;
    const finish = (how) => {
      if (done) return;
      done = true;
      resolve({ status, complete: how === 'end' && (expected < 0 || length === expected), how, ms: Date.now() - t0 });
    };
    const req = http.get(url, { agent: false }, (res) => {
      status = res.statusCode;
      expected = res.headers['content-length'] ? Number(res.headers['content-length']) : -1;
      res.on('data', (c) => { length += c.length; });
      res.on('end', () => finish('end'));
      res.on('aborted', () => finish('aborted'));
      res.on('error', () => finish('error'));
      res.on('close', () => finish('closed'));
    });
    req.setTimeout(20000, () => req.destroy(new Error('client timeout')));
    req.on('error', () => finish('error'));
  });
}

function outcomeOk(kind, o) {
  if (o.ms > LIMITS_MS[kind]) return false;
  if (kind === 'hang') return o.status === 504;
  if (kind === 'garbage') return o.status === 502;
  if (kind === 'drip') return (o.status === 200 && !o.complete) || o.status === 504;
  return (o.status === 200 && !o.complete) || o.status === 502;  // reset
}

// Clients that disappear with a TCP reset at a random moment.
async function vanishOnce(h, random, kind) {
  const wait = () => F.sleep(Math.round(random() * 300));
  if (kind === 2) {
    const ws = new F.WebSocket(`ws://${h.host}:${h.port}/v1/ws`, 'herald.v1');
    ws.on('error', () => {});
    await Promise.race([new Promise((r) => ws.on('open', r)), F.deadline(5000)]);
    if (ws.readyState === F.WebSocket.OPEN) ws.send(JSON.stringify({ op: 'subscribe', id: 'v', topic: 'healthy', from: 'earliest' }));
    await wait();
    if (ws._socket) ws._socket.resetAndDestroy(); else ws.terminate();
    return;
  }
  const s = net.connect(h.port, h.host);
  s.on('error', () => {});
  await Promise.race([new Promise((r) => s.on('connect', r)), F.deadline(5000)]);
  if (kind === 0) s.write('GET /v1/topics/healthy/events?from=earliest HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  else if (kind === 1) s.write(`POST /v1/topics/healthy/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000\r\n\r\n{"v":"${'v'.repeat(1000)}`);
  else s.write(`GET /${random() < 0.5 ? 'ok' : 'drip'}/x HTTP/1.1\r\nHost: x\r\n\r\n`);
  s.on('data', () => {});
  await wait();
  s.resetAndDestroy();
}

// `count` idle connections of three kinds, reopened when the server closes them, until stop().
function idleConnections(h, count) {
  const state = { open: 0, serverClosed: { bare: 0, partialHead: 0, keptAlive: 0 }, stopped: false, sockets: new Set() };
  const kinds = ['bare', 'partialHead', 'keptAlive'];
  const openOne = (kind) => {
    if (state.stopped) return;
    const s = net.connect(h.port, h.host);
    state.sockets.add(s);
    s.on('error', () => {});
    s.on('connect', () => {
      state.open++;
      if (kind === 'partialHead') s.write('POST /v1/topics/healthy/events HTTP/1.1\r\nHost: x\r\nContent-Ty');
      if (kind === 'keptAlive') s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    s.on('data', () => {});
    s.on('close', () => {
      state.sockets.delete(s);
      if (state.stopped) return;
      state.open--;
      state.serverClosed[kind]++;
      setTimeout(() => openOne(kind), 100);
    });
  };
  const ready = (async () => {
    for (let i = 0; i < count; i++) {
      openOne(kinds[i % 3]);
      if (i % 100 === 99) await F.sleep(20);  // do not overflow the listen backlog
    }
    await F.waitFor(() => state.open >= count * 0.95, { timeout: 20000, what: `${count} idle connections open (${state.open})` });
  })();
  return {
    state, ready,
    stop: () => { state.stopped = true; for (const s of state.sockets) s.destroy(); },
  };
}

test(`network faults for ${SECONDS} s: the healthy client stays fast and resources return to baseline`, { timeout: 600000 }, async () => {
  const random = F.rng(F.SEED);
  const ok = await okUpstream();
  const bad = await Promise.all(KINDS.map(badServer));
  const good = await new F.Receiver().start();
  const h = await new F.Herald({ config: config(ok, bad) }).start();
  let holder;
  let idle;
  const figures = {};
  try {
    const limits = fs.readFileSync(`/proc/${h.proc.pid}/limits`, 'utf8');
    const maxFiles = Number(/^Max open files\s+(\d+|unlimited)/m.exec(limits)[1].replace('unlimited', 'Infinity'));
    assert.ok(maxFiles >= IDLE + 1000, `the server may open ${maxFiles} descriptors: too few for ${IDLE} idle connections ` +
      'and the rest of the run (raise `ulimit -n` or lower FAULT_IDLE_CONNECTIONS)');
    await F.createSubscription(h.url, { topic: 'healthy', url: good.url });
    const badSubs = [];
    for (const b of bad) {
      badSubs.push(await F.createSubscription(h.url, { topic: 'healthy', url: `http://127.0.0.1:${b.port}/hook` }));
    }

    // Warm-up without faults, then the baseline.
    const warm = await F.startProbe({ base: h.url, topic: 'healthy', rate: 40, proxyUrl: `${h.url}/ok/warm` });
    await F.sleep(3000);
    const warmStats = await warm.stop();
    assert.equal(warmStats.publishOk, warmStats.published, JSON.stringify(warmStats));
    await F.sleep(1000);
    const baseline = F.procStats(h.proc.pid);
    figures.baseline = baseline;
    figures.warmup = { e2e: warmStats.e2e, proxy: warmStats.proxy };

    // The faults.
    const probe = await F.startProbe({ base: h.url, topic: 'healthy', rate: 40, proxyUrl: `${h.url}/ok/healthy` });
    const h1 = F.forkHelper('holder', { cmd: 'open', host: h.host, port: h.port, topic: 'healthy', sse: 100, partial: 100, ws: 50, bare: 100 });
    holder = h1.child;
    const held = await h1.first;
    process.kill(holder.pid, 'SIGSTOP');
    idle = idleConnections(h, IDLE);
    await idle.ready;

    const until = Date.now() + SECONDS * 1000;
    const outcomes = Object.fromEntries(KINDS.map((k) => [k, []]));
    const loops = [];
    for (const kind of KINDS) {
      for (let c = 0; c < 2; c++) {
        loops.push((async () => {
          while (Date.now() < until) outcomes[kind].push(await proxied(`${h.url}/${kind}/x`));
        })());
      }
    }
    const vanished = [0, 0, 0, 0];
    for (let c = 0; c < 8; c++) {
      loops.push((async () => {
        while (Date.now() < until) {
          const kind = Math.floor(random() * 4);
          await vanishOnce(h, random, kind);
          vanished[kind]++;
        }
      })());
    }
    let peak = { ...baseline };
    let silentWsDropped = false;
    loops.push((async () => {
      while (Date.now() < until) {
        const s = F.procStats(h.proc.pid);
        peak = { rssKiB: Math.max(peak.rssKiB, s.rssKiB), fds: Math.max(peak.fds, s.fds), threads: Math.max(peak.threads, s.threads) };
        await F.sleep(500);
      }
    })());
    await Promise.all(loops);
    const stats = await probe.stop();
    const wsOpenAtEnd = (await F.metrics(h.admin)).herald_websocket_sessions_open;
    silentWsDropped = wsOpenAtEnd < held.opened.ws;

    // End the faults; the server must let go of everything.
    const idleState = { ...idle.state.serverClosed };
    idle.stop();
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    holder = undefined;
    for (const s of badSubs) assert.equal((await F.request(`${h.url}/v1/subscriptions/${s.id}`, { method: 'DELETE' })).status, 204);
    await Promise.all(bad.map((b) => b.close()));
    let after;
    await F.waitFor(() => {
      after = F.procStats(h.proc.pid);
      return after.fds <= baseline.fds + 8;
    }, { timeout: 30000, interval: 250, what: `descriptors back to baseline (${baseline.fds}; now ${after && after.fds})` });
    await F.sleep(1000);
    after = F.procStats(h.proc.pid);

    // The healthy client never noticed.
    assert.deepEqual(stats.publishFailures, [], 'every healthy publish succeeded');
    assert.equal(stats.publishOk, stats.published);
    assert.equal(stats.missing, 0, 'the healthy SSE subscriber received every event');
    assert.equal(stats.duplicates, 0);
    assert.ok(stats.e2e.p99 < 1000, `publish → SSE p99 ${stats.e2e.p99} ms under faults`);
    assert.deepEqual(stats.proxyFailures, [], 'every healthy proxied request succeeded');
    assert.ok(stats.proxy.p99 < 1000, `healthy proxied request p99 ${stats.proxy.p99} ms under faults`);
    assert.ok(stats.published >= SECONDS * 40 * 0.8, `the probe kept its rate (${stats.published})`);
    const probeIds = stats.publishOk + warmStats.publishOk;
    await F.waitFor(() => good.seen.size >= probeIds, { timeout: 20000, what: `the healthy webhook receiver got every event (${good.seen.size}/${probeIds})` });

    // Every fault ended within its timeout, with the documented answer.
    for (const kind of KINDS) {
      assert.ok(outcomes[kind].length >= 2, `${kind}: exercised`);
      const wrong = outcomes[kind].filter((o) => !outcomeOk(kind, o));
      assert.deepEqual(wrong, [], `${kind}: every proxied request ended as documented within ${LIMITS_MS[kind]} ms`);
    }
    assert.ok(idleState.bare > 0 && idleState.partialHead > 0 && idleState.keptAlive > 0,
      `the server closed idle connections of every kind by its timeouts: ${JSON.stringify(idleState)}`);
    assert.ok(silentWsDropped, `the silent WebSocket peers were dropped by ping/pong (${wsOpenAtEnd} of ${held.opened.ws} still open)`);

    // Resources back to (near) the baseline.
    assert.ok(after.fds <= baseline.fds + 8, `descriptors ${baseline.fds} → ${after.fds}`);
    const rssLimit = Math.max(baseline.rssKiB * 1.5, baseline.rssKiB + 32 * 1024);
    assert.ok(after.rssKiB <= rssLimit, `RSS ${baseline.rssKiB} KiB → ${after.rssKiB} KiB (limit ${Math.round(rssLimit)})`);
    const m = await F.metrics(h.admin);
    assert.equal(m.herald_sse_streams_open, 0, 'no SSE stream left');
    assert.equal(m.herald_websocket_sessions_open, 0, 'no WebSocket session left');

    Object.assign(figures, {
      seconds: SECONDS, idleConnections: IDLE, serverClosedIdle: idleState,
      held: held.opened, silentWsOpenAtEnd: wsOpenAtEnd, vanished: { sse: vanished[0], partialPublish: vanished[1], ws: vanished[2], proxied: vanished[3] },
      proxiedFaults: Object.fromEntries(KINDS.map((k) => [k, { n: outcomes[k].length, maxMs: outcomes[k].reduce((a, o) => Math.max(a, o.ms), 0), statuses: [...new Set(outcomes[k].map((o) => `${o.status}${o.complete ? '' : '-cut'}`))] }])),
      healthy: { published: stats.published, ok: stats.publishOk, received: stats.received, e2e: stats.e2e, publish: stats.publish, proxied: stats.proxied, proxyOk: stats.proxyOk, proxy: stats.proxy },
      webhookHealthy: { unique: good.seen.size, latency: F.latencySummary(good.latencies) },
      peak, after,
    });
    F.report('network', figures);
  } finally {
    if (idle) idle.stop();
    if (holder) { holder.kill('SIGKILL'); }
    await h.stop();
    h.cleanup();
    await good.close();
    await ok.close();
    await Promise.all(bad.map((b) => b.close().catch(() => {})));
  }
});
