'use strict';
// TLS on Herald's own listeners (docs/security.md "TLS"), with a test CA made by the openssl CLI: HTTPS (curl and
// Node), SSE and WebSocket over TLS, the REST gateway behind TLS, the admin listener with a TLS 1.3 floor; the
// refusals (plain HTTP on the TLS port, TLS 1.1, ALPN without http/1.1, a client that never handshakes) leave
// the server serving; certificate rotation on SIGHUP and POST /admin/reload reaches new connections while open
// streams keep theirs; a failed reload keeps the running certificate; a key of another certificate stops the
// start. The command-line clients (`herald publish`, `tail`, `top`) over https:// and wss:// with the CA given by
// --cacert or HERALD_CA_FILE, and refusing the certificate without it.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const path = require('node:path');
const tls = require('node:tls');
const { execFile, execFileSync } = require('node:child_process');
const WebSocket = require('ws');
const { BIN, Herald, request, publish, sseConnect, metrics, waitFor, tmpDir, run } = require('./lib/herald');

const ADMIN_TOKEN = 'admin-token-for-the-tls-test';
const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };

function openssl(args) { execFileSync('openssl', args, { stdio: 'pipe' }); }

// A test CA; server certificates signed by it name 127.0.0.1 and localhost, with the serial and CN given so a
// test can tell which certificate a connection got.
function makeCa(dir) {
  const p = (f) => path.join(dir, f);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=Herald TLS test CA', '-keyout', p('ca.key'), '-out', p('ca.pem')]);
  fs.writeFileSync(p('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  return { dir, key: p('ca.key'), pem: p('ca.pem'), ext: p('ext.cnf') };
}

function makeServerCert(ca, name, serial) {
  const p = (f) => path.join(ca.dir, f);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`,
    '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`)]);
  openssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', ca.pem, '-CAkey', ca.key, '-set_serial', `0x${serial}`,
    '-days', '2', '-extfile', ca.ext, '-out', p(`${name}.pem`)]);
  return { cert: p(`${name}.pem`), key: p(`${name}.key`), serial };
}

let dir;
let ca;
let caText;
let first;
let second;
let live;
let upstream;
let h;

test.before(async () => {
  dir = tmpDir('herald-tls-');
  ca = makeCa(dir);
  caText = fs.readFileSync(ca.pem);
  first = makeServerCert(ca, 'first', '7A1001');
  second = makeServerCert(ca, 'second', '7A2002');
  // The data plane reads these paths; rotation copies another certificate over them.
  live = { cert: path.join(dir, 'live.pem'), key: path.join(dir, 'live.key') };
  fs.copyFileSync(first.cert, live.cert);
  fs.copyFileSync(first.key, live.key);
  // An upstream for the REST gateway that answers with the request headers it got.
  upstream = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ headers: req.headers }));
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  h = await new Herald({
    config: `
tls:
  cert_file: ${live.cert}
  key_file: ${live.key}
admin_tls:
  cert_file: ${first.cert}
  key_file: ${first.key}
  min_version: "1.3"
http:
  header_timeout: 1s
auth:
  admin_token: ${ADMIN_TOKEN}
upstreams:
  echo:
    targets: [127.0.0.1:${upstream.address().port}]
routes:
  - name: echo
    match: {prefix: /echo/}
    upstream: echo
`,
  }).start();
});

test.after(async () => {
  if (h) { await h.stop(); h.cleanup(); }
  if (upstream) await new Promise((resolve) => upstream.close(resolve));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// A raw TLS connection to `port`; resolves {socket} once the handshake is done, or {error}.
function tlsConnect(port, options = {}) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: caText, ...options }, () => resolve({ socket }));
    socket.on('error', (error) => resolve({ error }));
  });
}

// The serial number of the certificate a new connection to the data plane gets.
async function servedSerial() {
  const { socket, error } = await tlsConnect(h.port);
  if (error) throw error;
  const serial = socket.getPeerCertificate().serialNumber.toUpperCase();
  socket.destroy();
  return serial;
}

function wsConnect(url) {
  const ws = new WebSocket(url, ['herald.v1'], { ca: caText });
  const messages = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const opened = new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  return { ws, messages, opened };
}

