#!/usr/bin/env node
'use strict';
// A tiny orders service for the example (examples/README.md): REST on 127.0.0.1:9000 behind Herald's route
// /api/orders/ (Herald strips /api), orders kept in memory. Storing an order publishes shop.orderPlaced.v1 to
// Herald's `orders` topic, so every subscriber (SSE, WebSocket, the webhook receiver) hears about it.
//
//   GET  /orders/        the orders
//   GET  /orders/{id}    one order
//   POST /orders/        {"customerId":"c_42","currency":"EUR","lines":[{"sku":"MUG-1","quantity":2,"unitPrice":9.5}]}
//   GET  /healthz        Herald's active health check
//
// Environment: PORT (9000), HERALD_URL (http://127.0.0.1:8080), HERALD_API_KEY (the demo orders-service key).
// No dependencies beyond Node 18+.

const http = require('node:http');
const crypto = require('node:crypto');

const PORT = Number(process.env.PORT || 9000);
const HERALD_URL = process.env.HERALD_URL || 'http://127.0.0.1:8080';
const HERALD_API_KEY = process.env.HERALD_API_KEY || 'hk_demo_orders_service_key_000000000000000000';

const orders = new Map();

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function problem(res, status, detail, attribute) {
  const body = { type: 'about:blank', title: http.STATUS_CODES[status], status, detail };
  if (attribute) body.attribute = attribute;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// The order from the request, or a [detail, attribute] pair saying what is wrong.
function validate(input) {
  if (!input || typeof input !== 'object') return [null, ['expected a JSON object', '']];
  if (typeof input.customerId !== 'string' || !input.customerId) return [null, ['customerId is required', 'customerId']];
  if (!['EUR', 'USD', 'GBP'].includes(input.currency)) return [null, ['currency: EUR, USD or GBP', 'currency']];
  if (!Array.isArray(input.lines) || input.lines.length === 0) return [null, ['lines: at least one', 'lines']];
  const lines = [];
  for (const [i, l] of input.lines.entries()) {
    if (!l || typeof l.sku !== 'string' || !Number.isInteger(l.quantity) || typeof l.unitPrice !== 'number')
      return [null, [`lines[${i}]: {sku, quantity (integer), unitPrice}`, `lines[${i}]`]];
    lines.push({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice });
  }
  const total = Math.round(lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0) * 100) / 100;
  return [{
    orderId: `ord_${crypto.randomBytes(6).toString('hex')}`,
    customerId: input.customerId,
    lines,
    total,
    currency: input.currency,
    placedAt: new Date().toISOString(),
  }, null];
}

// Publishes shop.orderPlaced.v1; resolves Herald's answer {status, body}. The order id is the Idempotency-Key, so a
// retried publish never makes a second event.
function publishPlaced(order) {
  const event = JSON.stringify({
    specversion: '1.0',
    id: crypto.randomUUID(),
    source: '/orders-service',
    type: 'shop.orderPlaced.v1',
    subject: order.orderId,
    datacontenttype: 'application/json',
    data: order,
  });
  return new Promise((resolve, reject) => {
    const req = http.request(`${HERALD_URL}/v1/topics/orders/events`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/cloudevents+json',
        'Content-Length': Buffer.byteLength(event),
        Authorization: `Bearer ${HERALD_API_KEY}`,
        'Idempotency-Key': order.orderId,
      },
      timeout: 5000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('Herald did not answer in 5 s')));
    req.on('error', reject);
    req.end(event);
  });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/healthz') return send(res, 200, { status: 'ok' });
  if (path === '/orders') {
    if (req.method === 'GET') return send(res, 200, { orders: [...orders.values()] });
    if (req.method !== 'POST') return problem(res, 405, 'allowed: GET, POST');
    let input;
    try { input = JSON.parse(await readBody(req)); } catch { return problem(res, 400, 'the body is not JSON'); }
    const [order, error] = validate(input);
    if (error) return problem(res, 400, error[0], error[1]);
    orders.set(order.orderId, order);
    let published;
    try {
      published = await publishPlaced(order);
    } catch (e) {
      published = { status: 0, body: e.message };
    }
    if (published.status !== 201 && published.status !== 200) {
      // No event, no order: the example keeps the two in step (a real service would use an outbox).
      orders.delete(order.orderId);
      return problem(res, 502, `the order event was not accepted by Herald (${published.status}): ${published.body}`);
    }
    const ack = JSON.parse(published.body);
    return send(res, 201, { order, event: { offset: ack.offset, cursor: ack.cursor } },
      { Location: `/api/orders/${order.orderId}` });
  }
  const m = /^\/orders\/(ord_[0-9a-z]+)$/.exec(path);
  if (m) {
    if (req.method !== 'GET') return problem(res, 405, 'allowed: GET');
    const order = orders.get(m[1]);
    return order ? send(res, 200, order) : problem(res, 404, `no order ${m[1]}`);
  }
  return problem(res, 404, `no route for ${path}`);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => { if (!res.headersSent) problem(res, 500, e.message); });
  res.on('finish', () => {
    if (req.url !== '/healthz') console.log(`${req.method} ${req.url} -> ${res.statusCode}`);
  });
});
server.listen(PORT, '127.0.0.1', () => {
  console.log(`orders service on http://127.0.0.1:${server.address().port} (publishing to ${HERALD_URL})`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
