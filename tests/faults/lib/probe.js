'use strict';
// The healthy client, in a process of its own (forked by the fault tests) so that the faults the test process
// generates do not slow its measurements down. It publishes to a topic at a steady rate and receives the
// events on an SSE stream (publish → receive latency), and optionally calls a proxied route (request
// latency). Messages: {cmd:'start', base, topic, rate, proxyUrl?, proxyRate?} → {ready:true}; {cmd:'window'} →
// {window} (the figures since the previous window, for the soak); {cmd:'stop'} → {stats} once every
// outstanding request has ended (or after 10 s), then it exits.
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { request, sseConnect } = require('../../integration/lib/herald');
const { latencySummary } = require('./faults');

let cfg;
let sse;
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const sentAt = new Map();  // probe seq -> performance.now() at send
const e2e = [];
const publishLatency = [];
const publishFailures = [];
const proxyLatency = [];
const proxyFailures = [];
const received = new Set();
let duplicates = 0;
let published = 0;
let publishOk = 0;
let proxied = 0;
let proxyOk = 0;
let outstanding = 0;
let timers = [];
let streamClosed = false;
const win = { e2e: [], proxy: [], failures: 0 };

function firstFew(list, item) { if (list.length < 10) list.push(item); }

async function publishOnce(seq) {
  outstanding++;
  published++;
  const t0 = performance.now();
  sentAt.set(seq, t0);
  try {
    const r = await request(`${cfg.base}/v1/topics/${cfg.topic}/events?type=faults.probed.v1`, {
      method: 'POST', agent, timeout: 10000, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ probe: seq, t: Date.now() }),
    });
    publishLatency.push(performance.now() - t0);
    if (r.status === 201) publishOk++; else { win.failures++; firstFew(publishFailures, `${r.status} ${r.body}`); }
  } catch (e) {
    win.failures++;
    firstFew(publishFailures, e.message);
  } finally { outstanding--; }
}

async function proxyOnce() {
  outstanding++;
  proxied++;
  const t0 = performance.now();
  try {
    const r = await request(cfg.proxyUrl, { agent, timeout: 10000 });
    proxyLatency.push(performance.now() - t0);
    win.proxy.push(performance.now() - t0);
    if (r.status === 200 && r.body === 'ok') proxyOk++; else { win.failures++; firstFew(proxyFailures, `${r.status} ${r.body.slice(0, 200)}`); }
  } catch (e) {
    win.failures++;
    firstFew(proxyFailures, e.message);
  } finally { outstanding--; }
}

async function start(m) {
  cfg = m;
  await new Promise((resolve, reject) => {
    sse = sseConnect(`${cfg.base}/v1/topics/${cfg.topic}/events?from=latest`, {
      onOpen: (res) => (res.statusCode === 200 ? resolve() : reject(new Error(`SSE status ${res.statusCode}`))),
      onEvent: (e) => {
        if (e.event.startsWith('herald.')) return;
        const seq = JSON.parse(e.data).data.probe;
        if (received.has(seq)) { duplicates++; return; }
        received.add(seq);
        const t0 = sentAt.get(seq);
        if (t0 !== undefined) { e2e.push(performance.now() - t0); win.e2e.push(performance.now() - t0); }
        sentAt.delete(seq);
      },
      onClose: () => { streamClosed = true; },
    });
  });
  let seq = 0;
  timers.push(setInterval(() => publishOnce(seq++), 1000 / cfg.rate));
  if (cfg.proxyUrl) timers.push(setInterval(proxyOnce, 1000 / (cfg.proxyRate || 10)));
  process.send({ ready: true });
}

async function stop() {
  for (const t of timers) clearInterval(t);
  timers = [];
  const until = Date.now() + 10000;
  while ((outstanding > 0 || received.size < publishOk) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  sse.close();
  agent.destroy();
  process.send({
    stats: {
      published, publishOk, publishFailures, received: received.size, duplicates, streamClosed,
      missing: publishOk - received.size,
      e2e: latencySummary(e2e), publish: latencySummary(publishLatency),
      proxied, proxyOk, proxyFailures, proxy: latencySummary(proxyLatency),
    },
  }, () => process.exit(0));
}

process.on('message', (m) => {
  if (m.cmd === 'start') start(m).catch((e) => { process.send({ error: e.message }); process.exit(1); });
  else if (m.cmd === 'stop') stop();
  else if (m.cmd === 'window') {
    process.send({ window: { e2e: latencySummary(win.e2e), proxy: latencySummary(win.proxy), failures: win.failures } });
    win.e2e = [];
    win.proxy = [];
    win.failures = 0;
  }
});
process.on('disconnect', () => process.exit(0));
