'use strict';
// permessage-deflate (RFC 7692) on both WebSocket endpoints: negotiation as seen by real clients (`ws` with and
// without compression, offers the server must decline), events received intact and compressed on the wire (a raw
// socket reads the frames and inflates them with Node's zlib, independently of the client library), a large
// compressed publish, and a decompression bomb answered with 1009.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const zlib = require('node:zlib');
const WebSocket = require('ws');
const { Herald, publish, metrics, waitFor } = require('./lib/herald');

let h;
test.before(async () => {
  // The frame limit is below the message limit so a compressed publish proves they apply to different sizes:
  // the frame as sent, the message once inflated.
  h = await new Herald({
    config: 'websocket:\n  deflate: true\n  max_frame_bytes: 64KiB\n  max_message_bytes: 512KiB\n  max_inflight_publishes: 512\n',
  }).start();
});
test.after(async () => { await h.stop(); h.cleanup(); });

const wsUrl = (path) => `${h.url.replace('http', 'ws')}${path}`;
// A compressible CloudEvent of about `size` bytes of data.
const ev = (id, size = 512) => ({
  specversion: '1.0', id, source: '/deflate-test', type: 'deflate.thing.v1',
  data: { id, items: Array.from({ length: Math.ceil(size / 40) }, (_, i) => ({ sku: `sku-${i % 7}`, qty: i % 3 })) },
});

// A client that records messages and the 101 answer's extension header.
function connect(path, { protocols = ['herald.v1'], perMessageDeflate = true } = {}) {
  const ws = new WebSocket(wsUrl(path), protocols, { perMessageDeflate });
  const messages = [];
  let extensions;
  ws.on('upgrade', (res) => { extensions = res.headers['sec-websocket-extensions']; });
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const waitMsg = (pred, what = 'a message') => waitFor(() => messages.find(pred), { what });
  const send = (obj) => ws.send(JSON.stringify(obj));
  return { ws, messages, waitMsg, send, closed, opened, extensions: () => extensions };
}

