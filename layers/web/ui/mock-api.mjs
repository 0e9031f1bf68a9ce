// Development only: an in-memory stand-in for the API with the shapes of layers/api/openapi.json
// and of the routes being added (feedback, document pages, users list, index versions), so the
// page and tests/browser/ui.mjs can be exercised without the Rust server.
//   PORT=8000 node mock-api.mjs      (users admin/admin-password and tech/tech-password)
import { createServer } from 'node:http';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const port = Number(process.env.PORT || 8000);
const SECRET = 'dev-only-secret-dev-only-secret!';
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const sign = (claims) => {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
};
const verify = (token) => {
  const [h, p, s] = String(token).split('.');
  if (!s || createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url') !== s) return null;
  const c = JSON.parse(Buffer.from(p, 'base64url').toString());
  return c.exp * 1000 > Date.now() ? c : null;
};
const now = () => new Date().toISOString();

const users = new Map([
  ['admin', { username: 'admin', password: process.env.ADMIN_PASSWORD || 'admin-password', role: 'admin', active: true, created_at: now() }],
  ['tech', { username: 'tech', password: process.env.TECH_PASSWORD || 'tech-password', role: 'user', active: true, created_at: now() }],
]);
const samplePdf = readFileSync(join(repo, 'data/pdf/procedures-support-it.pdf'));
const documents = new Map([
  ['procedures-support-it.pdf', { name: 'procedures-support-it.pdf', status: 'indexed', reason: null, sha256: 'ab', pages: 12, chunks: 48, index_version: 'v1aaaaaaaaaa', updated_at: now(), bytes: samplePdf }],
]);
let versions = [{ version: 'v1aaaaaaaaaa', created_at: now(), documents: 1, chunks: 48, current: true }];
const queries = []; // { query_id, username, question, answer, sources, ..., feedback }
let clusterRun = null;
let failures = 0;

const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
};
const fail = (res, status, code, message, headers) => send(res, status, { error: { code, message } }, headers);
const readBody = (req) => new Promise((resolve) => { const parts = []; req.on('data', (c) => parts.push(c)); req.on('end', () => resolve(Buffer.concat(parts))); });
const json = async (req) => { try { return JSON.parse((await readBody(req)).toString() || '{}'); } catch { return null; } };
const publish = () => {
  const version = `v${randomUUID().replace(/-/g, '').slice(0, 11)}`;
  versions = versions.map((v) => ({ ...v, current: false }));
  const live = [...documents.values()].filter((d) => d.status === 'indexed');
  versions.unshift({ version, created_at: now(), documents: live.length, chunks: live.reduce((a, d) => a + d.chunks, 0), current: true });
  return version;
};
const current = () => versions.find((v) => v.current)?.version;

function answerFor(question) {
  const fr = /[éèàç]|comment|mot de passe/i.test(question);
  if (/vpn|mot de passe|password|imprim/i.test(question)) {
    return {
      grounded: true,
      answer: fr
        ? 'Pour réinitialiser votre mot de passe, ouvrez le **portail libre-service** et choisissez « Mot de passe oublié » [1]. Un code est envoyé sur votre téléphone professionnel ; saisissez-le puis choisissez un nouveau mot de passe de 12 caractères au moins [2].'
        : 'Open the **self-service portal** and choose "Forgot password" [1]. Enter the code sent to your work phone, then pick a new password of at least 12 characters [2].',
      sources: [
        { document: 'procedures-support-it.pdf', page: 3, score: 0.82, excerpt: 'Réinitialisation du mot de passe : se rendre sur le portail libre-service…' },
        { document: 'procedures-support-it.pdf', page: 4, score: 0.71, excerpt: 'Le nouveau mot de passe doit comporter au moins 12 caractères.' },
      ],
    };
  }
  return {
    grounded: false,
    answer: fr ? 'Je n\'ai pas cette information dans la documentation.' : 'I don\'t have this information in the documentation.',
    sources: [{ document: 'procedures-support-it.pdf', page: 7, score: 0.31, excerpt: 'Procédure de demande de matériel…' }],
  };
}

createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  const m = (method, re) => req.method === method && re.exec(path);
  const auth = (admin = false) => {
    const token = (req.headers.authorization || '').replace(/^Bearer /, '');
    if (!token) { fail(res, 401, 'missing_token', 'missing bearer token'); return null; }
    const c = verify(token);
    const u = c && users.get(c.sub);
    if (!u) { fail(res, 401, 'invalid_token', 'invalid or expired token'); return null; }
    if (!u.active) { fail(res, 403, 'deactivated', 'account deactivated'); return null; }
    if (admin && u.role !== 'admin') { fail(res, 403, 'admin_required', 'administrators only'); return null; }
    return u;
  };
  let g;
  if (m('GET', /^\/health$/)) return send(res, 200, { status: 'ok', ready: true, version: '0.0.0-mock', index_version: current(), index_error: null, store: 'embedded', tracking: null });
  if (m('GET', /^\/openapi\.json$/)) { res.writeHead(200, { 'content-type': 'application/json' }); return res.end(readFileSync(join(repo, 'layers/api/openapi.json'))); }
  if (m('POST', /^\/auth\/login$/)) {
    const b = await json(req);
    if (!b?.username || typeof b.password !== 'string') return fail(res, 400, 'bad_request', 'username and password required');
    if (failures >= 10) return fail(res, 429, 'too_many_attempts', 'too many failed logins', { 'retry-after': '120' });
    const u = users.get(b.username);
    if (!u || u.password !== b.password) { failures++; return fail(res, 401, 'invalid_credentials', 'wrong username or password'); }
    if (!u.active) return fail(res, 403, 'deactivated', 'account deactivated');
    const iat = Math.floor(Date.now() / 1000);
    return send(res, 200, { token: sign({ sub: u.username, role: u.role, iat, exp: iat + 3600 }), token_type: 'Bearer', expires_in: 3600 });
  }
  if (m('POST', /^\/query$/)) {
    const u = auth(); if (!u) return;
    const b = await json(req);
    if (!b?.question?.trim()) return fail(res, 422, 'empty_question', 'the question is empty');
    const a = answerFor(b.question);
    const rec = { query_id: randomUUID(), username: u.username, question: b.question, answer: a.answer, sources: a.sources, grounded: a.grounded, latency_ms: 42.5, generator: 'extractive', model: null, cluster: null, created_at: now(), feedback: null, index_version: current() };
    queries.unshift(rec);
    const done = { query_id: rec.query_id, answer: rec.answer, sources: rec.sources, latency_ms: rec.latency_ms, index_version: rec.index_version, grounded: rec.grounded, generator: rec.generator, model: null };
    if (!(req.headers.accept || '').includes('text/event-stream')) return send(res, 200, done);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    if (process.env.MOCK_STREAM === 'single') {
      // As the extractive generator does: the whole answer as one token, then done, in one write.
      res.write(`event: token\ndata: ${JSON.stringify({ text: rec.answer })}\n\nevent: done\ndata: ${JSON.stringify(done)}\n\n`);
      return res.end();
    }
    const words = rec.answer.split(/(?<= )/);
    for (let i = 0; i < words.length; i += 3) {
      res.write(`event: token\ndata: ${JSON.stringify({ text: words.slice(i, i + 3).join('') })}\n\n`);
      await new Promise((r) => setTimeout(r, 40));
    }
    res.write(`event: done\ndata: ${JSON.stringify(done)}\n\n`);
    return res.end();
  }
  if (m('GET', /^\/history$/)) {
    const u = auth(); if (!u) return;
    const q = (url.searchParams.get('q') || '').toLowerCase();
    const limit = Number(url.searchParams.get('limit') || 20);
    const start = Number(url.searchParams.get('cursor') || 0);
    const mine = queries.filter((r) => r.username === u.username && r.question.toLowerCase().includes(q));
    const items = mine.slice(start, start + limit).map(({ username, grounded, index_version, ...r }) => r);
    return send(res, 200, { items, next_cursor: start + limit < mine.length ? String(start + limit) : null });
  }
  if ((g = m('POST', /^\/queries\/([^/]+)\/feedback$/))) {
    const u = auth(); if (!u) return;
    const rec = queries.find((r) => r.query_id === decodeURIComponent(g[1]) && r.username === u.username);
    if (!rec) return fail(res, 404, 'not_found', 'no such question');
    const b = await json(req);
    if (typeof b?.useful !== 'boolean') return fail(res, 400, 'bad_request', 'useful must be a boolean');
    rec.feedback = { useful: b.useful, comment: b.comment || null, at: now() };
    return send(res, 200, { query_id: rec.query_id, ...rec.feedback });
  }
  if (m('GET', /^\/documents$/)) {
    if (!auth(true)) return;
    return send(res, 200, { documents: [...documents.values()].map(({ bytes, ...d }) => d) });
  }
  if (m('POST', /^\/documents$/)) {
    if (!auth(true)) return;
    const name = url.searchParams.get('name') || '';
    if (!/^[^/\\]+\.pdf$/i.test(name)) return fail(res, 422, 'invalid_document_name', 'the name must be a PDF file name');
    const bytes = await readBody(req);
    if (bytes.subarray(0, 5).toString() !== '%PDF-') return fail(res, 415, 'not_pdf', 'the body is not a PDF');
    await new Promise((r) => setTimeout(r, 800));
    documents.set(name, { name, status: 'indexed', reason: null, sha256: 'cd', pages: 5, chunks: 20, index_version: null, updated_at: now(), bytes });
    const version = publish();
    documents.get(name).index_version = version;
    return send(res, 200, { published: true, index_version: version, documents: [documents.get(name)].map(({ bytes: _, ...d }) => d) });
  }
  if ((g = m('GET', /^\/documents\/([^/]+)$/))) {
    if (!auth()) return;
    const d = documents.get(decodeURIComponent(g[1]));
    if (!d || d.status === 'removed') return fail(res, 404, 'not_found', 'no such document');
    const page = Number(url.searchParams.get('page') || 1);
    if (!(page >= 1 && page <= d.pages)) return fail(res, 400, 'bad_request', 'page out of range');
    res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': d.bytes.length, 'cache-control': 'private, no-store' });
    return res.end(d.bytes);
  }
  if ((g = m('DELETE', /^\/documents\/([^/]+)$/))) {
    if (!auth(true)) return;
    const d = documents.get(decodeURIComponent(g[1]));
    if (!d) return fail(res, 404, 'not_found', 'no such document');
    Object.assign(d, { status: 'removed', updated_at: now(), chunks: 0 });
    const version = publish();
    return send(res, 200, { published: true, index_version: version, documents: [(({ bytes, ...x }) => x)(d)] });
  }
  if (m('GET', /^\/admin\/users$/)) {
    if (!auth(true)) return;
    return send(res, 200, { users: [...users.values()].map(({ password, ...u }) => u) });
  }
  if (m('POST', /^\/admin\/users$/)) {
    if (!auth(true)) return;
    const b = await json(req);
    if (!b?.username || !b.password || b.password.length < 8) return fail(res, 422, 'invalid_account', 'username required, password of 8 characters or more');
    if (users.has(b.username)) return fail(res, 409, 'conflict', 'username taken');
    const u = { username: b.username, password: b.password, role: b.role === 'admin' ? 'admin' : 'user', active: true, created_at: now() };
    users.set(u.username, u);
    const { password, ...out } = u;
    return send(res, 201, out);
  }
  if ((g = m('PATCH', /^\/admin\/users\/([^/]+)$/))) {
    if (!auth(true)) return;
    const u = users.get(decodeURIComponent(g[1]));
    if (!u) return fail(res, 404, 'unknown_user', 'no such user');
    const b = await json(req);
    const admins = [...users.values()].filter((x) => x.role === 'admin' && x.active);
    const leavesNone = u.role === 'admin' && admins.length === 1 && (b.active === false || b.role === 'user');
    if (leavesNone) return fail(res, 409, 'last_admin', 'this would leave no active administrator');
    if (typeof b.active === 'boolean') u.active = b.active;
    if (b.role === 'admin' || b.role === 'user') u.role = b.role;
    const { password, ...out } = u;
    return send(res, 200, out);
  }
  if (m('GET', /^\/admin\/feedback$/)) {
    if (!auth(true)) return;
    const items = queries.filter((q) => q.feedback).map((q) => ({ query_id: q.query_id, username: q.username, question: q.question, ...q.feedback }));
    return send(res, 200, { items, next_cursor: null });
  }
  if (m('GET', /^\/index\/versions$/)) { if (!auth(true)) return; return send(res, 200, { versions }); }
  if (m('POST', /^\/index\/rollback$/)) {
    if (!auth(true)) return;
    const b = await json(req);
    if (!versions.some((v) => v.version === b?.version)) return fail(res, 404, 'not_found', 'no such version');
    versions = versions.map((v) => ({ ...v, current: v.version === b.version }));
    return send(res, 200, { version: b.version });
  }
  if (m('GET', /^\/clusters$/)) {
    if (!auth(true)) return;
    return clusterRun ? send(res, 200, clusterRun) : fail(res, 404, 'no_clustering', 'no clustering has run yet');
  }
  if (m('POST', /^\/clusters\/run$/)) {
    if (!auth(true)) return;
    await new Promise((r) => setTimeout(r, 300));
    clusterRun = {
      run: (clusterRun?.run || 0) + 1, created_at: now(), k: 3, silhouette: 0.41, inertia: 123.4,
      elbow: [{ k: 2, inertia: 150, silhouette: 0.3 }, { k: 3, inertia: 123.4, silhouette: 0.41 }],
      clusters: [
        { id: 0, size: 42, terms: ['mot', 'passe', 'réinitialiser', 'password', 'reset'], representatives: ['Comment réinitialiser mon mot de passe ?', 'How do I reset my password?', 'Mot de passe expiré'] },
        { id: 1, size: 30, terms: ['vpn', 'connexion', 'remote'], representatives: ['Comment configurer le VPN ?', 'VPN does not connect'] },
        { id: 2, size: 12, terms: ['imprimante', 'printer'], representatives: ['Ajouter une imprimante'] },
      ],
      per_day: [],
      per_week: [
        { period: '2026-W46', counts: [10, 8, 2] }, { period: '2026-W47', counts: [12, 7, 3] },
        { period: '2026-W48', counts: [9, 9, 4] }, { period: '2026-W49', counts: [11, 6, 3] },
      ],
    };
    return send(res, 200, clusterRun);
  }
  return fail(res, 404, 'not_found', 'no such route');
}).listen(port, '127.0.0.1', () => console.log(`mock API on http://127.0.0.1:${port}`));
