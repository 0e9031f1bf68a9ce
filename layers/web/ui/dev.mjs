// Development only: serves ../dist as the Rust server will (manifest paths, same headers)
// and forwards every other request to the API.
//   RAG_API=http://127.0.0.1:8000 PORT=8080 node dev.mjs
import { createServer, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const api = new URL(process.env.RAG_API || 'http://127.0.0.1:8000');
const port = Number(process.env.PORT || 8080);
const CSP = "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; frame-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"; // as rag_web::CONTENT_SECURITY_POLICY

function routes() {
  // Re-read on each request so a rebuild shows up without a restart.
  const manifest = JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8'));
  return new Map(manifest.map((f) => [f.path, f]));
}

createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  const entry = req.method === 'GET' || req.method === 'HEAD' ? routes().get(path) : undefined;
  if (entry) {
    const body = readFileSync(join(dist, entry.file));
    res.writeHead(200, {
      'content-type': entry.content_type,
      'content-length': body.length,
      'cache-control': entry.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    return res.end(req.method === 'HEAD' ? undefined : body);
  }
  const upstream = request(
    { host: api.hostname, port: api.port, method: req.method, path: req.url, headers: { ...req.headers, host: api.host } },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', (e) => {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'dev_proxy', message: `API unreachable: ${e.message}` } }));
  });
  req.pipe(upstream);
}).listen(port, '127.0.0.1', () => console.log(`dev server on http://127.0.0.1:${port}/ → API ${api.href}`));
