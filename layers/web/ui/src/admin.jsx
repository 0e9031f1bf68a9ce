// Administration: users, documents (upload with progress, removal), index versions (rollback),
// clusters (run, topics, weekly trend) and the feedback left on answers.
import { useMemo, useRef, useState } from 'preact/hooks';
import * as api from './api.js';
import { formatDate, formatNumber, useI18n } from './i18n.js';
import { ErrorBox, Loading, Notice, PageTitle, errorText, useLoad } from './ui.jsx';
import { TrendChart } from './chart.jsx';

// ---- users -----------------------------------------------------------------------------

export function UsersPage({ me }) {
  const { t, lang } = useI18n();
  const users = useLoad(() => api.listUsers(), []);
  const [notice, setNotice] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const [form, setForm] = useState({ username: '', password: '', admin: false });
  const [formError, setFormError] = useState(null);
  const [creating, setCreating] = useState(false);

  const patch = async (u, change) => {
    setBusy(u.username); setError(null); setNotice('');
    try {
      await api.patchUser(u.username, change);
      setNotice(t('users.updated', { user: u.username }));
      await users.reload();
    } catch (e) { setError(e); } finally { setBusy(null); }
  };
  const create = async (e) => {
    e.preventDefault();
    setCreating(true); setFormError(null); setNotice('');
    try {
      const u = await api.createUser(form.username.trim(), form.password, form.admin ? 'admin' : 'user');
      setNotice(t('users.created_ok', { user: u?.username || form.username }));
      setForm({ username: '', password: '', admin: false });
      await users.reload();
    } catch (err) { setFormError(err); } finally { setCreating(false); }
  };
  const list = users.data?.users || [];
  return (
    <section class="page" aria-labelledby="users-title">
      <PageTitle id="users-title">{t('users.title')}</PageTitle>
      <Notice testid="users-notice">{notice}</Notice>
      <ErrorBox error={error} testid="users-error" />
      <ErrorBox error={users.error} testid="users-load-error" />
      {users.loading && !users.data && <Loading />}
      {users.data && (list.length === 0 ? <p class="muted">{t('users.empty')}</p> : (
        <div class="table-wrap">
          <table data-testid="users-table">
            <caption class="sr-only">{t('users.title')}</caption>
            <thead><tr>
              <th scope="col">{t('users.username')}</th><th scope="col">{t('users.role')}</th>
              <th scope="col">{t('users.status')}</th><th scope="col">{t('users.created')}</th>
              <th scope="col">{t('users.actions')}</th>
            </tr></thead>
            <tbody>
              {list.map((u) => (
                <tr key={u.username} data-testid="user-row" data-username={u.username} data-active={String(u.active)} data-role={u.role}>
                  <th scope="row">{u.username} {u.username === me && <span class="muted">{t('users.you')}</span>}</th>
                  <td data-label={t('users.role')}>{u.role === 'admin' ? t('users.admin') : t('users.user')}</td>
                  <td data-label={t('users.status')}><span class={`badge ${u.active ? 'ok' : 'off'}`} data-testid="user-status">{u.active ? t('users.active') : t('users.inactive')}</span></td>
                  <td data-label={t('users.created')}>{formatDate(lang, u.created_at)}</td>
                  <td class="actions">
                    <button type="button" class="btn btn-small" disabled={busy === u.username} data-testid="user-toggle-active"
                      aria-label={`${u.active ? t('users.deactivate') : t('users.activate')} ${u.username}`}
                      onClick={() => patch(u, { active: !u.active })}>{u.active ? t('users.deactivate') : t('users.activate')}</button>
                    <button type="button" class="btn btn-small btn-quiet" disabled={busy === u.username} data-testid="user-toggle-role"
                      aria-label={`${u.role === 'admin' ? t('users.demote') : t('users.promote')} ${u.username}`}
                      onClick={() => patch(u, { role: u.role === 'admin' ? 'user' : 'admin' })}>{u.role === 'admin' ? t('users.demote') : t('users.promote')}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <form class="card form-grid" onSubmit={create} data-testid="user-create">
        <h2>{t('users.create')}</h2>
        <label for="nu-name">{t('users.username')}</label>
        <input id="nu-name" required autocomplete="off" value={form.username} onInput={(e) => setForm({ ...form, username: e.currentTarget.value })} data-testid="new-username" />
        <label for="nu-pass">{t('users.password')}</label>
        <input id="nu-pass" type="password" required minLength={8} autocomplete="new-password" aria-describedby="nu-pass-hint" value={form.password} onInput={(e) => setForm({ ...form, password: e.currentTarget.value })} data-testid="new-password" />
        <p id="nu-pass-hint" class="hint">{t('users.passwordHint')}</p>
        <label class="check"><input type="checkbox" checked={form.admin} onChange={(e) => setForm({ ...form, admin: e.currentTarget.checked })} data-testid="new-admin" /> {t('users.isAdmin')}</label>
        <button type="submit" class="btn btn-primary" disabled={creating} data-testid="new-submit">{t('users.createSubmit')}</button>
        <ErrorBox error={formError} testid="user-create-error" />
      </form>
    </section>
  );
}

// ---- documents -------------------------------------------------------------------------

const isPdf = (f) => f.type === 'application/pdf' || /\.pdf$/i.test(f.name);

function StatusBadge({ status }) {
  const { t } = useI18n();
  const label = { indexed: t('documents.indexed'), failed: t('documents.failed'), removed: t('documents.removed') }[status] || status;
  return <span class={`badge status-${status}`} data-testid="doc-status" data-status={status}>{label}</span>;
}

export function DocumentsPage() {
  const { t, lang } = useI18n();
  const docs = useLoad(() => api.listDocuments(), []);
  const [uploads, setUploads] = useState([]); // { key, name, pct, phase: sending|indexing|done|error, message }
  const [drag, setDrag] = useState(false);
  const [confirm, setConfirm] = useState(null);
  const [notice, setNotice] = useState('');
  const [error, setError] = useState(null);
  const fileInput = useRef(null);
  const seq = useRef(0);

  const update = (key, change) => setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const uploadAll = async (files) => {
    setNotice(''); setError(null);
    for (const file of files) {
      const key = ++seq.current;
      if (!isPdf(file)) {
        setUploads((l) => [...l, { key, name: file.name, pct: 0, phase: 'error', message: t('documents.notPdf', { name: file.name }) }]);
        continue;
      }
      setUploads((l) => [...l, { key, name: file.name, pct: 0, phase: 'sending' }]);
      try {
        const res = await api.uploadDocument(file, {
          onProgress: (f) => update(key, { pct: Math.round(f * 100) }),
          onSent: () => update(key, { pct: 100, phase: 'indexing' }),
        });
        const doc = res?.documents?.find((d) => d.name === file.name) || res?.documents?.[0];
        const status = doc ? (t(`documents.${doc.status}`) || doc.status) : '';
        const parts = [t('documents.done', { name: file.name, status })];
        if (doc?.reason) parts.push(doc.reason);
        parts.push(res?.published ? t('documents.published', { version: res.index_version }) : t('documents.unchanged'));
        update(key, { phase: doc?.status === 'failed' ? 'error' : 'done', message: parts.join(' ') });
      } catch (e) {
        update(key, { phase: 'error', message: t('documents.uploadFailed', { name: file.name, message: errorText(t, e) }) });
      }
      await docs.reload();
    }
    if (fileInput.current) fileInput.current.value = '';
  };

  const remove = async (name) => {
    setConfirm(null); setError(null); setNotice('');
    try {
      const res = await api.removeDocument(name);
      setNotice(t('documents.removedOk', { name, version: res?.index_version || '—' }));
      await docs.reload();
    } catch (e) { setError(e); }
  };

  const list = docs.data?.documents || [];
  return (
    <section class="page" aria-labelledby="docs-title">
      <PageTitle id="docs-title">{t('documents.title')}</PageTitle>
      <div
        class={`dropzone${drag ? ' is-over' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; setDrag(true); }}
        onDragEnter={(e) => { e.preventDefault(); setDrag(true); }}
        onDragLeave={(e) => { if (!e.currentTarget.contains(e.relatedTarget)) setDrag(false); }}
        onDrop={(e) => { e.preventDefault(); setDrag(false); uploadAll([...(e.dataTransfer?.files || [])]); }}
      >
        <h2>{t('documents.upload')}</h2>
        <p aria-hidden="true">{t('documents.drop')} — {t('documents.or')}</p>
        <label class="btn btn-primary file-label" for="doc-file">{t('documents.choose')}</label>
        <input id="doc-file" ref={fileInput} class="file-input" type="file" accept="application/pdf,.pdf" multiple
          onChange={(e) => uploadAll([...e.currentTarget.files])} data-testid="upload-input" />
        <p class="hint">{t('documents.limit')}</p>
      </div>
      {uploads.length > 0 && (
        <ul class="uploads" aria-live="polite" data-testid="uploads">
          {uploads.map((u) => (
            <li key={u.key} data-testid="upload" data-phase={u.phase} data-name={u.name}>
              {u.phase === 'sending' && (<>
                <span>{t('documents.sending', { name: u.name, pct: u.pct })}</span>
                <progress max={100} value={u.pct} aria-label={t('documents.progress', { name: u.name })} />
              </>)}
              {u.phase === 'indexing' && <span class="pulse">{t('documents.indexing', { name: u.name })}</span>}
              {(u.phase === 'done' || u.phase === 'error') && <span class={u.phase === 'error' ? 'error-text' : ''} role={u.phase === 'error' ? 'alert' : undefined}>{u.message}</span>}
            </li>
          ))}
        </ul>
      )}
      <Notice testid="documents-notice">{notice}</Notice>
      <ErrorBox error={error} testid="documents-error" />
      <ErrorBox error={docs.error} testid="documents-load-error" />
      {docs.loading && !docs.data && <Loading />}
      {docs.data && (list.length === 0 ? <p class="muted">{t('documents.empty')}</p> : (
        <div class="table-wrap">
          <table data-testid="documents-table">
            <caption class="sr-only">{t('documents.title')}</caption>
            <thead><tr>
              <th scope="col">{t('documents.name')}</th><th scope="col">{t('documents.status')}</th>
              <th scope="col" class="num">{t('documents.pages')}</th><th scope="col" class="num">{t('documents.chunks')}</th>
              <th scope="col">{t('documents.updated')}</th><th scope="col">{t('documents.actions')}</th>
            </tr></thead>
            <tbody>
              {list.map((d) => (
                <tr key={d.name} data-testid="doc-row" data-name={d.name} data-status={d.status}>
                  <th scope="row" class="wrap">{d.name}</th>
                  <td data-label={t('documents.status')}><StatusBadge status={d.status} />{d.reason && <p class="reason">{d.reason}</p>}</td>
                  <td class="num" data-label={t('documents.pages')}>{formatNumber(lang, d.pages)}</td>
                  <td class="num" data-label={t('documents.chunks')}>{formatNumber(lang, d.chunks)}</td>
                  <td data-label={t('documents.updated')}>{formatDate(lang, d.updated_at)}</td>
                  <td class="actions">
                    {d.status !== 'removed' && (confirm === d.name ? (
                      <span class="confirm" role="group" aria-label={t('documents.confirmRemove', { name: d.name })}>
                        <span>{t('documents.confirmRemove', { name: d.name })}</span>
                        <button type="button" class="btn btn-small btn-danger" onClick={() => remove(d.name)} data-testid="doc-remove-confirm">{t('documents.confirm')}</button>
                        <button type="button" class="btn btn-small btn-quiet" onClick={() => setConfirm(null)}>{t('documents.cancel')}</button>
                      </span>
                    ) : (
                      <button type="button" class="btn btn-small btn-quiet" onClick={() => setConfirm(d.name)} data-testid="doc-remove"
                        aria-label={`${t('documents.remove')} ${d.name}`}>{t('documents.remove')}</button>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

// ---- index versions --------------------------------------------------------------------

export function IndexPage({ onChanged }) {
  const { t, lang } = useI18n();
  const versions = useLoad(() => api.indexVersions(), []);
  const [confirm, setConfirm] = useState(null);
  const [notice, setNotice] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const go = async (version) => {
    setBusy(true); setConfirm(null); setError(null); setNotice('');
    try {
      const res = await api.rollback(version);
      setNotice(t('index.rolledBack', { version: res?.version || version }));
      await versions.reload();
      onChanged?.();
    } catch (e) { setError(e); } finally { setBusy(false); }
  };
  const list = versions.data?.versions || [];
  return (
    <section class="page" aria-labelledby="index-title">
      <PageTitle id="index-title">{t('index.title')}</PageTitle>
      <Notice testid="index-notice">{notice}</Notice>
      <ErrorBox error={error} testid="index-error" />
      <ErrorBox error={versions.error} testid="index-load-error" />
      {versions.loading && !versions.data && <Loading />}
      {versions.data && (list.length === 0 ? <p class="muted">{t('index.empty')}</p> : (
        <div class="table-wrap">
          <table data-testid="versions-table">
            <caption class="sr-only">{t('index.title')}</caption>
            <thead><tr>
              <th scope="col">{t('index.version')}</th><th scope="col">{t('index.created')}</th>
              <th scope="col" class="num">{t('index.documents')}</th><th scope="col" class="num">{t('index.chunks')}</th><th scope="col"><span class="sr-only">{t('documents.actions')}</span></th>
            </tr></thead>
            <tbody>
              {list.map((v) => (
                <tr key={v.version} data-testid="version-row" data-version={v.version} data-current={String(!!v.current)}>
                  <th scope="row"><code>{v.version}</code> {v.current && <span class="badge ok">{t('index.current')}</span>}</th>
                  <td data-label={t('index.created')}>{formatDate(lang, v.created_at)}</td>
                  <td class="num" data-label={t('index.documents')}>{v.documents ?? ''}</td>
                  <td class="num" data-label={t('index.chunks')}>{v.chunks ?? ''}</td>
                  <td class="actions">
                    {!v.current && (confirm === v.version ? (
                      <span class="confirm" role="group" aria-label={t('index.confirmRollback', { version: v.version })}>
                        <span>{t('index.confirmRollback', { version: v.version })}</span>
                        <button type="button" class="btn btn-small btn-danger" disabled={busy} onClick={() => go(v.version)} data-testid="rollback-confirm">{t('index.confirm')}</button>
                        <button type="button" class="btn btn-small btn-quiet" onClick={() => setConfirm(null)}>{t('documents.cancel')}</button>
                      </span>
                    ) : (
                      <button type="button" class="btn btn-small btn-quiet" onClick={() => setConfirm(v.version)} data-testid="rollback"
                        aria-label={`${t('index.rollback')} ${v.version}`}>{t('index.rollback')}</button>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

// ---- clusters --------------------------------------------------------------------------

export function ClustersPage() {
  const { t, lang } = useI18n();
  const [running, setRunning] = useState(false);
  const [runError, setRunError] = useState(null);
  const run = useLoad(async () => {
    try {
      return await api.clusters();
    } catch (e) {
      if (e.status === 404) return null; // no run yet
      throw e;
    }
  }, []);
  const [fresh, setFresh] = useState(null);
  const data = fresh || run.data;

  const runNow = async () => {
    setRunning(true); setRunError(null);
    try {
      setFresh(await api.runClusters());
    } catch (e) { setRunError(e); } finally { setRunning(false); }
  };

  const top = useMemo(() => (data?.clusters || []).slice(0, 8), [data]);
  const labels = useMemo(() => top.map((c) => (c.terms || []).slice(0, 3).join(', ') || t('clusters.topic', { n: c.id + 1 })), [top, t]);

  return (
    <section class="page" aria-labelledby="clusters-title">
      <PageTitle id="clusters-title">{t('clusters.title')}</PageTitle>
      <div class="row">
        <button type="button" class="btn btn-primary" onClick={runNow} disabled={running} data-testid="clusters-run">{running ? t('clusters.running') : t('clusters.run')}</button>
      </div>
      <ErrorBox error={runError} testid="clusters-run-error" />
      <ErrorBox error={run.error} testid="clusters-load-error" />
      {run.loading && !data && <Loading />}
      {!run.loading && !data && !run.error && <p class="muted" data-testid="clusters-none">{t('clusters.none')}</p>}
      {data && (
        <div data-testid="clusters" aria-live="polite">
          <p class="meta">{t('clusters.summary', {
            run: data.run, date: formatDate(lang, data.created_at), k: data.k,
            silhouette: formatNumber(lang, data.silhouette, { maximumFractionDigits: 2 }),
          })}</p>
          <TrendChart weeks={data.per_week || []} clusters={top} labels={labels} />
          <ol class="cluster-grid">
            {(data.clusters || []).map((c) => (
              <li key={c.id} class="card cluster" data-testid="cluster-card">
                <h2 class="cluster-title">
                  {(c.terms || []).slice(0, 3).join(', ') || t('clusters.topic', { n: c.id + 1 })}
                </h2>
                <p class="cluster-size" data-testid="cluster-size">{t('clusters.size', { n: formatNumber(lang, c.size) })}</p>
                <h3>{t('clusters.terms')}</h3>
                <ul class="terms">{(c.terms || []).map((w) => <li key={w}>{w}</li>)}</ul>
                <h3>{t('clusters.representatives')}</h3>
                <ul class="reps">{(c.representatives || []).map((q, i) => <li key={i}>{q}</li>)}</ul>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}

// ---- feedback --------------------------------------------------------------------------

export function FeedbackPage() {
  const { t, lang } = useI18n();
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const first = useLoad(async () => {
    const res = await api.adminFeedback({ limit: 20 });
    setItems(res.items || []);
    setCursor(res.next_cursor || null);
    return res;
  }, []);
  const [more, setMore] = useState({ loading: false, error: null });
  const loadMore = async () => {
    setMore({ loading: true, error: null });
    try {
      const res = await api.adminFeedback({ limit: 20, cursor });
      setItems((l) => [...l, ...(res.items || [])]);
      setCursor(res.next_cursor || null);
      setMore({ loading: false, error: null });
    } catch (e) { setMore({ loading: false, error: e }); }
  };
  return (
    <section class="page" aria-labelledby="fb-title">
      <PageTitle id="fb-title">{t('feedbackList.title')}</PageTitle>
      <ErrorBox error={first.error || more.error} testid="feedback-list-error" />
      {first.loading && !first.data && <Loading />}
      {first.data && items.length === 0 && <p class="muted">{t('feedbackList.empty')}</p>}
      {items.length > 0 && (
        <ol class="feedback-list" data-testid="feedback-list">
          {items.map((f, i) => (
            <li key={`${f.query_id}-${i}`} class="card feedback-item" data-testid="feedback-item" data-query-id={f.query_id} data-useful={String(f.useful)}>
              <p class="feedback-verdict">
                <span class={`badge ${f.useful ? 'ok' : 'off'}`}>{f.useful ? `${t('feedbackList.useful')}` : `${t('feedbackList.notUseful')}`}</span>
                {' '}<strong>{f.username}</strong>{' '}<span class="muted">{formatDate(lang, f.at)}</span>
              </p>
              <p class="feedback-question">{f.question}</p>
              {f.comment && <blockquote class="comment" data-testid="feedback-item-comment">{f.comment}</blockquote>}
            </li>
          ))}
        </ol>
      )}
      {cursor && <button type="button" class="btn" disabled={more.loading} onClick={loadMore} data-testid="feedback-more">{more.loading ? t('common.loading') : t('history.more')}</button>}
    </section>
  );
}