// A raw client: handshake with the given extension offer, then frames parsed by hand (server frames are
// unmasked). Each frame is {fin, rsv1, opcode, payload}.
async function rawConnect(path, extensionOffer) {
  const sock = net.connect(h.port, h.host);
  await new Promise((r) => sock.on('connect', r));
  sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: herald.v1\r\n' +
    (extensionOffer ? `Sec-WebSocket-Extensions: ${extensionOffer}\r\n` : '') + '\r\n');
  let buf = Buffer.alloc(0);
  let head;
  const frames = [];
  let bytes = 0;
  sock.on('data', (d) => {
    bytes += d.length;
    buf = Buffer.concat([buf, d]);
    if (head === undefined) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      head = buf.subarray(0, end).toString();
      buf = buf.subarray(end + 4);
    }
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let at = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); at = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); at = 10; }
      if (buf.length < at + len) return;
      frames.push({ fin: !!(buf[0] & 0x80), rsv1: !!(buf[0] & 0x40), opcode: buf[0] & 0x0f,
        payload: Buffer.from(buf.subarray(at, at + len)) });
      buf = buf.subarray(at + len);
    }
  });
  await waitFor(() => head !== undefined, { what: '101' });
  // Client frames are masked; the key is fixed, which is fine for a test.
  const sendFrame = (first, payload) => {
    const key = Buffer.from([1, 2, 3, 4]);
    const hdr = payload.length < 126 ? Buffer.from([first, 0x80 | payload.length])
      : Buffer.from([first, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
    sock.write(Buffer.concat([hdr, key, masked]));
  };
  return { sock, head, frames, sendFrame, bytes: () => bytes };
}

// RFC 7692 §7.2.2, done with Node's zlib instead of the code under test.
const inflate = (payload) => zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0x00, 0x00, 0xff, 0xff])]),
  { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();

test('herald.v1 with permessage-deflate: negotiated header, events intact, compressed on the wire', async () => {
  const before = await metrics(h.admin);
  const c = connect('/v1/ws');
  await c.opened;
  // ws offers "permessage-deflate; client_max_window_bits": the server adds server_no_context_takeover.
  assert.equal(c.extensions(), 'permessage-deflate; server_no_context_takeover');
  assert.equal(c.ws.extensions, 'permessage-deflate');
  c.send({ op: 'subscribe', id: 'a', topic: 'dz1' });
  c.send({ op: 'subscribe', id: 'b', topic: 'dz1', types: ['deflate.thing.v1'] });
  await c.waitMsg((m) => m.op === 'subscribed' && m.id === 'b');
  const sent = [];
  for (let i = 0; i < 20; i++) {
    const e = ev(`e${i}`, 64 + i * 100);
    sent.push(e);
    const r = await publish(h.url, 'dz1', e.data, { type: e.type });
    assert.equal(r.status, 201);
  }
  await waitFor(() => c.messages.filter((m) => m.op === 'event').length === 40, { what: '40 events' });
  for (const id of ['a', 'b']) {
    const got = c.messages.filter((m) => m.op === 'event' && m.id === id);
    assert.deepEqual(got.map((m) => m.event.data), sent.map((e) => e.data));
    assert.ok(got.every((m) => m.topic === 'dz1' && /^1\.[0-9a-f]{16}\.\d+$/.test(m.cursor)));
  }
  const after = await metrics(h.admin);
  assert.equal(after.herald_websocket_compressed_messages_sent_total - before.herald_websocket_compressed_messages_sent_total, 40);
  c.ws.close();
  await c.closed;
});

test('one-topic stream with permessage-deflate: live and catch-up events intact', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await publish(h.url, 'dz2', ev(`old${i}`).data)).status, 201);
  const c = connect('/v1/topics/dz2/events?from=earliest', { protocols: [] });
  await c.opened;
  assert.equal(c.extensions(), 'permessage-deflate; server_no_context_takeover');
  await waitFor(() => c.messages.length === 5, { what: 'catch-up events' });
  for (let i = 0; i < 5; i++) assert.equal((await publish(h.url, 'dz2', ev(`new${i}`).data)).status, 201);
  await waitFor(() => c.messages.length === 10, { what: 'live events' });
  const want = [0, 1, 2, 3, 4].map((i) => `old${i}`).concat([0, 1, 2, 3, 4].map((i) => `new${i}`));
  assert.deepEqual(c.messages.map((m) => m.event.data.id), want);
  assert.ok(c.messages.every((m) => m.topic === 'dz2' && m.cursor));
  c.ws.close();
  await c.closed;
});

test('on the wire: event frames have RSV1 and inflate to the JSON, replies go uncompressed', async () => {
  const r = await rawConnect('/v1/ws', 'x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=10, ' +
    'permessage-deflate; client_no_context_takeover; client_max_window_bits');
  // The first acceptable offer is the third; client_no_context_takeover is confirmed.
  assert.match(r.head, /^HTTP\/1\.1 101/);
  assert.match(r.head, /\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover(\r\n|$)/);
  r.sendFrame(0x81, Buffer.from(JSON.stringify({ op: 'subscribe', id: 'raw', topic: 'dz3' })));
  await waitFor(() => r.frames.length >= 1, { what: 'subscribed' });
  assert.equal(r.frames[0].rsv1, false);
  assert.equal(JSON.parse(r.frames[0].payload.toString()).op, 'subscribed');
  const e = ev('wire', 2000);
  assert.equal((await publish(h.url, 'dz3', e.data)).status, 201);
  assert.equal((await publish(h.url, 'dz3', e.data)).status, 201);  // same data again: no context is carried over
  await waitFor(() => r.frames.length >= 3, { what: 'two events' });
  for (const f of r.frames.slice(1, 3)) {
    assert.equal(f.rsv1, true);
    assert.equal(f.fin, true);
    assert.equal(f.opcode, 1);
    const msg = JSON.parse(inflate(f.payload));
    assert.equal(msg.op, 'event');
    assert.equal(msg.id, 'raw');
    assert.deepEqual(msg.event.data, e.data);
    assert.ok(f.payload.length < JSON.stringify(msg).length / 3, `${f.payload.length} bytes compressed`);
  }
  // Each frame was inflated on its own above (server_no_context_takeover), and the second is no smaller for
  // repeating the first: nothing was carried over.
  assert.ok(Math.abs(r.frames[2].payload.length - r.frames[1].payload.length) < 8);
  r.sock.destroy();
});

