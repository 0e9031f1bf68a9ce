// Administration: users, documents (upload with progress, removal), index versions (rollback),
// clusters (run, topics, weekly trend) and the feedback left on answers.
import { useMemo, useRef, useState } from 'preact/hooks';
import * as api from './api.js';
import { formatDate, formatNumber, useI18n } from './i18n.js';
import { ErrorBox, Loading, Notice, PageTitle, errorText, useLoad } from './ui.jsx';
import { TrendChart } from './chart.jsx';

// ---- the pages' frame -------------------------------------------------------------------

/**
 * An admin page: its titled section, what comes before the messages (`head`), the notice of the
 * last action (when `notice` is `{ text, testid }`), one error box per `[error, testid]` of
 * `errors`, "loading" while `loading`, then the page's content.
 */
function AdminPage({ id, title, head, notice, errors = [], loading, children }) {
  return (
    <section class="page" aria-labelledby={id}>
      <PageTitle id={id}>{title}</PageTitle>
      {head}
      {notice && <Notice testid={notice.testid}>{notice.text}</Notice>}
      {errors.map(([error, testid]) => <ErrorBox key={testid} error={error} testid={testid} />)}
      {loading && <Loading />}
      {children}
    </section>
  );
}

/**
 * The table of a loaded list: nothing before the first load, `empty` when there are no `rows`, else
 * the table with its caption for screen readers, its column headers (`columns`: a label, or
 * `{ label, num, hidden }` for a numeric column or one whose header only screen readers read) and
 * `row(item)` for each row.
 */
function AdminTable({ columns, loaded, rows, row, empty, testid, caption }) {
  if (!loaded) return null;
  const list = rows || [];
  if (list.length === 0) return <p class="muted">{empty}</p>;
  return (
    <div class="table-wrap">
      <table data-testid={testid}>
        <caption class="sr-only">{caption}</caption>
        <thead><tr>
          {columns.map((c, i) => {
            const { label, num, hidden } = typeof c === 'string' ? { label: c } : c;
            return <th key={i} scope="col" class={num ? 'num' : undefined}>{hidden ? <span class="sr-only">{label}</span> : label}</th>;
          })}
        </tr></thead>
        <tbody>{list.map(row)}</tbody>
      </table>
    </div>
  );
}

/**
 * A row's action that asks first: its button (`action`, read with the row's `name`), then the
 * `question` with "confirm" (`confirm`, testid `<testid>-confirm`) and "cancel" while `open`.
 */
function ConfirmAction({ open, name, action, question, confirm, testid, busy, onOpen, onConfirm, onCancel }) {
  const { t } = useI18n();
  return open ? (
    <span class="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button type="button" class="btn btn-small btn-danger" disabled={busy} onClick={onConfirm} data-testid={`${testid}-confirm`}>{confirm}</button>
      <button type="button" class="btn btn-small btn-quiet" onClick={onCancel}>{t('documents.cancel')}</button>
    </span>
  ) : (
    <button type="button" class="btn btn-small btn-quiet" onClick={onOpen} data-testid={testid}
      aria-label={`${action} ${name}`}>{action}</button>
  );
}

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
  return (
    <AdminPage id="users-title" title={t('users.title')} notice={{ text: notice, testid: 'users-notice' }}
      errors={[[error, 'users-error'], [users.error, 'users-load-error']]} loading={users.loading && !users.data}>
      <AdminTable columns={[t('users.username'), t('users.role'), t('users.status'), t('users.created'), t('users.actions')]}
        loaded={users.data} rows={users.data?.users} empty={t('users.empty')} testid="users-table" caption={t('users.title')} row={(u) => (
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
        )} />
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
    </AdminPage>
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

  const upload = (<>
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
  </>);
  return (
    <AdminPage id="docs-title" title={t('documents.title')} head={upload} notice={{ text: notice, testid: 'documents-notice' }}
      errors={[[error, 'documents-error'], [docs.error, 'documents-load-error']]} loading={docs.loading && !docs.data}>
      <AdminTable columns={[t('documents.name'), t('documents.status'), { label: t('documents.pages'), num: true },
          { label: t('documents.chunks'), num: true }, t('documents.updated'), t('documents.actions')]}
        loaded={docs.data} rows={docs.data?.documents} empty={t('documents.empty')} testid="documents-table" caption={t('documents.title')} row={(d) => (
          <tr key={d.name} data-testid="doc-row" data-name={d.name} data-status={d.status}>
            <th scope="row" class="wrap">{d.name}</th>
            <td data-label={t('documents.status')}><StatusBadge status={d.status} />{d.reason && <p class="reason">{d.reason}</p>}</td>
            <td class="num" data-label={t('documents.pages')}>{formatNumber(lang, d.pages)}</td>
            <td class="num" data-label={t('documents.chunks')}>{formatNumber(lang, d.chunks)}</td>
            <td data-label={t('documents.updated')}>{formatDate(lang, d.updated_at)}</td>
            <td class="actions">
              {d.status !== 'removed' && (
                <ConfirmAction open={confirm === d.name} name={d.name} action={t('documents.remove')}
                  question={t('documents.confirmRemove', { name: d.name })} confirm={t('documents.confirm')} testid="doc-remove"
                  onOpen={() => setConfirm(d.name)} onConfirm={() => remove(d.name)} onCancel={() => setConfirm(null)} />
              )}
            </td>
          </tr>
        )} />
    </AdminPage>
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
  return (
    <AdminPage id="index-title" title={t('index.title')} notice={{ text: notice, testid: 'index-notice' }}
      errors={[[error, 'index-error'], [versions.error, 'index-load-error']]} loading={versions.loading && !versions.data}>
      <AdminTable columns={[t('index.version'), t('index.created'), { label: t('index.documents'), num: true },
          { label: t('index.chunks'), num: true }, { label: t('documents.actions'), hidden: true }]}
        loaded={versions.data} rows={versions.data?.versions} empty={t('index.empty')} testid="versions-table" caption={t('index.title')} row={(v) => (
          <tr key={v.version} data-testid="version-row" data-version={v.version} data-current={String(!!v.current)}>
            <th scope="row"><code>{v.version}</code> {v.current && <span class="badge ok">{t('index.current')}</span>}</th>
            <td data-label={t('index.created')}>{formatDate(lang, v.created_at)}</td>
            <td class="num" data-label={t('index.documents')}>{v.documents ?? ''}</td>
            <td class="num" data-label={t('index.chunks')}>{v.chunks ?? ''}</td>
            <td class="actions">
              {!v.current && (
                <ConfirmAction open={confirm === v.version} name={v.version} action={t('index.rollback')}
                  question={t('index.confirmRollback', { version: v.version })} confirm={t('index.confirm')} testid="rollback" busy={busy}
                  onOpen={() => setConfirm(v.version)} onConfirm={() => go(v.version)} onCancel={() => setConfirm(null)} />
              )}
            </td>
          </tr>
        )} />
    </AdminPage>
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
    <AdminPage id="clusters-title" title={t('clusters.title')} head={(
      <div class="row">
        <button type="button" class="btn btn-primary" onClick={runNow} disabled={running} data-testid="clusters-run">{running ? t('clusters.running') : t('clusters.run')}</button>
      </div>
    )} errors={[[runError, 'clusters-run-error'], [run.error, 'clusters-load-error']]} loading={run.loading && !data}>
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
    </AdminPage>
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
    <AdminPage id="fb-title" title={t('feedbackList.title')} errors={[[first.error || more.error, 'feedback-list-error']]}
      loading={first.loading && !first.data}>
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
    </AdminPage>
  );
}
