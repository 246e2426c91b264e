#!/usr/bin/env node
// Development server for the timeline page: serves a built bundle the way
// k8s-watch-server does (GET / and /ui/ as index.html, /ui/<file> as the
// file) and passes the API through to a running server, so that the page
// can be worked on before the server embeds it. No dependencies.
//
//   node ui/dev-server.mjs --dir /tmp/ui-out --api http://127.0.0.1:18081 [--port 8090]

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const dir = path.resolve(arg('dir', 'ui-bundle'));
const api = new URL(arg('api', 'http://127.0.0.1:8080'));
const port = Number(arg('port', '8090'));
const host = arg('host', '127.0.0.1');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};
const PROXIED = ['/api/', '/mcp', '/metrics', '/health', '/livez', '/readyz'];

function sendFile(res, name) {
  // Only flat names: the bundle has no sub-directories.
  if (!/^[\w.-]+$/.test(name)) {
    res.writeHead(404).end('not found\n');
    return;
  }
  fs.readFile(path.join(dir, name), (err, body) => {
    if (err) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(name)] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
    }).end(body);
  });
}

function proxy(req, res) {
  const headers = { ...req.headers, host: api.host };
  // The MCP endpoint checks Origin against its own host: keep it local.
  delete headers.origin;
  const up = http.request({
    hostname: api.hostname, port: api.port || 80, method: req.method, path: req.url, headers,
  }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: `proxy to ${api.origin} failed: ${e.message}` }));
  });
  req.pipe(up);
}

http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const p = url.pathname;
  if (PROXIED.some((prefix) => p === prefix || p.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`) || p.startsWith(prefix))) {
    proxy(req, res);
  } else if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET' }).end();
  } else if (p === '/' || p === '/ui' || p === '/ui/') {
    sendFile(res, 'index.html');
  } else if (p.startsWith('/ui/')) {
    sendFile(res, p.slice(4));
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }
}).listen(port, host, () => {
  console.log(`serving ${dir} on http://${host}:${port}/, API from ${api.origin}`);
});