test('a client without compression gets no extension and plain frames', async () => {
  const c = connect('/v1/ws', { perMessageDeflate: false });
  await c.opened;
  assert.equal(c.extensions(), undefined);
  c.send({ op: 'subscribe', id: 'p', topic: 'dz4' });
  await c.waitMsg((m) => m.op === 'subscribed');
  c.send({ op: 'publish', ref: 'r1', topic: 'dz4', event: ev('plain') });
  await c.waitMsg((m) => m.op === 'published' && m.ref === 'r1');
  const got = await c.waitMsg((m) => m.op === 'event');
  assert.equal(got.event.id, 'plain');
  c.ws.close();
  await c.closed;

  const r = await rawConnect('/v1/ws');
  assert.doesNotMatch(r.head, /Sec-WebSocket-Extensions/i);
  r.sendFrame(0x81, Buffer.from(JSON.stringify({ op: 'subscribe', id: 'raw', topic: 'dz4', from: 'earliest' })));
  await waitFor(() => r.frames.length >= 2, { what: 'subscribed and the event' });
  assert.ok(r.frames.every((f) => !f.rsv1));
  assert.equal(JSON.parse(r.frames[1].payload.toString()).event.id, 'plain');
  r.sock.destroy();
});

test('offers the server cannot honour are declined and the connection runs uncompressed', async () => {
  // A smaller server window would need a copy of every compressed event per window size.
  const c = connect('/v1/ws', { perMessageDeflate: { serverMaxWindowBits: 10 } });
  await c.opened;
  assert.equal(c.extensions(), undefined);
  assert.equal(c.ws.extensions, '');
  c.send({ op: 'ping' });
  await c.waitMsg((m) => m.op === 'pong');
  c.ws.close();
  await c.closed;
});

test('a large compressible batch is published compressed; the frame limit applies to the compressed bytes', async () => {
  const before = await metrics(h.admin);
  const c = connect('/v1/ws');
  await c.opened;
  // ~260 KiB of JSON: four times max_frame_bytes (64 KiB) as text, far under it compressed, and under
  // max_message_bytes (512 KiB) once inflated.
  const events = Array.from({ length: 200 }, (_, i) => ev(`big${i}`, 2000));
  const text = JSON.stringify({ op: 'publish', ref: 'big', topic: 'dz5', events });
  assert.ok(text.length > 4 * 64 * 1024 && text.length < 512 * 1024, `${text.length}`);
  c.ws.send(text);
  const published = await c.waitMsg((m) => m.ref === 'big', 'published');
  assert.equal(published.op, 'published', JSON.stringify(published));
  assert.equal(published.results.length, 200);
  const after = await metrics(h.admin);
  assert.ok(after.herald_websocket_compressed_messages_received_total > before.herald_websocket_compressed_messages_received_total);
  c.ws.close();
  await c.closed;
});

test('a decompression bomb is closed with 1009', async () => {
  const c = connect('/v1/ws');
  await c.opened;
  // 16 MiB that compresses to ~16 KiB: small on the wire, 32 times max_message_bytes inflated.
  c.ws.send(JSON.stringify({ op: 'ping', pad: 'a'.repeat(16 << 20) }));
  const closed = await c.closed;
  assert.equal(closed.code, 1009);
  assert.match(closed.reason, /inflated/);
  // The server is fine.
  assert.equal((await publish(h.url, 'dz6', { fine: true })).status, 201);
});

test('websocket.deflate off (the default) declines every offer', async () => {
  const h2 = await new Herald().start();
  try {
    const ws = new WebSocket(`${h2.url.replace('http', 'ws')}/v1/ws`, ['herald.v1'], { perMessageDeflate: true });
    let extensions = 'unset';
    ws.on('upgrade', (res) => { extensions = res.headers['sec-websocket-extensions']; });
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    assert.equal(extensions, undefined);
    ws.close();
  } finally {
    await h2.stop();
    h2.cleanup();
  }
});
