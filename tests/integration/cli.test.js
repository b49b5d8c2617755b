'use strict';
// The command-line tools: `herald publish` (argument, file, stdin), `herald tail` (follows, resumes by itself
// across a server restart), `herald log verify`, `herald serve` flag errors, and `herald top` (its one-shot and
// piped live output, an unreachable admin listener, the admin token).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, execFile } = require('node:child_process');
const { Herald, BIN, deadline, metrics, request, publish, run, sleep, sseConnect, tmpDir, waitFor } = require('./lib/herald');

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
    // Only http:// and https:// URLs (TLS itself is in tls.test.js); https:// to a plain listener fails in the
    // TLS handshake, with the reason.
    const scheme = await run(BIN, ['publish', 'cli', '--url', 'ftp://127.0.0.1:21', '--data', '{}']);
    assert.equal(scheme.code, 2);
    assert.match(scheme.stderr, /expected a URL like http:\/\/127\.0\.0\.1:8080 or https:\/\//);
    const tlsToPlain = await run(BIN, ['publish', 'cli', '--url', h.url.replace('http://', 'https://'),
      '--type', 'cli.said.v1', '--data', '{}']);
    assert.equal(tlsToPlain.code, 1);
    assert.match(tlsToPlain.stderr, /^herald: TLS handshake with 127\.0\.0\.1:\d+ failed: /);
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

test('herald config check: every example is valid; a bad file names the key and line and exits 1', async () => {
  const examples = path.resolve(__dirname, '../../examples');
  for (const dir of fs.readdirSync(examples)) {
    const file = path.join(examples, dir, 'herald.yaml');
    if (!fs.existsSync(file)) continue;
    const r = await run(BIN, ['config', 'check', file]);
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    assert.match(r.stdout, /: ok \(engine (embedded|jetstream),/);
  }
  const dir = tmpDir();
  try {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'listen: 127.0.0.1:8080\nengine:\n  kind: jetstream\n  jetstream:\n    replicas: 9\n');
    const r = await run(BIN, ['config', 'check', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /engine\.jetstream\.replicas \(.*bad\.yaml line 5\)/);
    const usage = await run(BIN, ['config', 'verify', bad]);
    assert.equal(usage.code, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // The cluster example's NATS configurations are what nats-server accepts.
  for (const i of [1, 2, 3]) {
    const r = await run('/usr/sbin/nats-server', ['-t', '-c', path.join(examples, 'cluster', `nats-${i}.conf`)]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  }
});

test('a second server on an address another one listens on refuses to start instead of sharing it', async () => {
  // The workers bind with SO_REUSEPORT, which on its own would let a second process join the first one's
  // address and silently take a share of its connections.
  const first = await new Herald().start();
  const second = new Herald();
  try {
    for (const [flag, taken] of [['--listen', `127.0.0.1:${first.port}`], ['--admin-listen', new URL(first.admin).host]]) {
      const args = ['serve', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--data-dir', second.dataDir, flag, taken];
      const r = await run(BIN, args, { timeout: 20000 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`${taken.replace(/[.]/g, '\\.')} is already in use`));
    }
    // The first server still has every connection.
    for (let i = 0; i < 20; i++) assert.equal((await publish(first.url, 'still-mine', { i })).status, 201);
    const page = await request(`${first.url}/v1/topics/still-mine/events?from=earliest&limit=100`, { headers: { Accept: 'application/json' } });
    assert.equal(page.json.events.length, 20);
  } finally {
    await first.stop();
    first.cleanup();
    second.cleanup();
  }
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

// ---- herald top --------------------------------------------------------------------------------------------------

// The topic table of a `herald top` frame: {name: {rate, bytes, events, last}} from the lines under TOPIC.
function topTopics(stdout) {
  const lines = stdout.split('\n');
  const head = lines.findIndex((l) => l.startsWith('TOPIC '));
  assert.ok(head >= 0, `no topic table in:\n${stdout}`);
  const topics = {};
  const order = [];
  for (const line of lines.slice(head + 1)) {
    if (!line.trim() || line.startsWith('+')) break;
    const [name, rate, bytes, events, last] = line.trim().split(/\s+/);
    topics[name] = { rate: Number(rate), bytes, events: Number(events), last: Number(last) };
    order.push(name);
  }
  return { topics, order };
}

test('herald top --once: topics with totals and rates, and the open SSE connection', async () => {
  const h = await new Herald().start();
  const N = 25;
  let publishing = true;
  const sse = sseConnect(`${h.url}/v1/topics/top-busy/events`, { onEvent: () => {} });
  try {
    for (let i = 0; i < N; i++) {
      assert.equal((await publish(h.url, 'top-busy', { i })).status, 201);
      assert.equal((await publish(h.url, 'top-quiet', { i })).status, 201);
    }
    await waitFor(async () => (await metrics(h.admin)).herald_sse_streams_open === 1, { what: 'the SSE stream' });
    // Publishing goes on while top takes its two samples.
    let busy = N;
    const background = (async () => {
      while (publishing) {
        if ((await publish(h.url, 'top-busy', { i: busy })).status === 201) busy++;
        await sleep(5);
      }
    })();
    const before = busy;
    // The admin address as HOST:PORT (the URL form is used below).
    const r = await run(BIN, ['top', '--once', '--admin', h.admin.replace('http://', ''), '--interval', '500ms']);
    const after = busy;
    publishing = false;
    await background;

    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('\x1b'), 'no screen control codes in --once output');
    const { topics, order } = topTopics(r.stdout);
    assert.ok(topics['top-busy'] && topics['top-quiet'], r.stdout);
    assert.equal(order[0], 'top-busy', `the topic being published to comes first:\n${r.stdout}`);
    assert.equal(topics['top-quiet'].events, N, r.stdout);
    assert.equal(topics['top-quiet'].last, N - 1, r.stdout);
    assert.equal(topics['top-quiet'].rate, 0, r.stdout);
    assert.ok(topics['top-busy'].events >= before && topics['top-busy'].events <= after,
      `${before} <= ${topics['top-busy'].events} <= ${after}\n${r.stdout}`);
    assert.ok(topics['top-busy'].rate > 0, r.stdout);
    assert.match(r.stdout, /^herald \d+\.\d+\.\d+ {3}up \d+s/m);
    assert.match(r.stdout, /^connections .*\bsse 1\b/m);
    assert.match(r.stdout, /^publish +\d+\.\d ev\/s/m);

    // Live mode into a pipe: complete frames only, plain text, and it stops after --iterations.
    const live = await run(BIN, ['top', '--admin', h.admin, '--interval', '200ms', '--iterations', '2']);
    assert.equal(live.code, 0, live.stderr);
    assert.equal(live.stdout.split('\n').filter((l) => l.startsWith('TOPIC ')).length, 2, live.stdout);
    assert.ok(!live.stdout.includes('\x1b'));

    const usage = await run(BIN, ['top', '--once', '--interval', '5']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--interval takes a duration/);
  } finally {
    publishing = false;
    sse.close();
    await h.stop();
    h.cleanup();
  }
});

test('herald top against a closed port: --once exits 1 with the reason, live mode keeps retrying', async () => {
  const port = await freePort();
  const once = await run(BIN, ['top', '--once', '--admin', `127.0.0.1:${port}`, '--interval', '100ms']);
  assert.equal(once.code, 1);
  assert.match(once.stderr, new RegExp(`herald top: cannot connect to 127\\.0\\.0\\.1:${port}: Connection refused`));

  const live = spawn(BIN, ['top', '--admin', `127.0.0.1:${port}`, '--interval', '100ms']);
  let err = '';
  live.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => live.on('exit', (code, signal) => r({ code, signal })));
  try {
    await waitFor(() => (err.match(/cannot connect/g) || []).length >= 3, { what: 'three failed scrapes' });
    assert.equal(live.exitCode, null, 'still running after failures');
    assert.match(err, /retrying every 100ms/);
    live.kill('SIGINT');
    const r = await Promise.race([exited, deadline(5000)]);
    assert.deepEqual(r, { code: 0, signal: null }, 'SIGINT ends it cleanly');
  } finally {
    live.kill('SIGKILL');
  }
});

test('herald top with the admin token: 401 named without it, works with --token or HERALD_ADMIN_TOKEN', async () => {
  const token = 'admin-token-for-the-top-test-0123456789';
  const h = await new Herald({ config: `auth:\n  enabled: true\n  admin_token: ${token}\n` }).start();
  try {
    const without = await run(BIN, ['top', '--once', '--admin', h.admin, '--interval', '100ms']);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /answered 401 Unauthorized: \/metrics needs the admin token \(--token or HERALD_ADMIN_TOKEN\)/);
    const wrong = await run(BIN, ['top', '--once', '--admin', h.admin, '--interval', '100ms', '--token', 'not-it']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401 Unauthorized: it refused the admin token given/);
    const withFlag = await run(BIN, ['top', '--once', '--admin', h.admin, '--interval', '100ms', '--token', token]);
    assert.equal(withFlag.code, 0, withFlag.stderr);
    assert.match(withFlag.stdout, /^connections /m);
    const withEnv = await new Promise((resolve) => {
      execFile(BIN, ['top', '--once', '--admin', h.admin, '--interval', '100ms'],
        { env: { ...process.env, HERALD_ADMIN_TOKEN: token }, timeout: 30000 },
        (e, stdout, stderr) => resolve({ code: e ? (e.code ?? 1) : 0, stdout, stderr }));
    });
    assert.equal(withEnv.code, 0, withEnv.stderr);
    assert.match(withEnv.stdout, /^publish /m);
  } finally {
    await h.stop();
    h.cleanup();
  }
});
