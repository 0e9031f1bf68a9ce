// Talking to the API: the session (JWT in localStorage until its `exp`), JSON requests whose
// errors are always `{"error": {"code", "message"}}`, the streamed answer (SSE over a POST
// read with fetch) and uploads with progress (XMLHttpRequest).
import { jwtDecode } from 'jwt-decode';
import { createParser } from 'eventsource-parser';

const TOKEN_KEY = 'rag.token';

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// ---- session ---------------------------------------------------------------------------

let session = null; // { token, user, role, exp }
const listeners = new Set();
let expiryTimer = null;

function readSession(token) {
  try {
    const claims = jwtDecode(token);
    if (typeof claims.exp !== 'number') return null;
    return { token, user: String(claims.sub ?? ''), role: claims.role === 'admin' ? 'admin' : 'user', exp: claims.exp };
  } catch {
    return null;
  }
}

function emit(reason) {
  for (const fn of listeners) fn(session, reason);
}

function armExpiry() {
  clearTimeout(expiryTimer);
  if (!session) return;
  const ms = session.exp * 1000 - Date.now();
  // setTimeout overflows past ~24.8 days; tokens live an hour by default.
  expiryTimer = setTimeout(() => endSession('expired'), Math.min(Math.max(ms, 0), 2 ** 31 - 1));
}

/** The stored session, or null (an expired token is dropped with reason "expired"). */
export function loadSession() {
  let token = null;
  try { token = localStorage.getItem(TOKEN_KEY); } catch { /* storage blocked */ }
  if (!token) return { session: null, reason: null };
  const s = readSession(token);
  if (!s || s.exp * 1000 <= Date.now()) {
    try { localStorage.removeItem(TOKEN_KEY); } catch { /* */ }
    return { session: null, reason: 'expired' };
  }
  session = s;
  armExpiry();
  return { session, reason: null };
}

export function startSession(token) {
  const s = readSession(token);
  if (!s) throw new ApiError(0, 'invalid_token', 'the server sent a token that cannot be read');
  session = s;
  try { localStorage.setItem(TOKEN_KEY, token); } catch { /* */ }
  armExpiry();
  emit(null);
}

/** Ends the session; `reason` is shown on the login page ("logout", "expired", "deactivated", "rejected:…"). */
export function endSession(reason) {
  clearTimeout(expiryTimer);
  const had = session !== null;
  session = null;
  try { localStorage.removeItem(TOKEN_KEY); } catch { /* */ }
  if (had || reason) emit(reason);
}

export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// Another tab logging in or out.
window.addEventListener('storage', (e) => {
  if (e.key !== TOKEN_KEY) return;
  if (!e.newValue) endSession('logout');
  else if (!session || session.token !== e.newValue) {
    const s = readSession(e.newValue);
    if (s) { session = s; armExpiry(); emit(null); }
  }
});

// ---- requests --------------------------------------------------------------------------

async function errorFrom(res) {
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body?.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch { /* not JSON */ }
  const ra = res.headers.get('retry-after');
  return new ApiError(res.status, code, message, ra !== null && /^\d+$/.test(ra) ? Number(ra) : null);
}

/** A rejected session: any 401, or 403 "deactivated", sends the user back to the login page. */
function checkRejected(err) {
  if (!session) return;
  if (err.status === 401) endSession(`rejected:${err.message}`);
  else if (err.status === 403 && err.code === 'deactivated') endSession('deactivated');
}

function authHeaders(extra = {}) {
  const h = { ...extra };
  if (session) h.authorization = `Bearer ${session.token}`;
  return h;
}

async function send(method, path, { json, body, headers, signal, auth = true } = {}) {
  const h = auth ? authHeaders(headers) : { ...headers };
  let payload = body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: payload, signal, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', e.message || 'network error');
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (auth) checkRejected(err);
    throw err;
  }
  return res;
}

export async function api(method, path, opts) {
  const res = await send(method, path, opts);
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  return type.includes('json') ? res.json() : res.text();
}

const qs = (params) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

export const login = (username, password) =>
  api('POST', '/auth/login', { json: { username, password }, auth: false });
