// The origin behind Pushpin in bench/compare.sh: Pushpin holds client connections itself and asks this
// backend, with ordinary short HTTP requests, what to do with them (GRIP). Usage: node pushpin-origin.js PORT
//
//   GET  /ready        → 200 "ok", not held: compare.sh waits for it through Pushpin before any run.
//   GET  /sub/<topic>  → an SSE stream held by Pushpin on channel <topic>: Grip-Hold: stream,
//                        Grip-Channel: <topic>, text/event-stream; the body is sent to the client first.
//   POST /ws/<topic>   → WebSocket-over-HTTP (the route has `over_http`): the OPEN event is accepted and the
//                        connection subscribed to channel <topic> with a `c:` control message; anything later
//                        (CLOSE, DISCONNECT, messages the client sends) is acknowledged with nothing to do.
//
// Publishing does not go through here: the generator POSTs to Pushpin's control API (/publish/) directly.
'use strict';
const http = require('http');

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
    if (req.url === '/ready') {  // not held: the script's check that the whole chain answers
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok\n');
        return;
    }
    const m = /^\/(sub|ws)\/([A-Za-z0-9._-]+)/.exec(req.url);
    if (!m) {
        res.writeHead(404);
        res.end();
        return;
    }
    const topic = m[2];
    if (m[1] === 'sub' && req.method === 'GET') {
        res.writeHead(200, {
            'Content-Type': 'text/event-stream',
            'Cache-Control': 'no-cache',
            'Grip-Hold': 'stream',
            'Grip-Channel': topic,
        });
        res.end(':ok\n\n');
        return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        const headers = { 'Content-Type': 'application/websocket-events' };
        let out = '';
        if (body.startsWith('OPEN\r\n')) {
            headers['Sec-WebSocket-Extensions'] = 'grip; message-prefix=""';
            const msg = 'c:' + JSON.stringify({ type: 'subscribe', channel: topic });
            out = 'OPEN\r\nTEXT ' + Buffer.byteLength(msg).toString(16) + '\r\n' + msg + '\r\n';
        } else if (body.includes('CLOSE')) {
            out = 'CLOSE\r\n';
        }
        res.writeHead(200, headers);
        res.end(out);
    });
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
