// Herald's developer portal: one page over the data-plane API, with the viewer's own credential.
//
// Everything shown comes from the gateway itself: the catalog documents (/asyncapi.json, /openapi.json) for the
// routes, streams, schemas and examples; /v1/topics for the rates; the SSE stream for the live tail;
// /v1/subscriptions for webhooks. Text that came from the server is only ever put in the page with textContent
// (events and descriptions are other people's input), and the Content-Security-Policy allows this origin only.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = 'herald.portal.credential';
  const TOPIC_NAME = /^[a-z0-9][a-z0-9._-]{0,199}$/;
  const MAX_TAIL_ROWS = 200;
  const RATE_POINTS = 60;
  const RATE_PERIOD_MS = 2000;
  const WEBHOOK_PERIOD_MS = 3000;
  const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#0a7e8c'];

  const state = {
    credential: sessionStorage.getItem(TOKEN_KEY) || '',
    asyncapi: null,
    topics: new Map(),     // name → {types: [message names], description}
    messages: new Map(),   // event type → {schema, example, summary}
    rateSamples: new Map(),  // topic → [{t, end}]
    selectedSubscription: null,
    wantedTopic: null,     // ?topic= in the page's URL: tail it once the catalog is in
    // The gateway wants a credential we do not have: polling stops until one is entered (every refused poll
    // would be a failed authentication in the server's security log).
    locked: false,
  };

  // ---- small DOM helpers -----------------------------------------------------------------------------------

  // h('a', {href: '/x', class: 'y'}, 'text', child): attributes by setAttribute, children as text nodes or nodes.
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function replaceChildren(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  }

  function setStatus(text, kind = 'info') {
    const s = $('status');
    s.textContent = text;
    s.dataset.kind = kind;
  }

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  // ---- HTTP --------------------------------------------------------------------------------------------------

  function authHeaders(extra = {}) {
    const headers = { ...extra };
    if (state.credential) headers.Authorization = `Bearer ${state.credential}`;
    return headers;
  }

  // Answers {ok, status, body, problem}; `problem` is the RFC 9457 object of an error answer.
  async function call(method, path, { body, contentType = 'application/json' } = {}) {
    const init = { method, headers: authHeaders({ Accept: 'application/json' }), cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = contentType;
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return { ok: false, status: 0, problem: { title: 'Network error', detail: String(e.message || e) } };
    }
    const text = await res.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch (_) { parsed = text; }
    if (res.ok) return { ok: true, status: res.status, body: parsed };
    const problem = parsed && typeof parsed === 'object' ? parsed : { title: res.statusText, detail: text };
    return { ok: false, status: res.status, problem };
  }

  function describeProblem(status, p) {
    let text = `${status ? status + ' ' : ''}${p.title || 'Error'}`;
    if (p.detail) text += `: ${p.detail}`;
    if (p.attribute) text += ` (${p.attribute})`;
    return text;
  }

  function problemView(status, p) {
    const box = h('div', { class: 'problem', role: 'alert' }, h('p', {}, describeProblem(status, p)));
    if (Array.isArray(p.violations) && p.violations.length) {
      box.append(h('ul', {}, p.violations.map((v) =>
        h('li', {}, typeof v === 'string' ? v : `${v.path || v.instance || ''} ${v.message || JSON.stringify(v)}`))));
    }
    return box;
  }

  // ---- credential --------------------------------------------------------------------------------------------

  function initCredential() {
    $('credential').value = state.credential;
    $('credential-form').addEventListener('submit', (e) => {
      e.preventDefault();
      state.credential = $('credential').value.trim();
      if (state.credential) sessionStorage.setItem(TOKEN_KEY, state.credential);
      else sessionStorage.removeItem(TOKEN_KEY);
      reloadEverything();
    });
    $('credential-forget').addEventListener('click', () => {
      state.credential = '';
      $('credential').value = '';
      sessionStorage.removeItem(TOKEN_KEY);
      reloadEverything();
    });
  }

  async function reloadEverything() {
    stopTail('Stopped: the credential changed.');
    state.rateSamples.clear();
    await loadCatalog();
    refreshWebhooks();
  }

  // ---- catalog: routes, streams, schemas ---------------------------------------------------------------------

  async function loadCatalog() {
    setStatus('Loading the catalog…');
    const [a, o] = await Promise.all([call('GET', '/asyncapi.json'), call('GET', '/openapi.json')]);
    state.locked = a.status === 401 || o.status === 401;
    if (!a.ok || !o.ok) {
      const bad = a.ok ? o : a;
      if (bad.status === 401) {
        setStatus('This gateway needs a credential: enter an API key or a bearer token above.', 'warn');
      } else {
        setStatus(`The catalog could not be loaded: ${describeProblem(bad.status, bad.problem)}`, 'error');
      }
      replaceChildren($('routes'), h('p', { class: 'muted' }, 'Not available.'));
      replaceChildren($('streams'), h('p', { class: 'muted' }, 'Not available.'));
      return;
    }
    state.asyncapi = a.body;
    renderServerInfo(a.body);
    indexMessages(a.body);
    renderStreams(a.body);
    renderRoutes(o.body);
    renderHeraldApi(o.body);
    await refreshTopics();
    if (state.wantedTopic && state.topics.has(state.wantedTopic)) tailTopic(state.wantedTopic);
    state.wantedTopic = null;
    setStatus(state.credential ? 'Signed in with the credential you entered.' : 'Anonymous access.', 'ok');
  }

  function renderServerInfo(doc) {
    const host = doc.servers && doc.servers.http ? doc.servers.http.host : location.host;
    $('server-info').textContent = `${host} · Herald ${doc.info.version}`;
    $('version').textContent = doc.info.version;
  }

  function indexMessages(doc) {
    state.messages.clear();
    state.topics.clear();
    const components = doc.components || {};
    for (const [name, msg] of Object.entries(components.messages || {})) {
      const data = msg.payload && msg.payload.properties ? msg.payload.properties.data : undefined;
      const example = Array.isArray(msg.examples) && msg.examples.length ? msg.examples[0].payload : undefined;
      state.messages.set(name, { schema: data, example, summary: msg.summary || '' });
    }
    for (const [name, ch] of Object.entries(doc.channels || {})) {
      const types = Object.values(ch.messages || {})
        .map((m) => (m.$ref || '').split('/').pop())
        .filter((t) => t && t !== 'cloudevent');
      state.topics.set(ch.address || name, { types, description: ch.description || '', info: ch['x-herald-topic'] || {} });
    }
  }

  function renderStreams(doc) {
    const cards = [];
    for (const [topic, t] of [...state.topics.entries()].sort()) {
      const card = h('article', { class: 'card', 'aria-labelledby': `stream-${topic}` },
        h('h4', { id: `stream-${topic}` }, h('span', { class: 'badge stream' }, 'topic'), ' ', topic),
        h('p', {}, t.description),
        h('p', { class: 'muted' }, retained(t.info)));
      for (const type of t.types) {
        const m = state.messages.get(type) || {};
        const example = m.example !== undefined ? m.example
          : { specversion: '1.0', type, source: '/portal', data: SchemaForm.example(m.schema, doc) };
        card.append(h('details', { class: 'message' },
          h('summary', {}, h('code', {}, type), m.summary ? ` — ${m.summary}` : ''),
          h('h5', {}, 'Schema of data'),
          h('pre', { tabindex: 0 }, m.schema ? pretty(displaySchema(m.schema, doc)) : 'any JSON'),
          h('h5', {}, 'Example event'),
          h('pre', { tabindex: 0 }, pretty(example))));
      }
      if (t.types.length === 0) card.append(h('p', { class: 'muted' }, 'Accepts any event type.'));
      card.append(h('div', { class: 'row buttons' },
        h('button', { type: 'button', onclick: () => tailTopic(topic) }, `Tail ${topic}`),
        h('button', { type: 'button', onclick: () => publishTo(topic, t.types[0]) }, `Publish to ${topic}`)));
      cards.push(card);
    }
    replaceChildren($('streams'), cards.length ? cards : [h('p', { class: 'muted' }, 'No event streams you may subscribe to.')]);
  }

  function retained(info) {
    if (info.end_offset === undefined) return '';
    if (info.end_offset <= info.start_offset) return 'No events retained yet.';
    return `Retained: offsets ${info.start_offset} to ${info.end_offset - 1}.`;
  }

  // The message's data is usually a bare $ref into components.schemas: show the schema it names.
  function displaySchema(schema, doc) {
    if (schema && schema.$ref && Object.keys(schema).length === 1) return SchemaForm.resolve(schema.$ref, doc) || schema;
    return schema;
  }

  const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

  function operations(doc) {
    const ops = [];
    for (const [path, item] of Object.entries(doc.paths || {}))
      for (const m of METHODS)
        if (item[m]) ops.push({ path, method: m.toUpperCase(), op: item[m] });
    return ops;
  }

  function renderRoutes(doc) {
    // One card per route: its methods and paths together.
    const byRoute = new Map();
    for (const x of operations(doc)) {
      if (!(x.op.tags || []).includes('routes')) continue;
      const name = x.op['x-herald-route'] || x.op.summary || x.path;
      // The route's own description is the operation's summary; the description says how it is served.
      if (!byRoute.has(name)) byRoute.set(name, { summary: x.op.summary || '', description: x.op.description || '', paths: new Map() });
      const r = byRoute.get(name);
      if (!r.paths.has(x.path)) r.paths.set(x.path, []);
      r.paths.get(x.path).push(x.method);
    }
    const cards = [...byRoute.entries()].map(([name, r]) =>
      h('article', { class: 'card', 'aria-labelledby': `route-${name}` },
        h('h4', { id: `route-${name}` }, h('span', { class: 'badge route' }, 'route'), ' ', name),
        r.summary && r.summary !== `REST route ${name}` ? h('p', {}, r.summary) : null,
        h('p', { class: 'muted' }, r.description),
        h('ul', { class: 'paths' }, [...r.paths.entries()].map(([path, methods]) =>
          h('li', {}, methods.map((m) => h('span', { class: `method m-${m.toLowerCase()}` }, m)), ' ', h('code', {}, path))))));
    replaceChildren($('routes'), cards.length ? cards : [h('p', { class: 'muted' }, 'No REST routes are configured.')]);
  }

  function renderHeraldApi(doc) {
    const byTag = new Map();
    for (const x of operations(doc)) {
      const tags = x.op.tags || ['other'];
      if (tags.includes('routes')) continue;
      const tag = tags[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(x);
    }
    const sections = [...byTag.entries()].map(([tag, ops]) =>
      h('section', {}, h('h4', {}, tag),
        h('ul', { class: 'paths' }, ops.map((x) =>
          h('li', {}, h('span', { class: `method m-${x.method.toLowerCase()}` }, x.method), ' ', h('code', {}, x.path),
            x.op.summary ? ` — ${x.op.summary}` : '')))));
    replaceChildren($('herald-api'), sections);
  }

  // ---- topics and rates --------------------------------------------------------------------------------------

  async function refreshTopics() {
    if (state.locked) return;
    const r = await call('GET', '/v1/topics');
    if (!r.ok) return;
    const now = performance.now();
    for (const t of r.body.topics) {
      if (!state.topics.has(t.name)) state.topics.set(t.name, { types: [], description: '', info: t });
      else state.topics.get(t.name).info = t;
      const samples = state.rateSamples.get(t.name) || [];
      samples.push({ t: now, end: t.end_offset });
      while (samples.length > RATE_POINTS + 1) samples.shift();
      state.rateSamples.set(t.name, samples);
    }
    fillTopicSelect($('tail-topic'));
    fillTopicSelect($('publish-topic'));
    drawRates();
  }

  function fillTopicSelect(select) {
    const current = select.value;
    const names = [...state.topics.keys()].sort();
    const existing = [...select.options].map((o) => o.value);
    if (existing.length === names.length && existing.every((v, i) => v === names[i])) return;
    replaceChildren(select, names.map((n) => h('option', { value: n }, n)));
    if (names.includes(current)) select.value = current;
    select.dispatchEvent(new Event('change'));
  }

  function ratesOf(samples) {
    const out = [];
    for (let i = 1; i < samples.length; ++i) {
      const dt = (samples[i].t - samples[i - 1].t) / 1000;
      out.push(dt > 0 ? Math.max(0, samples[i].end - samples[i - 1].end) / dt : 0);
    }
    return out;
  }

  function drawRates() {
    const series = [...state.rateSamples.entries()]
      .map(([topic, samples]) => ({ topic, rates: ratesOf(samples), end: samples.length ? samples[samples.length - 1].end : 0 }))
      .sort((a, b) => (b.rates.at(-1) || 0) - (a.rates.at(-1) || 0) || a.topic.localeCompare(b.topic));
    const shown = series.slice(0, COLOURS.length);

    const tbody = $('rate-table').tBodies[0];
    replaceChildren(tbody, series.map((s) => {
      const i = shown.indexOf(s);
      const swatch = i >= 0 ? h('span', { class: `swatch c${i}`, 'aria-hidden': 'true' }) : null;
      return h('tr', { 'data-topic': s.topic },
        h('th', { scope: 'row' }, swatch, s.topic),
        h('td', { class: 'num' }, (s.rates.at(-1) || 0).toFixed(1)),
        h('td', { class: 'num' }, s.end > 0 ? String(s.end - 1) : '—'));
    }));

    const canvas = $('rate-chart');
    const ctx = canvas.getContext('2d');
    const w = canvas.width, hgt = canvas.height, pad = 32;
    ctx.clearRect(0, 0, w, hgt);
    const max = Math.max(1, ...shown.flatMap((s) => s.rates));
    ctx.strokeStyle = '#8c959f';
    ctx.fillStyle = '#57606a';
    ctx.font = '12px system-ui, sans-serif';
    ctx.beginPath();
    ctx.moveTo(pad, 8); ctx.lineTo(pad, hgt - pad); ctx.lineTo(w - 8, hgt - pad);
    ctx.stroke();
    ctx.fillText(`${max.toFixed(0)}/s`, 2, 16);
    ctx.fillText('0', 18, hgt - pad);
    ctx.fillText(`last ${(RATE_POINTS * RATE_PERIOD_MS) / 60000} min`, w - 90, hgt - 10);
    shown.forEach((s, i) => {
      ctx.strokeStyle = COLOURS[i];
      ctx.lineWidth = 2;
      ctx.beginPath();
      const step = (w - pad - 8) / (RATE_POINTS - 1);
      const offset = RATE_POINTS - s.rates.length;
      s.rates.forEach((r, j) => {
        const x = pad + (offset + j) * step;
        const y = hgt - pad - (r / max) * (hgt - pad - 12);
        if (j === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.stroke();
    });
  }

  // ---- live tail ---------------------------------------------------------------------------------------------
  //
  // The stream is read with fetch rather than EventSource, for two reasons. EventSource cannot send an
  // Authorization header, so with auth on the token would have to go in the URL (where logs and history keep
  // it). And Herald names each SSE event by its CloudEvents type: EventSource hands named events only to
  // listeners registered for that exact name, which a generic tail cannot know in advance. The reader below
  // follows the WHATWG parsing rules and EventSource's reconnection (retry hint, Last-Event-ID) itself.

  const tail = { controller: null, cursor: '', topic: '', from: 'latest', retryMs: 3000, timer: null, received: 0 };

  function setTailState(text) {
    $('tail-state').textContent = text;
  }

  function tailButtons(running) {
    $('tail-pause').disabled = !running;
    $('tail-resume').disabled = running || !tail.cursor;
  }

  function stopTail(text) {
    if (tail.controller) tail.controller.abort();
    tail.controller = null;
    clearTimeout(tail.timer);
    tail.timer = null;
    tailButtons(false);
    if (text) setTailState(text);
  }

  function startTail(topic, from) {
    stopTail();
    tail.topic = topic;
    tail.from = from;
    if (from !== 'latest' && from !== 'earliest') tail.cursor = from;
    openStream(from);
  }

  async function openStream(from) {
    const controller = new AbortController();
    tail.controller = controller;
    tailButtons(true);
    const headers = authHeaders({ Accept: 'text/event-stream' });
    let url = `/v1/topics/${encodeURIComponent(tail.topic)}/events`;
    if (tail.cursor) headers['Last-Event-ID'] = tail.cursor;
    else url += `?from=${encodeURIComponent(from)}`;
    setTailState(`Connecting to ${tail.topic}…`);
    let res;
    try {
      res = await fetch(url, { headers, signal: controller.signal, cache: 'no-store' });
    } catch (e) {
      if (controller.signal.aborted) return;
      return scheduleReconnect(`Connection failed (${e.message || e}).`);
    }
    if (!res.ok) {
      const text = await res.text();
      let p = {};
      try { p = JSON.parse(text); } catch (_) { p = { title: res.statusText, detail: text }; }
      stopTail(`The stream was refused: ${describeProblem(res.status, p)}`);
      return;
    }
    setTailState(`Live: ${tail.topic}${tail.cursor ? ` from after ${tail.cursor}` : ` (${from})`}.`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let event = { id: null, type: '', data: [] };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        // Lines end in CRLF, LF or CR; a trailing CR may be the first half of a CRLF, so it waits for more.
        let m;
        while ((m = /\r\n|\n|\r(?!$)/.exec(buffer)) !== null) {
          const line = buffer.slice(0, m.index);
          buffer = buffer.slice(m.index + m[0].length);
          if (line === '') {
            if (event.data.length) dispatch(event);
            event = { id: null, type: '', data: [] };
            continue;
          }
          if (line.startsWith(':')) continue;  // heartbeat comment
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? '' : line.slice(colon + 1);
          if (val.startsWith(' ')) val = val.slice(1);
          if (field === 'data') event.data.push(val);
          else if (field === 'event') event.type = val;
          else if (field === 'id' && !val.includes('\0')) { event.id = val; tail.cursor = val; }
          else if (field === 'retry' && /^\d+$/.test(val)) tail.retryMs = Number(val);
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
    }
    if (controller.signal.aborted) return;
    scheduleReconnect('The stream ended.');
  }

  function scheduleReconnect(why) {
    tail.controller = null;
    tailButtons(false);
    setTailState(`${why} Reconnecting in ${Math.round(tail.retryMs / 1000)} s from ${tail.cursor || 'the start point'}…`);
    tail.timer = setTimeout(() => openStream(tail.from), tail.retryMs);
  }

  function dispatch(e) {
    const data = e.data.join('\n');
    const list = $('tail-events');
    if (e.type.startsWith('herald.')) {
      // Control events: a reset after retention, the server stopping, the token expiring.
      list.prepend(h('li', { class: 'notice' }, h('strong', {}, e.type), ' ', data));
    } else {
      let ce = null;
      try { ce = JSON.parse(data); } catch (_) { ce = null; }
      tail.received += 1;
      list.prepend(h('li', { class: 'event', 'data-cursor': e.id || '' },
        h('div', { class: 'meta' },
          h('code', { class: 'cursor', title: 'cursor' }, e.id || ''), ' ',
          h('strong', { class: 'type' }, ce ? ce.type : e.type), ' ',
          h('span', { class: 'muted' }, ce && ce.time ? ce.time : ''), ' ',
          h('span', { class: 'muted' }, ce && ce.subject ? `subject ${ce.subject}` : '')),
        h('pre', { class: 'data' }, ce ? pretty(ce.data !== undefined ? ce.data : ce.data_base64) : data)));
    }
    while (list.children.length > MAX_TAIL_ROWS) list.lastElementChild.remove();
    if (tail.controller) setTailState(`Live: ${tail.topic}, ${tail.received} events, last cursor ${tail.cursor}.`);
  }

  function tailTopic(topic) {
    $('tail-topic').value = topic;
    $('tail-from').value = 'latest';
    $('tail-cursor').hidden = true;
    tail.cursor = '';
    startTail(topic, 'latest');
    $('tail').scrollIntoView({ behavior: 'smooth' });
  }

  function initTail() {
    $('tail-from').addEventListener('change', () => {
      $('tail-cursor').hidden = $('tail-from').value !== 'cursor';
    });
    $('tail-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const topic = $('tail-topic').value;
      if (!topic) return setTailState('Choose a topic first.');
      let from = $('tail-from').value;
      tail.cursor = '';
      if (from === 'cursor') {
        from = $('tail-cursor').value.trim();
        if (!from) return setTailState('Enter the cursor to start after.');
      }
      tail.received = 0;
      startTail(topic, from);
    });
    $('tail-pause').addEventListener('click', () => {
      stopTail(`Paused at cursor ${tail.cursor || '(none yet)'}; Resume continues right after it.`);
      $('tail-resume').disabled = !tail.cursor;
    });
    $('tail-resume').addEventListener('click', () => {
      if (tail.cursor) openStream(tail.cursor);
    });
    $('tail-clear').addEventListener('click', () => {
      replaceChildren($('tail-events'));
      tail.received = 0;
    });
  }

  // ---- publish -----------------------------------------------------------------------------------------------

  function publishTo(topic, type) {
    $('publish-topic').value = topic;
    if (type) $('publish-type').value = type;
    onPublishTypeChanged();
    fillExample();
    $('publish').scrollIntoView({ behavior: 'smooth' });
  }

  function schemaFor(type) {
    const m = state.messages.get(type);
    return m && m.schema ? m.schema : null;
  }

  function onPublishTopicChanged() {
    const t = state.topics.get($('publish-topic').value);
    const types = t ? t.types : [];
    replaceChildren($('publish-types'), types.map((x) => h('option', { value: x })));
    if (!$('publish-type').value && types.length) $('publish-type').value = types[0];
    onPublishTypeChanged();
  }

  function onPublishTypeChanged() {
    const type = $('publish-type').value.trim();
    $('publish-schema-note').textContent = schemaFor(type)
      ? `Events of type ${type} are checked against its registered schema (see the stream's card).`
      : 'No schema is registered for this type in the catalog: any JSON is accepted by the browser check.';
  }

  function fillExample() {
    const type = $('publish-type').value.trim();
    const m = state.messages.get(type);
    let data = {};
    if (m && m.example && m.example.data !== undefined) data = m.example.data;
    else if (m && m.schema) data = SchemaForm.example(m.schema, state.asyncapi);
    $('publish-data').value = pretty(data);
  }

  // A random (version 4) UUID. crypto.randomUUID exists only in secure contexts; getRandomValues everywhere.
  function newEventId() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function clearInvalid() {
    for (const id of ['publish-topic', 'publish-type', 'publish-source', 'publish-data'])
      $(id).removeAttribute('aria-invalid');
  }

  // The browser's checks: what the server would refuse for certain, said next to the field.
  function checkPublish(topic, type, source, dataText) {
    const errors = [];
    if (!TOPIC_NAME.test(topic)) errors.push({ field: 'publish-topic', message: 'topic: choose a topic' });
    if (!type) errors.push({ field: 'publish-type', message: 'type: required (CloudEvents)' });
    if (!source) errors.push({ field: 'publish-source', message: 'source: required (CloudEvents), a URI-reference' });
    let data;
    try {
      data = JSON.parse(dataText);
    } catch (e) {
      errors.push({ field: 'publish-data', message: `data: not valid JSON (${e.message})` });
      return { errors };
    }
    const schema = schemaFor(type);
    if (schema) {
      for (const v of SchemaForm.validate(schema, data, state.asyncapi))
        errors.push({ field: 'publish-data', message: `data ${v.path}: ${v.message}` });
    }
    return { errors, data };
  }

  async function submitPublish(e) {
    e.preventDefault();
    clearInvalid();
    const out = $('publish-result');
    const topic = $('publish-topic').value;
    const type = $('publish-type').value.trim();
    const source = $('publish-source').value.trim();
    const subject = $('publish-subject').value.trim();
    // The same id twice is a duplicate: the server answers 200 with the first event's offset.
    const id = $('publish-id').value.trim() || newEventId();
    const dataText = $('publish-data').value;
    let data;
    if ($('publish-check').checked) {
      const verdict = checkPublish(topic, type, source, dataText);
      if (verdict.errors.length) {
        for (const x of verdict.errors) $(x.field).setAttribute('aria-invalid', 'true');
        replaceChildren(out, h('div', { class: 'problem', role: 'alert' },
          h('p', {}, 'Not sent — the browser found these problems:'),
          h('ul', {}, verdict.errors.map((x) => h('li', {}, x.message)))));
        $(verdict.errors[0].field).focus();
        return;
      }
      data = verdict.data;
    } else {
      try { data = JSON.parse(dataText); } catch (_) { data = dataText; }
    }
    const event = { specversion: '1.0', id, type, source, datacontenttype: 'application/json', data };
    if (subject) event.subject = subject;
    const r = await call('POST', `/v1/topics/${encodeURIComponent(topic)}/events`,
      { body: event, contentType: 'application/cloudevents+json' });
    if (!r.ok) {
      if (r.problem && r.problem.attribute === 'data') $('publish-data').setAttribute('aria-invalid', 'true');
      replaceChildren(out, h('p', {}, 'The server refused the event:'), problemView(r.status, r.problem));
      return;
    }
    const what = r.status === 200 ? 'Already published (a duplicate id)' : 'Published';
    replaceChildren(out, h('p', { class: 'ok', role: 'status' },
      `${what}: offset ${r.body.offset}, id ${r.body.id}${r.body.cursor ? `, cursor ${r.body.cursor}` : ''}.`));
    refreshTopics();
  }

  function initPublish() {
    $('publish-topic').addEventListener('change', onPublishTopicChanged);
    $('publish-type').addEventListener('change', onPublishTypeChanged);
    $('publish-example').addEventListener('click', fillExample);
    $('publish-form').addEventListener('submit', submitPublish);
  }

  // ---- webhooks ----------------------------------------------------------------------------------------------

  async function refreshWebhooks() {
    const tbody = $('webhook-table').tBodies[0];
    if (state.locked) {
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'Needs a credential.')));
      return;
    }
    const r = await call('GET', '/v1/subscriptions');
    if (!r.ok) {
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 9, class: 'muted' },
        r.status === 401 ? 'Needs a credential.' : describeProblem(r.status, r.problem))));
      return;
    }
    const subs = r.body.subscriptions || [];
    if (!subs.length) {
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No webhook subscriptions you may see.')));
      return;
    }
    replaceChildren(tbody, subs.map((s) => h('tr', { 'data-subscription': s.id },
      h('th', { scope: 'row' }, h('code', {}, s.id)),
      h('td', {}, s.topic),
      h('td', { class: 'url' }, s.url),
      h('td', {}, h('span', { class: `state ${s.state}` }, s.state), s.disabled_reason ? ` (${s.disabled_reason})` : ''),
      h('td', { class: 'num' }, String(s.lag ?? '')),
      h('td', { class: 'num' }, String(s.delivered ?? 0)),
      h('td', { class: 'num' }, String(s.dead_lettered ?? 0)),
      h('td', {}, s.last_attempt_at ? `${s.last_status || 'no answer'} at ${s.last_attempt_at}` : '—',
        s.last_error ? h('div', { class: 'muted' }, s.last_error) : null),
      h('td', {}, h('button', { type: 'button', onclick: () => openSubscription(s.id) }, 'Details', h('span', { class: 'visually-hidden' }, ` of ${s.id}`))))));
  }

  async function openSubscription(id) {
    state.selectedSubscription = id;
    $('webhook-detail').hidden = false;
    $('webhook-detail-title').textContent = `Subscription ${id}`;
    $('dlq-result').textContent = '';
    await refreshSubscription();
    $('webhook-detail-title').scrollIntoView({ behavior: 'smooth' });
  }

  async function refreshSubscription() {
    const id = state.selectedSubscription;
    if (!id) return;
    const base = `/v1/subscriptions/${encodeURIComponent(id)}`;
    const [attempts, dlq] = await Promise.all([call('GET', `${base}/attempts?limit=20`), call('GET', `${base}/dead-letters?limit=100`)]);
    const at = $('attempts-table').tBodies[0];
    if (attempts.ok) {
      const rows = attempts.body.attempts || [];
      replaceChildren(at, rows.length ? rows.map((x) => h('tr', {},
        h('td', {}, x.at), h('td', { class: 'num' }, String(x.offset)), h('td', { class: 'num' }, String(x.attempt)),
        h('td', { class: 'num' }, String(x.status || '—')),
        h('td', {}, x.outcome, x.replay ? ' (replay)' : '', x.error ? h('div', { class: 'muted' }, x.error) : null),
        h('td', { class: 'num' }, x.duration_ms.toFixed(1))))
        : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No attempts yet.'))]);
    } else {
      replaceChildren(at, h('tr', {}, h('td', { colspan: 6 }, describeProblem(attempts.status, attempts.problem))));
    }
    const dt = $('dlq-table').tBodies[0];
    if (dlq.ok) {
      const entries = dlq.body.entries || [];
      $('dlq-title').textContent = `Dead-letter queue (${dlq.body.total ?? entries.length})`;
      replaceChildren(dt, entries.length ? entries.map((x) => h('tr', { 'data-entry': x.id },
        h('td', {}, h('input', { type: 'checkbox', name: 'entry', value: x.id, id: `dlq-${x.id}`,
          'aria-label': `Select dead letter ${x.id}` })),
        h('td', { class: 'num' }, h('label', { for: `dlq-${x.id}` }, String(x.id))),
        h('td', { class: 'num' }, String(x.offset)),
        h('td', {}, h('code', {}, x.event && x.event.type ? x.event.type : ''), h('div', { class: 'muted' }, x.event_id)),
        h('td', { class: 'num' }, String(x.attempts)),
        h('td', {}, `${x.last_status || ''} ${x.last_error || ''}`.trim()),
        h('td', {}, h('button', { type: 'button', onclick: () => dropDeadLetter(x.id) }, 'Drop',
          h('span', { class: 'visually-hidden' }, ` dead letter ${x.id}`)))))
        : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'The dead-letter queue is empty.'))]);
    } else {
      replaceChildren(dt, h('tr', {}, h('td', { colspan: 7 }, describeProblem(dlq.status, dlq.problem))));
    }
  }

  async function replay(body) {
    const id = state.selectedSubscription;
    const r = await call('POST', `/v1/subscriptions/${encodeURIComponent(id)}/dead-letters/replay`, { body });
    $('dlq-result').textContent = r.ok ? `Queued ${r.body.queued} for delivery again.` : describeProblem(r.status, r.problem);
    setTimeout(() => { refreshSubscription(); refreshWebhooks(); }, 500);
  }

  async function dropDeadLetter(entry) {
    const id = state.selectedSubscription;
    const r = await call('DELETE', `/v1/subscriptions/${encodeURIComponent(id)}/dead-letters/${entry}`);
    $('dlq-result').textContent = r.ok ? `Dropped entry ${entry}.` : describeProblem(r.status, r.problem);
    refreshSubscription();
    refreshWebhooks();
  }

  async function setPaused(paused) {
    const id = state.selectedSubscription;
    const r = await call('POST', `/v1/subscriptions/${encodeURIComponent(id)}/${paused ? 'pause' : 'resume'}`);
    $('dlq-result').textContent = r.ok ? `Subscription ${r.body.state}.` : describeProblem(r.status, r.problem);
    refreshWebhooks();
  }

  function initWebhooks() {
    $('dlq-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const ids = [...$('dlq-table').querySelectorAll('input[name=entry]:checked')].map((x) => Number(x.value));
      if (!ids.length) {
        $('dlq-result').textContent = 'Select the entries to replay first.';
        return;
      }
      replay({ ids });
    });
    $('dlq-replay-all').addEventListener('click', () => replay({ all: true }));
    $('webhook-pause').addEventListener('click', () => setPaused(true));
    $('webhook-resume').addEventListener('click', () => setPaused(false));
    $('webhook-refresh').addEventListener('click', () => refreshSubscription());
    $('webhook-close').addEventListener('click', () => {
      state.selectedSubscription = null;
      $('webhook-detail').hidden = true;
    });
  }

  // ---- start -------------------------------------------------------------------------------------------------

  function start() {
    // A link like /portal/?topic=orders opens the tail on that topic.
    const wanted = new URLSearchParams(location.search).get('topic');
    if (wanted && TOPIC_NAME.test(wanted)) state.wantedTopic = wanted;
    initCredential();
    initTail();
    initPublish();
    initWebhooks();
    loadCatalog().then(refreshWebhooks);
    setInterval(refreshTopics, RATE_PERIOD_MS);
    setInterval(refreshWebhooks, WEBHOOK_PERIOD_MS);
    window.heraldPortal = { state, tail };  // for the browser test and the curious
  }

  start();
})();
