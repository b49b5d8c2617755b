'use strict';
// Bytes on the wire for WebSocket event delivery with and without permessage-deflate (docs/benchmarks.md).
//
//   node bench/ws_deflate_bytes.js http://127.0.0.1:8080 [events=1000] [event_bytes=512]
//
// Opens two raw herald.v1 connections to a running server — one offering permessage-deflate, one not — subscribes
// both to a fresh topic, publishes `events` order-like CloudEvents of about `event_bytes` bytes of JSON each over
// HTTP, and counts the bytes each connection receives for them (frame headers included). The compressed frames
// are inflated with Node's zlib and compared with the uncompressed ones, so the figure is for correct output.
// Node built-ins only.
const net = require('node:net');
const http = require('node:http');
const zlib = require('node:zlib');
const crypto = require('node:crypto');

const base = new URL(process.argv[2] || 'http://127.0.0.1:8080');
const events = Number(process.argv[3] || 1000);
const eventBytes = Number(process.argv[4] || 512);
const topic = `wsbytes-${Date.now()}`;

function connect(offer) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(base.port), base.hostname);
    const c = { sock, frames: [], bytes: 0, head: null, buf: Buffer.alloc(0) };
    sock.on('error', reject);
    sock.on('connect', () => sock.write(`GET /v1/ws HTTP/1.1\r\nHost: ${base.host}\r\nUpgrade: websocket\r\n` +
      'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Protocol: herald.v1\r\n' + (offer ? `Sec-WebSocket-Extensions: ${offer}\r\n` : '') + '\r\n'));
    sock.on('data', (d) => {
      c.buf = Buffer.concat([c.buf, d]);
      if (!c.head) {
        const end = c.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        c.head = c.buf.subarray(0, end).toString();
        c.buf = c.buf.subarray(end + 4);
        resolve(c);
      }
      for (;;) {
        if (c.buf.length < 2) return;
        let len = c.buf[1] & 0x7f;
        let at = 2;
        if (len === 126) { if (c.buf.length < 4) return; len = c.buf.readUInt16BE(2); at = 4; }
        else if (len === 127) { if (c.buf.length < 10) return; len = Number(c.buf.readBigUInt64BE(2)); at = 10; }
        if (c.buf.length < at + len) return;
        c.frames.push({ rsv1: !!(c.buf[0] & 0x40), size: at + len, payload: Buffer.from(c.buf.subarray(at, at + len)) });
        c.buf = c.buf.subarray(at + len);
      }
    });
  });
}

function send(c, obj) {
  const payload = Buffer.from(JSON.stringify(obj));
  const key = crypto.randomBytes(4);
  const hdr = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length])
    : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  c.sock.write(Buffer.concat([hdr, key, Buffer.from(payload.map((b, i) => b ^ key[i % 4]))]));
}

function post(path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method: 'POST', headers: { 'Content-Type': 'application/cloudevents+json' } },
      (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end(body);
  });
}

// An order-like event: structured, with ids and amounts that vary, padded to about eventBytes of JSON.
function event(i) {
  const e = {
    specversion: '1.0', id: crypto.randomUUID(), source: '/shop/checkout', type: 'shop.orderPlaced.v1',
    time: new Date(1_700_000_000_000 + i * 1000).toISOString(), datacontenttype: 'application/json',
    data: { orderId: `o-${100000 + i}`, customer: { id: `c-${(i * 7919) % 10007}`, tier: ['gold', 'silver', 'bronze'][i % 3] },
      currency: 'EUR', lines: [] },
  };
  for (let k = 0; JSON.stringify(e).length < eventBytes; k++) {
    e.data.lines.push({ sku: `SKU-${(i * 31 + k * 17) % 997}`, qty: 1 + ((i + k) % 4), price: ((i * 13 + k * 7) % 5000) / 100 });
  }
  return e;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const plain = await connect(null);
  const deflate = await connect('permessage-deflate; client_max_window_bits');
  const agreed = /sec-websocket-extensions: *(.*)/i.exec(deflate.head);
  if (!agreed) throw new Error('the server did not negotiate permessage-deflate');
  for (const c of [plain, deflate]) send(c, { op: 'subscribe', id: 's', topic });
  await sleep(300);
  const skip = { plain: plain.frames.length, deflate: deflate.frames.length };
  let jsonBytes = 0;
  for (let i = 0; i < events; i++) {
    const body = JSON.stringify(event(i));
    jsonBytes += body.length;
    const status = await post(`/v1/topics/${topic}/events`, body);
    if (status !== 201) throw new Error(`publish answered ${status}`);
  }
  const deadline = Date.now() + 30000;
  while ((plain.frames.length - skip.plain < events || deflate.frames.length - skip.deflate < events) && Date.now() < deadline) await sleep(50);
  const p = plain.frames.slice(skip.plain);
  const d = deflate.frames.slice(skip.deflate);
  if (p.length !== events || d.length !== events) throw new Error(`got ${p.length} / ${d.length} of ${events} events`);
  for (let i = 0; i < events; i++) {
    const inflated = d[i].rsv1 ? zlib.inflateRawSync(Buffer.concat([d[i].payload, Buffer.from([0, 0, 0xff, 0xff])]),
      { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : d[i].payload;
    if (!inflated.equals(p[i].payload)) throw new Error(`event ${i} differs after inflating`);
  }
  const sum = (fs) => fs.reduce((n, f) => n + f.size, 0);
  const plainBytes = sum(p);
  const deflateBytes = sum(d);
  console.log(JSON.stringify({
    events, avg_event_json_bytes: Math.round(jsonBytes / events), negotiated: agreed[1].trim(),
    plain_bytes_per_event: +(plainBytes / events).toFixed(1), deflate_bytes_per_event: +(deflateBytes / events).toFixed(1),
    ratio: +(deflateBytes / plainBytes).toFixed(3), compressed_frames: d.filter((f) => f.rsv1).length,
  }));
  plain.sock.destroy();
  deflate.sock.destroy();
})().catch((e) => { console.error(e.message); process.exit(1); });