test('the ready file and the banner say https', async () => {
  assert.match(h.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(h.admin, /^https:\/\/127\.0\.0\.1:\d+$/);
  // The banner reaches the pipe around the ready file; Node may not have read all of it yet.
  await waitFor(() => /data plane {3}https:\/\/127\.0\.0\.1:/.test(h.stderr), { timeout: 5000, what: 'the banner' });
  assert.match(h.stderr, /data plane {3}https:\/\/127\.0\.0\.1:/);
});

test('curl with the CA publishes over HTTPS: 201, HTTP/1.1 agreed by ALPN', async () => {
  const r = await run('curl', ['-sS', '--cacert', ca.pem, '-o', '/dev/null', '-w', '%{http_code} %{http_version}',
    '-H', 'Content-Type: application/json', '-d', '{"n":1}',
    `${h.url}/v1/topics/tls-demo/events?type=tls.thingHappened.v1`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '201 1.1');
});

test('a Node https client reads the page; the catalog names https and wss', async () => {
  const page = await request(`${h.url}/v1/topics/tls-demo/events?from=earliest`, { ca: caText });
  assert.equal(page.status, 200, page.body);
  assert.deepEqual(page.json.events.map((e) => e.data.n), [1]);
  const asyncapi = await request(`${h.url}/asyncapi.json`, { ca: caText });
  assert.equal(asyncapi.status, 200, asyncapi.body);
  assert.equal(asyncapi.json.servers.http.protocol, 'https');
  assert.equal(asyncapi.json.servers.ws.protocol, 'wss');
  const openapi = await request(`${h.url}/openapi.json`, { ca: caText });
  assert.equal(openapi.status, 200, openapi.body);
  assert.match(openapi.json.servers[0].url, /^https:\/\//);
});

test('SSE over TLS receives the event published after it opened', async () => {
  const got = [];
  let opened = false;
  const stream = sseConnect(`${h.url}/v1/topics/tls-sse/events?from=latest`, {
    ca: caText,
    onOpen: () => { opened = true; },
    onEvent: (e) => got.push(e),
  });
  try {
    await waitFor(() => opened, { what: 'stream open' });
    const r = await publish(h.url, 'tls-sse', { hello: 'sse' }, { ca: caText });
    assert.equal(r.status, 201, r.body);
    await waitFor(() => got.length === 1, { what: 'the event over SSE' });
    assert.equal(JSON.parse(got[0].data).data.hello, 'sse');
  } finally {
    stream.close();
  }
  // The server notices the client going away through the TLS layer and frees the stream.
  await waitFor(async () => (await metrics(h.admin, { ca: caText })).herald_sse_streams_open === 0,
    { what: 'the stream freed' });
});

test('WebSocket over TLS (wss) subscribes, publishes and receives', async () => {
  const c = wsConnect(`${h.url.replace('https', 'wss')}/v1/ws`);
  await c.opened;
  try {
    c.ws.send(JSON.stringify({ op: 'subscribe', id: 's1', topic: 'tls-ws', from: 'latest' }));
    await waitFor(() => c.messages.some((m) => m.op === 'subscribed'), { what: 'subscribed' });
    c.ws.send(JSON.stringify({
      op: 'publish', ref: 'p1', topic: 'tls-ws',
      event: { specversion: '1.0', id: 'w1', source: '/tls-test', type: 'tls.thingHappened.v1', data: { via: 'ws' } },
    }));
    const r = await publish(h.url, 'tls-ws', { via: 'https' }, { ca: caText });
    assert.equal(r.status, 201, r.body);
    await waitFor(() => c.messages.filter((m) => m.op === 'event').length === 2, { what: 'both events' });
    const vias = c.messages.filter((m) => m.op === 'event').map((m) => m.event.data.via).sort();
    assert.deepEqual(vias, ['https', 'ws']);
    assert.ok(c.messages.some((m) => m.op === 'published' && m.ref === 'p1'));
    // A large message crosses several TLS records both ways.
    const big = 'x'.repeat(40000);
    c.ws.send(JSON.stringify({
      op: 'publish', ref: 'p2', topic: 'tls-ws',
      event: { specversion: '1.0', id: 'w2', source: '/tls-test', type: 'tls.thingHappened.v1', data: { big } },
    }));
    await waitFor(() => c.messages.some((m) => m.op === 'event' && m.event.data.big === big), { what: 'big event' });
  } finally {
    c.ws.close();
  }
  const closed = await new Promise((resolve) => c.ws.on('close', (code) => resolve(code)));
  assert.equal(closed, 1000);
  await waitFor(async () => (await metrics(h.admin, { ca: caText })).herald_websocket_sessions_open === 0,
    { what: 'the session freed' });
});

test('the REST gateway relays over TLS and tells the upstream the client used https', async () => {
  const r = await request(`${h.url}/echo/hello`, { ca: caText });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.headers['x-forwarded-proto'], 'https');
  assert.match(r.json.headers.forwarded, /proto=https/);
});

// ---- the command-line clients over TLS (docs/cli.md) ----------------------------------------------------------

// `herald` with extra environment variables (the CA file by HERALD_CA_FILE).
function runWithEnv(args, env) {
  return new Promise((resolve) => {
    execFile(BIN, args, { env: { ...process.env, ...env }, timeout: 30000 },
      (e, stdout, stderr) => resolve({ code: e ? (e.code ?? 1) : 0, stdout, stderr }));
  });
}

const CLI_TYPE = ['--type', 'tls.thingHappened.v1'];

test('herald publish over https with --cacert: the certificate is verified for 127.0.0.1 and the event is stored', async () => {
  const r = await run(BIN, ['publish', 'tls-cli', '--url', h.url, '--cacert', ca.pem, ...CLI_TYPE, '--data', '{"n":1}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).offset, 0, r.stdout);
  // Several lines ride one kept-alive TLS connection.
  const more = await run(BIN, ['publish', 'tls-cli', '--url', h.url, '--cacert', ca.pem, ...CLI_TYPE],
    { input: '{"n":2}\n{"n":3}\n' });
  assert.equal(more.code, 0, more.stderr);
  const page = await request(`${h.url}/v1/topics/tls-cli/events?from=earliest`, { ca: caText });
  assert.equal(page.status, 200, page.body);
  assert.deepEqual(page.json.events.map((e) => e.data.n), [1, 2, 3]);
});

test('herald publish over https without the CA fails certificate verification; HERALD_CA_FILE is the CA too', async () => {
  const refused = await run(BIN, ['publish', 'tls-cli-refused', '--url', h.url, ...CLI_TYPE, '--data', '{"n":1}']);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr,
    /^herald: TLS handshake with 127\.0\.0\.1:\d+ failed: certificate verification failed: unable to get local issuer certificate \(trust the server's CA with --cacert FILE or HERALD_CA_FILE\)\n$/);
  const page = await request(`${h.url}/v1/topics/tls-cli-refused/events?from=earliest`, { ca: caText });
  assert.ok(page.status === 404 || page.json.events.length === 0, page.body);

  const viaEnv = await runWithEnv(['publish', 'tls-cli-env', '--url', h.url, ...CLI_TYPE, '--data', '{"n":1}'],
    { HERALD_CA_FILE: ca.pem });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal(JSON.parse(viaEnv.stdout).offset, 0);

  // A CA file that cannot be used is a usage error naming where it came from.
  const missing = await run(BIN, ['publish', 'tls-cli', '--url', h.url, '--cacert', path.join(dir, 'nope.pem'),
    '--data', '{}']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^herald: --cacert: cannot read .*nope\.pem: No such file or directory/);
  const notPem = await runWithEnv(['publish', 'tls-cli', '--url', h.url, '--data', '{}'], { HERALD_CA_FILE: ca.ext });
  assert.equal(notPem.code, 2);
  assert.match(notPem.stderr, /^herald: HERALD_CA_FILE: .*ext\.cnf holds no usable PEM certificate/);
});

test('herald tail over https (SSE) and --ws over wss receive the events; without the CA tail stops', async () => {
  const sse = await run(BIN, ['tail', 'tls-cli', '--url', h.url, '--cacert', ca.pem, '--from', 'earliest',
    '--count', '1']);
  assert.equal(sse.code, 0, sse.stderr);
  const sseLines = sse.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(sseLines.map((e) => e.data.n), [1]);

  // Published over wss, then followed over wss.
  const pub = await run(BIN, ['publish', 'tls-cli-ws', '--ws', '--url', h.url, '--cacert', ca.pem, ...CLI_TYPE],
    { input: '{"n":10}\n{"n":11}\n' });
  assert.equal(pub.code, 0, pub.stderr);
  const answers = pub.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(answers.length, 2, pub.stdout);
  assert.ok(answers.every((a) => a.op === 'published'), pub.stdout);
  const ws = await runWithEnv(['tail', 'tls-cli-ws', '--ws', '--url', h.url, '--from', 'earliest', '--count', '2'],
    { HERALD_CA_FILE: ca.pem });
  assert.equal(ws.code, 0, ws.stderr);
  assert.deepEqual(ws.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).data.n), [10, 11]);

  // A certificate that is not accepted will not be on a retry: tail says why and exits instead of reconnecting.
  for (const extra of [[], ['--ws']]) {
    const refused = await run(BIN, ['tail', 'tls-cli', ...extra, '--url', h.url, '--count', '1'], { timeout: 10000 });
    assert.equal(refused.code, 1, `${extra}: ${refused.stderr}`);
    assert.match(refused.stderr, /^herald tail: TLS handshake with .* failed: certificate verification failed: /);
    assert.doesNotMatch(refused.stderr, /reconnecting/);
  }
  // The streams the tails ended are freed on the server.
  await waitFor(async () => {
    const m = await metrics(h.admin, { ca: caText, headers: ADMIN });
    return m.herald_sse_streams_open === 0 && m.herald_websocket_sessions_open === 0;
  }, { what: 'the streams freed' });
});

test('herald top --once over https on the TLS 1.3 admin listener, with --cacert and the admin token', async () => {
  const r = await run(BIN, ['top', '--once', '--admin', h.admin, '--cacert', ca.pem, '--token', ADMIN_TOKEN,
    '--interval', '200ms']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^herald \d+\.\d+\.\d+ {3}up /m);
  assert.match(r.stdout, /^TOPIC /m);
  assert.match(r.stdout, /^tls-cli /m);
  const refused = await run(BIN, ['top', '--once', '--admin', h.admin, '--token', ADMIN_TOKEN, '--interval', '200ms']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^herald top: TLS handshake with .* failed: certificate verification failed: /);
});

test('herald publish with an http:// URL on the TLS port is told to use https', async () => {
  const r = await run(BIN, ['publish', 'tls-cli', '--url', `http://127.0.0.1:${h.port}`, ...CLI_TYPE,
    '--data', '{}']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /HTTP 400: .*tls-required/);
});

test('plain HTTP on the TLS port gets a readable 400; the server keeps serving', async () => {
  const r = await request(`http://127.0.0.1:${h.port}/v1/topics`);
  assert.equal(r.status, 400);
  assert.equal(r.json.type, 'urn:herald:problem:tls-required');
  assert.match(r.json.detail, /https:\/\//);
  const after = await request(`${h.url}/v1/topics`, { ca: caText });
  assert.equal(after.status, 200);
});

test('a TLS 1.1 client is refused; ALPN without http/1.1 is refused; http/1.1 among others is chosen', async () => {
  // SECLEVEL=0 lets the client offer TLS 1.1 at all: the refusal must come from Herald.
  const old = await tlsConnect(h.port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
  assert.ok(old.error, 'TLS 1.1 handshake must fail');
  assert.match(String(old.error.code || old.error.message), /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/i);

  const h2only = await tlsConnect(h.port, { ALPNProtocols: ['h2'] });
  assert.ok(h2only.error, 'a client that speaks only h2 must be refused');
  assert.match(String(h2only.error.code || h2only.error.message), /NO_APPLICATION_PROTOCOL/i);

  const both = await tlsConnect(h.port, { ALPNProtocols: ['h2', 'http/1.1'] });
  assert.ok(both.socket, both.error && both.error.message);
  assert.equal(both.socket.alpnProtocol, 'http/1.1');
  both.socket.destroy();

  const ok = await request(`${h.url}/v1/topics`, { ca: caText });
  assert.equal(ok.status, 200);
});

test('a client that connects and never handshakes is dropped after http.header_timeout', async () => {
  const started = Date.now();
  const silent = net.connect(h.port, '127.0.0.1');
  silent.on('error', () => {});
  const closed = new Promise((resolve) => silent.on('close', resolve));
  await new Promise((resolve) => silent.on('connect', resolve));
  // Meanwhile the server serves others.
  const r = await request(`${h.url}/v1/topics`, { ca: caText });
  assert.equal(r.status, 200);
  await closed;
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 800 && elapsed < 5000, `dropped after ${elapsed} ms`);
  // A handshake started but never finished is cut off the same way.
  const partial = net.connect(h.port, '127.0.0.1');
  partial.on('error', () => {});
  const partialClosed = new Promise((resolve) => partial.on('close', resolve));
  await new Promise((resolve) => partial.on('connect', resolve));
  partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));  // a ClientHello's first bytes, then nothing
  const t0 = Date.now();
  await partialClosed;
  assert.ok(Date.now() - t0 < 5000);
});

test('the admin listener serves TLS 1.3 only and counts data-plane handshakes', async () => {
  const v12 = await tlsConnect(Number(h.admin.split(':').pop()), { maxVersion: 'TLSv1.2' });
  assert.ok(v12.error, 'TLS 1.2 must be refused by the admin listener');
  const v13 = await tlsConnect(Number(h.admin.split(':').pop()));
  assert.ok(v13.socket, v13.error && v13.error.message);
  assert.equal(v13.socket.getProtocol(), 'TLSv1.3');
  v13.socket.destroy();
  const m = await metrics(h.admin, { ca: caText, headers: ADMIN });
  assert.ok(m['herald_http_tls_handshakes_total{result="ok"}'] > 0);
  // plain HTTP, TLS 1.1, h2 only, the silent and the partial client
  assert.ok(m['herald_http_tls_handshakes_total{result="failed"}'] >= 5, JSON.stringify(m));
});

test('rotation: SIGHUP and POST /admin/reload give new connections the new certificate; open streams continue', async () => {
  assert.equal(await servedSerial(), first.serial);
  // A stream opened before the reload, on the first certificate.
  const got = [];
  let streamSerial;
  // An agent of its own: a resumed TLS session would not show the peer certificate.
  const agent = new https.Agent({ ca: caText, maxCachedSessions: 0 });
  const stream = sseConnect(`${h.url}/v1/topics/tls-rotate/events?from=latest`, {
    agent,
    onOpen: (res) => { streamSerial = res.socket.getPeerCertificate().serialNumber.toUpperCase(); },
    onEvent: (e) => got.push(JSON.parse(e.data).data.step),
  });
  try {
    await waitFor(() => streamSerial, { what: 'stream open' });
    assert.equal(streamSerial, first.serial);

    fs.copyFileSync(second.cert, live.cert);
    fs.copyFileSync(second.key, live.key);
    h.proc.kill('SIGHUP');
    await waitFor(async () => (await servedSerial()) === second.serial, { what: 'the new certificate' });
    const r1 = await publish(h.url, 'tls-rotate', { step: 'after-sighup' }, { ca: caText });
    assert.equal(r1.status, 201, r1.body);
    await waitFor(() => got.includes('after-sighup'), { what: 'the event on the stream opened before the reload' });

    // A reload that fails (a key of another certificate) keeps the running certificate.
    fs.copyFileSync(first.key, live.key);
    const refused = await request(`${h.admin}/admin/reload`, { method: 'POST', headers: ADMIN, ca: caText });
    assert.equal(refused.status, 400, refused.body);
    assert.match(refused.json.detail, /tls\.key_file: .*live\.key does not match the certificate/);
    assert.equal(await servedSerial(), second.serial);

    // Back to the first certificate through the admin API.
    fs.copyFileSync(first.cert, live.cert);
    const reloaded = await request(`${h.admin}/admin/reload`, { method: 'POST', headers: ADMIN, ca: caText });
    assert.equal(reloaded.status, 200, reloaded.body);
    assert.match(reloaded.json.detail, new RegExp(`data TLS certificate serial ${first.serial}`));
    assert.equal(await servedSerial(), first.serial);
    const r2 = await publish(h.url, 'tls-rotate', { step: 'after-admin-reload' }, { ca: caText });
    assert.equal(r2.status, 201, r2.body);
    await waitFor(() => got.includes('after-admin-reload'), { what: 'the stream still open' });
  } finally {
    stream.close();
    agent.destroy();
  }
});

test('a key that does not match its certificate stops the start, naming the key file', async () => {
  const bad = new Herald({ config: `tls:\n  cert_file: ${first.cert}\n  key_file: ${second.key}\n` });
  try {
    await assert.rejects(bad.start(), /tls\.key_file: .*second\.key does not match the certificate/);
    const exit = await bad.exited;
    assert.equal(exit.code, 2);
  } finally {
    bad.cleanup();
  }
  const missing = new Herald({ config: `admin_tls:\n  cert_file: ${path.join(dir, 'nope.pem')}\n  key_file: ${first.key}\n` });
  try {
    await assert.rejects(missing.start(), /admin_tls\.cert_file: cannot read .*nope\.pem: No such file/);
  } finally {
    missing.cleanup();
  }
});

test('on shutdown an SSE stream over TLS gets its final event and a clean TLS close (curl exits 0)', async () => {
  const { spawn } = require('node:child_process');
  const curl = spawn('curl', ['-sS', '-N', '--cacert', ca.pem, '-H', 'Accept: text/event-stream',
    `${h.url}/v1/topics/tls-shutdown/events?from=latest`]);
  let out = '';
  let err = '';
  curl.stdout.on('data', (d) => { out += d.toString(); });
  curl.stderr.on('data', (d) => { err += d.toString(); });
  const exited = new Promise((resolve) => curl.on('exit', (code) => resolve(code)));
  await waitFor(() => out.includes('retry:'), { what: 'the stream open' });
  await h.stop();
  // Without close_notify, curl reports "unexpected eof" (exit 56) for a stream that ends with the connection.
  assert.equal(await exited, 0, err);
  assert.match(out, /event: herald\.shutdown/);
});
