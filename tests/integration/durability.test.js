'use strict';
// Durability: a restart keeps every event and every cursor; kill -9 in the middle of a publishing burst loses
// no event that was answered 201 (checked with `herald log verify` and by reading back); a torn tail is cut.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { Herald, BIN, request, publish, run, sleep, tmpDir } = require('./lib/herald');

async function readAll(base, topic) {
  const out = [];
  let from = 'earliest';
  for (;;) {
    const r = await request(`${base}/v1/topics/${topic}/events?from=${from}&limit=1000`);
    assert.equal(r.status, 200, r.body);
    out.push(...r.json.events);
    if (r.json.events.length === 0) return out;
    from = r.json.next;
  }
}

test('a graceful restart keeps every event and cursors stay valid', async () => {
  const dataDir = path.join(tmpDir(), 'data');
  const a = await new Herald({ dataDir }).start();
  const cursors = [];
  for (let i = 0; i < 100; i++) cursors.push((await publish(a.url, 'keep', { i })).json.cursor);
  assert.equal((await a.stop()).code, 0);
  const b = await new Herald({ dataDir }).start();
  try {
    const all = await readAll(b.url, 'keep');
    assert.deepEqual(all.map((e) => e.data.i), [...Array(100).keys()]);
    const after = await request(`${b.url}/v1/topics/keep/events?from=${cursors[49]}&limit=1000`);
    assert.equal(after.json.events[0].data.i, 50);
    assert.equal(after.json.gap, undefined);
    // Publishing continues at the next offset and the dedup window survived the restart.
    const again = await request(`${b.url}/v1/topics/keep/events`, {
      method: 'POST', headers: { 'Content-Type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id: all[3].id, source: all[3].source, type: all[3].type }),
    });
    assert.equal(again.status, 200);
    assert.equal(again.json.offset, 3);
    const next = await publish(b.url, 'keep', { i: 100 });
    assert.equal(next.json.offset, 100);
  } finally {
    await b.stop();
    b.cleanup();
  }
});

for (const fsync of ['interval', 'always']) {
  test(`kill -9 during a publishing burst loses no acknowledged event (fsync: ${fsync})`, async () => {
    const dataDir = path.join(tmpDir(), 'data');
    const config = `topics:\n  defaults:\n    fsync: ${fsync}\n`;
    const a = await new Herald({ dataDir, config }).start();
    const acked = new Map();  // id -> offset
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    let stop = false;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await publish(a.url, 'burst', { w, i, pad: 'x'.repeat(200) }, { agent });
          if (r.status === 201) acked.set(r.json.id, r.json.offset);
        } catch { return; }  // the server died mid-request: that publish was never acknowledged
      }
    });
    while (acked.size < 1500) await sleep(5);
    await a.kill9();
    stop = true;
    await Promise.all(workers);
    agent.destroy();

    const verify = await run(BIN, ['log', 'verify', dataDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /verify: ok/);

    const b = await new Herald({ dataDir, config }).start();
    try {
      const all = await readAll(b.url, 'burst');
      const byId = new Map(all.map((e, i) => [e.id, i]));
      for (const [id, offset] of acked) {
        assert.ok(byId.has(id), `acknowledged event ${id} survived`);
        assert.equal(byId.get(id), offset, `event ${id} kept its offset`);
      }
    } finally {
      await b.stop();
      b.cleanup();
    }
    a.cleanup();
  });
}

test('a torn tail is cut on start and log verify reports clean afterwards', async () => {
  const dataDir = path.join(tmpDir(), 'data');
  const a = await new Herald({ dataDir }).start();
  for (let i = 0; i < 20; i++) await publish(a.url, 'torn', { i });
  await a.stop();
  const topicDir = path.join(dataDir, 'topics', 'torn');
  const seg = fs.readdirSync(topicDir).filter((f) => f.endsWith('.log')).sort().pop();
  fs.appendFileSync(path.join(topicDir, seg), Buffer.from('HLB1 this is a torn, half-written batch'));
  const before = await run(BIN, ['log', 'verify', dataDir]);
  assert.notEqual(before.code, 0, 'verify notices the torn tail');
  assert.match(before.stdout, /PROBLEMS/);
  const b = await new Herald({ dataDir }).start();
  try {
    const all = await readAll(b.url, 'torn');
    assert.deepEqual(all.map((e) => e.data.i), [...Array(20).keys()]);
    assert.equal((await publish(b.url, 'torn', { i: 20 })).json.offset, 20);
  } finally {
    await b.stop();
  }
  const after = await run(BIN, ['log', 'verify', dataDir]);
  assert.equal(after.code, 0, after.stdout);
  b.cleanup();
});
