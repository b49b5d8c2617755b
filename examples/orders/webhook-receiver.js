#!/usr/bin/env node
'use strict';
// A webhook receiver for the example (examples/README.md): accepts Herald's deliveries on
// http://127.0.0.1:9100/hooks/orders, verifies the Standard Webhooks signature, and prints each event.
//
//   webhook-id:        the event id (dedupe on it: a retry carries the same id)
//   webhook-timestamp: this attempt's Unix time in seconds
//   webhook-signature: "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>", one entry per live secret
//
// GET /deliveries lists what was received (for a quick look, and for the integration test).
// Environment: PORT (9100), WEBHOOK_SECRET (the demo secret setup.sh registers). No dependencies.

const http = require('node:http');
const crypto = require('node:crypto');

const PORT = Number(process.env.PORT || 9100);
const SECRET = process.env.WEBHOOK_SECRET || 'whsec_aGVyYWxkLWRlbW8td2ViaG9vay1zZWNyZXQhIQ==';
const KEY = Buffer.from(SECRET.replace(/^whsec_/, ''), 'base64');
const TOLERANCE_S = 5 * 60;  // refuse replays of old attempts

const deliveries = [];
const seen = new Set();

function verify(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return 'missing webhook-* headers';
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_S) return 'timestamp outside the tolerance';
  const expected = crypto.createHmac('sha256', KEY).update(`${id}.${timestamp}.${body}`).digest();
  for (const entry of signatures.split(' ')) {
    const [version, sig] = entry.split(',');
    if (version !== 'v1' || !sig) continue;
    const given = Buffer.from(sig, 'base64');
    if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) return null;
  }
  return 'no valid signature';
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/deliveries') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ deliveries }));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/hooks/orders') {
    res.writeHead(404);
    res.end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const error = verify(req.headers, body);
    if (error) {
      console.log(`refused a delivery: ${error}`);
      res.writeHead(401);
      res.end();
      return;
    }
    const id = req.headers['webhook-id'];
    if (!seen.has(id)) {
      seen.add(id);
      const event = JSON.parse(body);
      deliveries.push({ id, type: event.type, subject: event.subject, data: event.data });
      console.log(`${event.type} ${event.subject || ''} total=${event.data && event.data.total} ${event.data && event.data.currency}`);
    }
    res.writeHead(204);  // any 2xx: delivered
    res.end();
  });
});
server.listen(PORT, '127.0.0.1', () => console.log(`webhook receiver on http://127.0.0.1:${server.address().port}/hooks/orders`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
