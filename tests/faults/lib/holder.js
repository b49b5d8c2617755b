'use strict';
// Clients that go silent without closing: this process opens SSE streams, publishes whose body stops half-way,
// herald.v1 WebSocket subscriptions and bare connections, reports {ready, opened}, and is then stopped with
// SIGSTOP by the test. From the server's side its peers vanished without a FIN: nothing is read, nothing is
// sent, nothing is closed (on loopback the kernel still acknowledges segments, so the server's writes stall
// once the buffers are full, as with a peer that dropped off the network). SIGKILL ends it; the kernel then
// closes its sockets. Message: {cmd:'open', host, port, topic, sse, partial, ws, bare}.
const net = require('node:net');
const { WebSocket } = require('./faults');

const sockets = [];

function connect(host, port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    s.on('connect', () => resolve(s));
    s.on('error', reject);
  });
}

async function open(m) {
  const opened = { sse: 0, partial: 0, ws: 0, bare: 0 };
  for (let i = 0; i < m.sse; i++) {
    const s = await connect(m.host, m.port);
    s.write(`GET /v1/topics/${m.topic}/events?from=earliest HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    s.pause();  // never read
    sockets.push(s);
    opened.sse++;
  }
  for (let i = 0; i < m.partial; i++) {
    const s = await connect(m.host, m.port);
    s.write(`POST /v1/topics/${m.topic}/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `Content-Length: 100000\r\n\r\n{"pad":"${'h'.repeat(2000)}`);
    s.pause();
    sockets.push(s);
    opened.partial++;
  }
  for (let i = 0; i < m.ws; i++) {
    const ws = new WebSocket(`ws://${m.host}:${m.port}/v1/ws`, 'herald.v1');
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    ws.send(JSON.stringify({ op: 'subscribe', id: 's', topic: m.topic, from: 'earliest' }));
    sockets.push(ws);
    opened.ws++;
  }
  for (let i = 0; i < m.bare; i++) {
    sockets.push(await connect(m.host, m.port));
    opened.bare++;
  }
  // Give the server a moment to see the subscriptions before this process goes silent.
  await new Promise((r) => setTimeout(r, 200));
  process.send({ ready: true, opened });
}

process.on('message', (m) => {
  if (m.cmd === 'open') open(m).catch((e) => { process.send({ error: e.message }); });
});
process.on('disconnect', () => process.exit(0));
