'use strict';
// The developer portal (/portal/) in a real browser: headless Chromium (Debian's) driven by playwright-core
// loads the page from a real Herald, sees the REST routes and the event streams side by side, publishes through
// the form (refused by the browser check, refused by the server, then accepted) and sees the event in the live
// tail, pauses and resumes the tail from its cursor, and replays a webhook's dead letter. With auth on it asks
// for a credential and then shows only what that key may see. Screenshots go to build/test-artifacts.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { Herald, request, publish, waitFor, sleep } = require('./lib/herald');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.resolve(process.env.HERALD_ARTIFACTS || path.join(__dirname, '../../build/test-artifacts'));

const ORDER_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['orderId', 'total'],
  additionalProperties: false,
  properties: {
    orderId: { type: 'string', pattern: '^ord_[0-9a-z]{4,}$', examples: ['ord_1234'] },
    total: { type: 'number', minimum: 0 },
    placedAt: { type: 'string', format: 'date-time' },
  },
};

function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// A page that records console errors (a CSP violation is one) and uncaught exceptions.
async function openPage(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { page, problems };
}

async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `portal-${name}.png`), fullPage: true });
}

function listen(server) {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)));
}

test('the portal files are served with their policy, revalidation and HEAD', async () => {
  const h = await new Herald().start();
  try {
    const bare = await request(`${h.url}/portal?topic=a`);
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.location, '/portal/?topic=a');
    const index = await request(`${h.url}/portal/`);
    assert.equal(index.status, 200);
    assert.match(index.headers['content-type'], /^text\/html/);
    assert.match(index.headers['content-security-policy'], /script-src 'self'/);
    assert.match(index.body, /<script src="portal.js"/);
    const again = await request(`${h.url}/portal/`, { headers: { 'If-None-Match': index.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    const head = await request(`${h.url}/portal/portal.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.ok(Number(head.headers['content-length']) > 1000, 'HEAD tells the size a GET would get');
    const missing = await request(`${h.url}/portal/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['content-type'], 'application/problem+json');
    const post = await request(`${h.url}/portal/`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
  } finally {
    await h.stop();
    h.cleanup();
  }
  const off = await new Herald({ config: 'portal:\n  enabled: false\n' }).start();
  try {
    assert.equal((await request(`${off.url}/portal/`)).status, 404);
  } finally {
    await off.stop();
    off.cleanup();
  }
});

test('routes and streams side by side; publish through the form into the live tail; pause, resume; DLQ replay', async () => {
  // The REST service behind a route, and a webhook receiver that refuses until it is "fixed".
  const upstream = http.createServer((req, res) => { res.end('{"products":[]}'); });
  const upstreamPort = await listen(upstream);
  let receiverStatus = 400;
  const delivered = [];
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (receiverStatus === 200) delivered.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.statusCode = receiverStatus;
      res.end();
    });
  });
  const receiverPort = await listen(receiver);

  const h0 = new Herald();
  const schemaFile = path.join(h0.dir, 'order-placed.json');
  fs.writeFileSync(schemaFile, JSON.stringify(ORDER_SCHEMA));
  h0.configText = `
topics:
  declared:
    - name: orders
      accepted_types: ["shop.order*"]
      default_type: shop.orderPlaced.v1
schemas:
  files:
    - {type: shop.orderPlaced.v1, file: ${schemaFile}}
webhooks:
  allow_destinations: ["127.0.0.1/32"]
  retry_schedule: [50ms]
upstreams:
  catalogue:
    targets: [127.0.0.1:${upstreamPort}]
routes:
  - name: catalogue-api
    description: The product catalogue, read-only.
    match: {prefix: /api/products}
    upstream: catalogue
`;
  const h = await h0.start();
  const browser = await launch();
  try {
    const sub = await request(`${h.url}/v1/subscriptions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ topic: 'orders', url: `http://127.0.0.1:${receiverPort}/hooks` }),
    });
    assert.equal(sub.status, 201, sub.body);
    const subId = sub.json.id;
    // This one goes to the dead-letter queue: the receiver answers 400.
    const first = await publish(h.url, 'orders', { orderId: 'ord_0001', total: 5 }, { type: 'shop.orderPlaced.v1' });
    assert.equal(first.status, 201, first.body);
    await waitFor(async () => (await request(`${h.url}/v1/subscriptions/${subId}`)).json.dead_lettered === 1,
      { what: 'the first event dead-lettered' });

    const { page, problems } = await openPage(browser, `${h.url}/portal/`);
    // Routes and streams, each from its catalog document.
    await page.waitForSelector('#routes article');
    await page.waitForSelector('#streams article');
    const routes = await page.textContent('#routes');
    assert.match(routes, /catalogue-api/);
    assert.match(routes, /The product catalogue, read-only\./);
    assert.match(routes, /\/api\/products/);
    const streams = await page.textContent('#streams');
    assert.match(streams, /orders/);
    assert.match(streams, /shop\.orderPlaced\.v1/);
    assert.match(await page.textContent('#herald-api'), /\/v1\/topics\/\{topic\}\/events/);
    // The schema and an example event are on the stream's card.
    await page.click('#streams details.message summary');
    assert.match(await page.textContent('#streams details.message'), /"orderId"/);
    assert.match(await page.textContent('#streams details.message'), /ord_1234/);
    await shot(page, 'apis');

    // Live tail on orders, new events only.
    await page.selectOption('#tail-topic', 'orders');
    await page.click('#tail-start');
    await page.waitForFunction(() => document.getElementById('tail-state').textContent.startsWith('Live'));

    // The browser check refuses bad JSON and a schema violation; nothing reaches the server.
    await page.selectOption('#publish-topic', 'orders');
    await page.fill('#publish-type', 'shop.orderPlaced.v1');
    await page.fill('#publish-data', '{"orderId": ');
    await page.click('#publish-form button[type=submit]');
    await page.waitForSelector('#publish-result .problem');
    assert.match(await page.textContent('#publish-result'), /not valid JSON/);
    assert.equal(await page.getAttribute('#publish-data', 'aria-invalid'), 'true');
    await page.fill('#publish-data', '{"orderId": "nope", "total": -1}');
    await page.click('#publish-form button[type=submit]');
    await page.waitForFunction(() => /must match/.test(document.getElementById('publish-result').textContent));
    assert.match(await page.textContent('#publish-result'), /data \/total: must be ≥ 0/);
    await shot(page, 'publish-refused-by-browser');
    let info = await request(`${h.url}/v1/topics/orders`);
    assert.equal(info.json.end_offset, 1, 'the browser check sent nothing');

    // Without the browser check, the server's verdict (422 with the violations) is shown.
    await page.uncheck('#publish-check');
    await page.click('#publish-form button[type=submit]');
    await page.waitForFunction(() => /refused/.test(document.getElementById('publish-result').textContent));
    const refused = await page.textContent('#publish-result');
    assert.match(refused, /422/);
    assert.match(refused, /total/);
    info = await request(`${h.url}/v1/topics/orders`);
    assert.equal(info.json.end_offset, 1, 'the server refused it: nothing appended');
    await page.check('#publish-check');

    // A valid event: 201, and it appears in the live tail.
    await page.click('#publish-example');
    const example = JSON.parse(await page.inputValue('#publish-data'));
    assert.equal(example.orderId, 'ord_1234', 'the example comes from the schema');
    await page.fill('#publish-data', '{"orderId": "ord_5678", "total": 42.5}');
    await page.fill('#publish-subject', 'ord_5678');
    await page.click('#publish-form button[type=submit]');
    await page.waitForFunction(() => /Published: offset 1/.test(document.getElementById('publish-result').textContent));
    await page.waitForFunction(() => /ord_5678/.test(document.getElementById('tail-events').textContent));
    const firstRow = await page.textContent('#tail-events li.event');
    assert.match(firstRow, /shop\.orderPlaced\.v1/);
    assert.match(firstRow, /subject ord_5678/);
    await shot(page, 'tail-after-publish');

    // Pause: events published meanwhile are not shown; resume continues right after the cursor, each once.
    await page.click('#tail-pause');
    await page.waitForFunction(() => /Paused at cursor/.test(document.getElementById('tail-state').textContent));
    for (let i = 0; i < 3; ++i) {
      const r = await publish(h.url, 'orders', { orderId: `ord_900${i}`, total: i }, { type: 'shop.orderPlaced.v1' });
      assert.equal(r.status, 201);
    }
    await sleep(300);
    assert.doesNotMatch(await page.textContent('#tail-events'), /ord_9000/);
    await page.click('#tail-resume');
    await page.waitForFunction(() => /ord_9002/.test(document.getElementById('tail-events').textContent));
    const shown = await page.$$eval('#tail-events li.event pre', (xs) => xs.map((x) => JSON.parse(x.textContent).orderId));
    assert.deepEqual(shown, ['ord_9002', 'ord_9001', 'ord_9000', 'ord_5678'], 'newest first, no gap, no duplicate');

    // The rate table lists the topic with its last offset.
    await page.waitForFunction(() => {
      const row = document.querySelector('#rate-table tbody tr[data-topic="orders"]');
      return row && row.lastElementChild.textContent === '4';
    }, null, { timeout: 10000 });

    // Webhooks: the subscription with its dead letter; replay it once the receiver is fixed.
    await page.waitForSelector(`#webhook-table tr[data-subscription="${subId}"]`);
    await page.click(`#webhook-table tr[data-subscription="${subId}"] button`);
    // Every event so far met the refusing receiver: five dead letters, oldest first.
    await page.waitForFunction(() => document.querySelectorAll('#dlq-table tbody tr[data-entry]').length === 5);
    assert.match(await page.textContent('#dlq-title'), /\(5\)/);
    assert.match(await page.textContent('#dlq-table tbody'), /shop\.orderPlaced\.v1/);
    assert.match(await page.textContent('#attempts-table tbody'), /400/);
    await shot(page, 'webhook-dlq');
    receiverStatus = 200;
    // Replay the oldest one alone, then the rest.
    await page.check('#dlq-table tbody tr[data-entry] input[name=entry]');
    await page.click('#dlq-replay-selected');
    await page.waitForFunction(() => /Queued 1 /.test(document.getElementById('dlq-result').textContent));
    await waitFor(() => delivered.some((e) => e.data && e.data.orderId === 'ord_0001'), { what: 'the replayed event' });
    assert.equal(delivered.length, 1, 'only the selected entry was replayed');
    await page.click('#webhook-refresh');
    await page.waitForFunction(() => document.querySelectorAll('#dlq-table tbody tr[data-entry]').length === 4);
    await page.click('#dlq-replay-all');
    await page.waitForFunction(() => /Queued 4 /.test(document.getElementById('dlq-result').textContent));
    await waitFor(() => delivered.length === 5, { what: 'the other four replayed' });
    await page.click('#webhook-refresh');
    await page.waitForFunction(() => /empty/.test(document.querySelector('#dlq-table tbody').textContent));
    await shot(page, 'webhook-replayed');

    // The browser logs the 422 it was made to provoke ("Failed to load resource"); anything else is a bug.
    const unexpected = problems.filter((p) => !/status of 422/.test(p));
    assert.deepEqual(unexpected, [], unexpected.join('\n'));
  } finally {
    await browser.close();
    await h.stop();
    h.cleanup();
    upstream.close();
    receiver.close();
  }
});

