'use strict';
// The command-line tools: `herald publish` (argument, file, stdin), `herald tail` (follows, resumes by itself
// across a server restart), `herald log verify`, and `herald serve` flag errors.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Herald, BIN, deadline, request, publish, run, sleep, tmpDir, waitFor } = require('./lib/herald');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

test('herald publish from an argument, a file and stdin', async () => {
  const h = await new Herald().start();
  try {
    const a = await run(BIN, ['publish', 'cli', '--url', h.url, '--type', 'cli.said.v1', '--data', '{"n":1}']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(JSON.parse(a.stdout).offset, 0);
    const file = path.join(h.dir, 'events.ndjson');
    fs.writeFileSync(file, '{"n":2}\n{"n":3}\n');
    const b = await run(BIN, ['publish', 'cli', '--url', h.url, '--type', 'cli.said.v1', '--file', file]);
    assert.equal(b.code, 0, b.stderr);
    const c = await run(BIN, ['publish', 'cli', '--url', h.url, '--type', 'cli.said.v1'], {
      input: '{"n":4}\n{"specversion":"1.0","id":"x-5","source":"/cli","type":"cli.said.v1","data":{"n":5}}\n',
    });
    assert.equal(c.code, 0, c.stderr);
    const page = await request(`${h.url}/v1/topics/cli/events?from=earliest`);
    assert.deepEqual(page.json.events.map((e) => e.data.n), [1, 2, 3, 4, 5]);
    assert.equal(page.json.events[4].id, 'x-5');
    const bad = await run(BIN, ['publish', 'cli', '--url', h.url, '--data', '{"no-type":true}']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /HTTP 400/);
  } finally {
    await h.stop();
    h.cleanup();
  }
});

test('herald tail prints events as JSON lines and resumes by itself after a restart', async () => {
  const port = await freePort();
  const dataDir = path.join(tmpDir(), 'data');
  const url = `http://127.0.0.1:${port}`;
  let h = await new Herald({ dataDir, args: ['--listen', `127.0.0.1:${port}`] }).start();
  for (let i = 0; i < 3; i++) await publish(h.url, 'tailed', { i });
  const tail = spawn(BIN, ['tail', 'tailed', '--url', url, '--from', 'earliest', '--count', '6']);
  let out = '';
  tail.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((r) => tail.on('exit', r));
  try {
    await waitFor(() => out.split('\n').filter(Boolean).length === 3, { what: 'first three events' });
    await h.stop();
    await sleep(200);
    h = await new Herald({ dataDir, args: ['--listen', `127.0.0.1:${port}`] }).start();
    for (let i = 3; i < 6; i++) await publish(h.url, 'tailed', { i });
    const code = await Promise.race([exited, deadline(20000)]);
    assert.equal(code, 0, `tail exit: ${code}`);
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => e.data.i), [0, 1, 2, 3, 4, 5]);
  } finally {
    tail.kill('SIGKILL');
    await h.stop();
    h.cleanup();
  }
});

test('herald log verify on a healthy data directory; serve rejects bad flags and config', async () => {
  const h = await new Herald().start();
  await publish(h.url, 'v', { a: 1 });
  await h.stop();
  const r = await run(BIN, ['log', 'verify', h.dataDir]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /v: ok .* 1 records/);
  const missing = await run(BIN, ['log', 'verify', path.join(h.dir, 'nope')]);
  assert.equal(missing.code, 2);

  const badListen = await run(BIN, ['serve', '--listen', 'nowhere', '--data-dir', h.dataDir]);
  assert.equal(badListen.code, 2);
  assert.match(badListen.stderr, /listen/);
  const cfg = path.join(h.dir, 'bad.yaml');
  fs.writeFileSync(cfg, 'listen: 127.0.0.1:0\ntopics:\n  defaults:\n    fsync: sometimes\n');
  const badCfg = await run(BIN, ['serve', '--config', cfg]);
  assert.equal(badCfg.code, 2);
  assert.match(badCfg.stderr, /topics\.defaults\.fsync .*line 4.*always, interval or never/);
  h.cleanup();
});

test('herald publish --ws and herald tail --ws speak herald.v1 and resume across a restart', async () => {
  const port = await freePort();
  const dataDir = path.join(tmpDir(), 'data');
  const url = `http://127.0.0.1:${port}`;
  let h = await new Herald({ dataDir, args: ['--listen', `127.0.0.1:${port}`] }).start();
  const pub = await run(BIN, ['publish', 'wstail', '--ws', '--url', url, '--type', 'cli.said.v1'], {
    input: '{"i":0}\n{"i":1}\n{"specversion":"1.0","id":"ws-2","source":"/cli","type":"cli.said.v1","data":{"i":2}}\n',
  });
  assert.equal(pub.code, 0, pub.stderr);
  const answers = pub.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(answers.length, 3);
  assert.ok(answers.every((a) => a.op === 'published'));
  const tail = spawn(BIN, ['tail', 'wstail', '--ws', '--url', url, '--from', 'earliest', '--count', '6']);
  let out = '';
  tail.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((r) => tail.on('exit', r));
  try {
    await waitFor(() => out.split('\n').filter(Boolean).length === 3, { what: 'first three events over WebSocket' });
    await h.stop();
    await sleep(200);
    h = await new Herald({ dataDir, args: ['--listen', `127.0.0.1:${port}`] }).start();
    for (let i = 3; i < 6; i++) await publish(h.url, 'wstail', { i });
    const code = await Promise.race([exited, deadline(20000)]);
    assert.equal(code, 0, `tail exit: ${code}`);
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => e.data.i), [0, 1, 2, 3, 4, 5]);
    assert.equal(lines[2].id, 'ws-2');
    const bad = await run(BIN, ['publish', 'wstail', '--ws', '--url', url], { input: '{"no":"type"}\n' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--type/);
  } finally {
    tail.kill('SIGKILL');
    await h.stop();
    h.cleanup();
  }
});

test('herald schema check and diff', async () => {
  const dir = tmpDir();
  const write = (name, obj) => { const p = path.join(dir, name); fs.writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj)); return p; };
  const v1 = write('v1.json', { type: 'object', required: ['id'], properties: { id: { type: 'string' }, n: { type: 'number' } } });
  const v2ok = write('v2ok.json', { type: 'object', required: ['id'], properties: { id: { type: 'string' }, n: { type: 'number' }, note: { type: 'string' } } });
  const v2bad = write('v2bad.json', { type: 'object', required: ['id', 'who'], properties: { id: { type: 'string' }, n: { type: 'integer' }, who: { type: 'string' } } });
  const broken = write('broken.json', { type: 'object', properties: { a: { pattern: '(' } } });
  const data = write('data.json', { n: 'x' });
  let r = await run(BIN, ['schema', 'check', v1]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok \(draft-07\)/);
  r = await run(BIN, ['schema', 'check', broken]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /NOT USABLE/);
  r = await run(BIN, ['schema', 'check', v1, '--data', data]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /\[required\]/);
  assert.match(r.stdout, /\/n\s+\[type\]/);
  r = await run(BIN, ['schema', 'diff', v1, v2ok]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^compatible/);
  r = await run(BIN, ['schema', 'diff', v1, v2bad]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /required/);
  assert.match(r.stdout, /type/);
  r = await run(BIN, ['schema', 'diff', v1]);
  assert.equal(r.code, 2);
  fs.rmSync(dir, { recursive: true, force: true });
});
