'use strict';
// The catalog documents on the real binary: /asyncapi.json (and .yaml) validate with the official AsyncAPI parser
// and /openapi.json with an OpenAPI 3.1 validator, with no errors; both follow topics and schemas as they are
// added; with auth on, a caller sees only the topics it may subscribe to.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { Parser } = require('@asyncapi/parser');
const OpenAPIParser = require('@readme/openapi-parser');
const { Herald, request, publish } = require('./lib/herald');

async function asyncapiErrors(text) {
  const { document, diagnostics } = await new Parser().parse(text);
  const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code}: ${d.message} @ ${d.path.join('/')}`);
  if (!document) errors.push('not parsed');
  return errors;
}

async function openapiErrors(doc, dir) {
  const file = path.join(dir, `openapi-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(doc));
  const r = await OpenAPIParser.validate(file);
  return r.valid === false ? r.errors.map((e) => JSON.stringify(e)) : [];
}

test('AsyncAPI and OpenAPI documents validate and follow topics and schemas', async () => {
  const h = await new Herald({ config: 'topics:\n  declared:\n    - name: orders\n      accepted_types: ["shop.order*"]\n' }).start();
  try {
    let a = await request(`${h.url}/asyncapi.json`);
    assert.equal(a.status, 200);
    assert.equal(a.json.asyncapi, '3.0.0');
    assert.deepEqual(await asyncapiErrors(a.body), []);
    assert.ok(a.json.channels.orders, 'declared topic has a channel');
    // Add a schema and a topic: both documents change.
    const schema = { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' }, amount: { type: 'number', minimum: 0 } } };
    const put = await request(`${h.admin}/schemas/shop.orderPlaced.v1`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(schema) });
    assert.equal(put.status, 201);
    assert.equal((await publish(h.url, 'parcels', { id: 1 }, { type: 'shipping.parcelSent.v1' })).status, 201);
    a = await request(`${h.url}/asyncapi.json`);
    assert.deepEqual(await asyncapiErrors(a.body), []);
    assert.ok(a.json.channels.parcels, 'a new topic appears');
    const messages = Object.values(a.json.components.messages).map((m) => m.name);
    assert.ok(messages.includes('shop.orderPlaced.v1'), JSON.stringify(messages));
    const y = await request(`${h.url}/asyncapi.yaml`);
    assert.equal(y.status, 200);
    assert.match(y.headers['content-type'], /yaml/);
    assert.deepEqual(await asyncapiErrors(y.body), []);
    const o = await request(`${h.url}/openapi.json`);
    assert.equal(o.status, 200);
    assert.equal(o.json.openapi, '3.1.0');
    assert.ok(o.json.paths['/v1/topics/{topic}/events']);
    assert.ok(o.json.paths['/v1/subscriptions']);
    assert.deepEqual(await openapiErrors(o.json, h.dir), []);
  } finally { await h.stop(); h.cleanup(); }
});

test('with auth on, the documents show only what the caller may subscribe to', async () => {
  const secret = 'catalog-test-secret-of-32-bytes-or-more';
  const b64u = (x) => Buffer.from(x).toString('base64url');
  const token = (scope) => {
    const input = `${b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64u(JSON.stringify({ iss: 'cat', aud: 'herald', sub: 'c', exp: Math.floor(Date.now() / 1000) + 600, scope }))}`;
    return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const config = `auth:\n  enabled: true\n  jwt:\n    - issuer: cat\n      audiences: [herald]\n      keys: [{secret: "${secret}", alg: HS256}]\n`;
  const h = await new Herald({ config }).start();
  try {
    const all = { Authorization: `Bearer ${token('publish:* subscribe:*')}` };
    for (const t of ['public.news', 'secret.plans']) assert.equal((await request(`${h.url}/v1/topics/${t}/events?type=x.y.v1`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...all }, body: '{}' })).status, 201);
    assert.equal((await request(`${h.url}/asyncapi.json`)).status, 401);
    const a = await request(`${h.url}/asyncapi.json`, { headers: { Authorization: `Bearer ${token('subscribe:public.*')}` } });
    assert.equal(a.status, 200);
    assert.deepEqual(Object.keys(a.json.channels), ['public.news']);
    assert.ok(a.json.components.securitySchemes.bearer);
    assert.deepEqual(await asyncapiErrors(a.body), []);
  } finally { await h.stop(); h.cleanup(); }
});
