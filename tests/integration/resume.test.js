'use strict';
// Resume: a subscriber whose connection is cut 50 times while events keep flowing reconnects each time with
// Last-Event-ID and ends with every event exactly once, in order.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { Herald, publish, sseConnect, sleep, waitFor } = require('./lib/herald');

test('50 forced disconnects with Last-Event-ID resume: no gap, no duplicate', async () => {
  const h = await new Herald().start();
  try {
    const TOTAL = 1000;
    const got = [];
    let lastId;
    let stop = false;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const publisher = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        const r = await publish(h.url, 'cuts', { seq: i }, { agent });
        assert.equal(r.status, 201);
        if (i % 20 === 0) await sleep(2);
      }
    })();
    let disconnects = 0;
    while (!stop) {
      let conn;
      const closed = new Promise((resolve) => {
        conn = sseConnect(`${h.url}/v1/topics/cuts/events?from=earliest`, {
          headers: lastId ? { 'Last-Event-ID': lastId } : {},
          onEvent: (e) => { got.push(JSON.parse(e.data).data.seq); lastId = e.id; },
          onClose: resolve,
        });
      });
      if (disconnects < 50) {
        await sleep(5 + Math.floor(Math.random() * 25));
        conn.close();
        disconnects++;
        await closed;
      } else {
        await publisher;
        await waitFor(() => got.length >= TOTAL, { timeout: 20000, what: 'all events after the last resume' });
        conn.close();
        stop = true;
      }
    }
    assert.equal(disconnects, 50);
    assert.equal(got.length, TOTAL, 'no duplicates');
    got.forEach((v, i) => assert.equal(v, i, `event ${i} in order`));
    agent.destroy();
  } finally {
    await h.stop();
    h.cleanup();
  }
});