export const health = () =>
  fetch('/health', { cache: 'no-store' }).then(async (res) => {
    try { return await res.json(); } catch { throw new ApiError(res.status, `http_${res.status}`, res.statusText); }
  });
export const history = ({ limit = 20, cursor, q } = {}) => api('GET', `/history${qs({ limit, cursor, q })}`);
export const sendFeedback = (queryId, useful, comment) =>
  api('POST', `/queries/${encodeURIComponent(queryId)}/feedback`, { json: comment ? { useful, comment } : { useful } });
export const listUsers = () => api('GET', '/admin/users');
export const createUser = (username, password, role) => api('POST', '/admin/users', { json: { username, password, role } });
export const patchUser = (username, patch) => api('PATCH', `/admin/users/${encodeURIComponent(username)}`, { json: patch });
export const listDocuments = () => api('GET', '/documents');
export const removeDocument = (name) => api('DELETE', `/documents/${encodeURIComponent(name)}`);
export const indexVersions = () => api('GET', '/index/versions');
export const rollback = (version) => api('POST', '/index/rollback', { json: { version } });
export const clusters = () => api('GET', '/clusters');
export const runClusters = () => api('POST', '/clusters/run');
export const adminFeedback = ({ limit = 20, cursor } = {}) => api('GET', `/admin/feedback${qs({ limit, cursor })}`);

/** The PDF of a cited document, as a blob URL opened at `page` (the browser's PDF viewer). */
export async function documentUrl(name, page) {
  const res = await send('GET', `/documents/${encodeURIComponent(name)}${qs({ page })}`, { headers: { accept: 'application/pdf' } });
  const blob = await res.blob();
  const typed = blob.type === 'application/pdf' ? blob : new Blob([blob], { type: 'application/pdf' });
  return `${URL.createObjectURL(typed)}#page=${page}`;
}

/**
 * Asks a question and streams the answer: `onToken(text)` for each piece, then resolves with
 * the `done` QueryResponse. A server that answers plain JSON is taken as the `done` answer.
 */
export async function ask(question, { onToken, signal } = {}) {
  const res = await send('POST', '/query', {
    json: { question },
    headers: { accept: 'text/event-stream' },
    signal,
  });
  const type = res.headers.get('content-type') || '';
  if (!type.includes('text/event-stream')) return res.json();

  let done = null;
  let failure = null;
  const pending = [];
  const parser = createParser({
    onEvent(ev) { pending.push(ev); },
  });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const paint = () => new Promise((r) => {
    // Let the streamed text reach the screen before the final answer replaces it.
    const t = setTimeout(r, 60);
    requestAnimationFrame(() => { clearTimeout(t); setTimeout(r, 0); });
  });
  let shown = false;
  try {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (value) parser.feed(value);
      if (end) parser.feed('\n\n');
      while (pending.length) {
        const ev = pending.shift();
        let data;
        try { data = JSON.parse(ev.data); } catch { continue; }
        if (ev.event === 'token') {
          if (typeof data.text === 'string' && data.text) { onToken?.(data.text); shown = true; }
        } else if (ev.event === 'done') {
          if (shown) await paint();
          done = data;
        } else if (ev.event === 'error') {
          const e = data?.error || {};
          failure = new ApiError(500, e.code || 'stream_error', e.message || 'the answer failed');
        }
      }
      if (end || done || failure) break;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (failure) throw failure;
  if (!done) throw new ApiError(0, 'stream_cut', 'the answer stream ended without a final answer');
  return done;
}

/** Uploads a PDF with progress: `onProgress(fraction)` while sending, `onSent()` when the bytes are all out. */
export function uploadDocument(file, { onProgress, onSent } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/documents?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('content-type', 'application/pdf');
    if (session) xhr.setRequestHeader('authorization', `Bearer ${session.token}`);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress?.(e.loaded / e.total); };
    xhr.upload.onload = () => { onProgress?.(1); onSent?.(); };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network error'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'upload aborted'));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* */ }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const e = body?.error || {};
      const err = new ApiError(xhr.status, e.code || `http_${xhr.status}`, e.message || xhr.statusText || `HTTP ${xhr.status}`);
      checkRejected(err);
      reject(err);
    };
    xhr.send(file);
  });
}