test('with auth on the portal asks for a credential, then shows what that key may see', async () => {
  const key = 'hk_portal_viewer_key_0123456789abcdef0123456789';
  const sha = require('node:crypto').createHash('sha256').update(key).digest('hex');
  const h = await new Herald({
    config: `
auth:
  enabled: true
  api_keys:
    - name: viewer
      key_sha256: ${sha}
      scopes: ["publish:shared.*", "subscribe:shared.*"]
topics:
  declared:
    - name: private.audit
`,
  }).start();
  const browser = await launch();
  try {
    // Two topics exist: one the key may see and one it may not.
    const admin = { Authorization: `Bearer ${key}` };
    assert.equal((await publish(h.url, 'shared.news', { n: 0 }, { headers: admin })).status, 201);
    const { page, problems } = await openPage(browser, `${h.url}/portal/`);
    await page.waitForFunction(() => /needs a credential/.test(document.getElementById('status').textContent));
    await shot(page, 'auth-needed');
    await page.fill('#credential', key);
    await page.click('#credential-form button[type=submit]');
    await page.waitForSelector('#streams article');
    assert.match(await page.textContent('#streams'), /shared\.news/);
    assert.doesNotMatch(await page.textContent('#streams'), /private\.audit/);
    // The tail sends the key in the Authorization header (never in the URL) and receives.
    await page.selectOption('#tail-topic', 'shared.news');
    await page.click('#tail-start');
    await page.waitForFunction(() => document.getElementById('tail-state').textContent.startsWith('Live'));
    assert.equal((await publish(h.url, 'shared.news', { n: 1, headline: 'hello' }, { headers: admin })).status, 201);
    await page.waitForFunction(() => /hello/.test(document.getElementById('tail-events').textContent));
    await shot(page, 'auth-tail');
    // Forgetting the key stops the tail and the page asks again.
    await page.click('#credential-forget');
    await page.waitForFunction(() => /needs a credential/.test(document.getElementById('status').textContent));
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    // The browser's own 401s for the catalog show up as console errors ("Failed to load resource"): expected.
    const unexpected = problems.filter((p) => !/status of 401/.test(p));
    assert.deepEqual(unexpected, [], unexpected.join('\n'));
  } finally {
    await browser.close();
    await h.stop();
    h.cleanup();
  }
});
