'use strict';
// Backpressure: a subscriber that stops reading does not make the server buffer without bound (it is switched
// to catch-up from the log); once it reads again it still gets everything, in order, exactly once.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const http = require('node:http');
const { Herald, request, metrics, sleep, waitFor } = require('./lib/herald');

test('a stalled subscriber keeps memory bounded and then receives everything in order', async () => {
  const h = await new Herald().start();
  try {
    const sock = net.connect(h.port, h.host);
    await new Promise((r) => sock.on('connect', r));
    sock.write(`GET /v1/topics/slow/events?from=latest HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    await waitFor(async () => (await metrics(h.admin)).herald_sse_streams_open === 1, { what: 'stream open' });
    sock.pause();  // stop reading: the kernel buffers fill, then Herald must stop queueing

    const rssBefore = (await metrics(h.admin)).herald_process_resident_memory_bytes;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const EVENTS = 4000;
    const pad = 'p'.repeat(8 * 1024);  // 4000 x 8 KiB = 32 MiB through a reader that reads nothing
    for (let i = 0; i < EVENTS; i += 40) {
      const batch = Array.from({ length: 40 }, (_, k) => ({ specversion: '1.0', id: `s-${i + k}`, source: '/t', type: 'slow.thing.v1', data: { seq: i + k, pad } }));
      const r = await request(`${h.url}/v1/topics/slow/events`, {
        method: 'POST', headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch), agent,
      });
      assert.equal(r.status, 201);
    }
    await sleep(300);
    const rssAfter = (await metrics(h.admin)).herald_process_resident_memory_bytes;
    const growth = rssAfter - rssBefore;
    assert.ok(growth < 24 * 1024 * 1024, `RSS grew ${growth} bytes for 32 MiB published to a stalled reader`);

    // Read again: every event, in order, once.
    let buf = '';
    const seqs = [];
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: {'));
        if (data) seqs.push(JSON.parse(data.slice(6)).data.seq);
      }
    });
    sock.resume();
    await waitFor(() => seqs.length >= EVENTS, { timeout: 60000, what: 'all events after resuming' });
    sock.destroy();
    assert.equal(seqs.length, EVENTS);
    seqs.forEach((v, i) => assert.equal(v, i));
    agent.destroy();
  } finally {
    await h.stop();
    h.cleanup();
  }
});
