// History: my questions, newest first, searchable, paged with the cursor; each one reopens.
import { useEffect, useRef, useState } from 'preact/hooks';
import { history } from './api.js';
import { formatDate, formatRelative, useI18n } from './i18n.js';
import { AnswerView } from './answer.jsx';
import { ErrorBox, PageTitle } from './ui.jsx';
import { navigate } from './router.js';

const PAGE = 20;

function HistoryItem({ item, open, onToggle }) {
  const { t, lang } = useI18n();
  const id = `h-${item.query_id}`;
  const fb = item.feedback;
  return (
    <li class="history-item" data-testid="history-item" data-query-id={item.query_id}>
      <div class="history-head">
        <button type="button" class="history-toggle" aria-expanded={open} aria-controls={id} onClick={onToggle} data-testid="history-toggle">
          <span class="history-question">{item.question}</span>
          <span class="sr-only">: {open ? t('history.hide') : t('history.show')}</span>
        </button>
        <span class="history-when muted">
          <time datetime={item.created_at} title={formatDate(lang, item.created_at)}>{formatRelative(lang, item.created_at)}</time>
          {fb && <span class="badge" data-testid="history-feedback">{fb.useful ? `${t('feedback.useful')}` : `${t('feedback.notUseful')}`}</span>}
        </span>
      </div>
      {open && (
        <div id={id} class="history-body" data-testid="history-answer">
          <AnswerView result={item} feedback={fb || undefined} />
          <button type="button" class="btn btn-quiet" onClick={() => navigate('/ask', { q: item.question })}>{t('history.askAgain')}</button>
        </div>
      )}
    </li>
  );
}

export function HistoryPage() {
  const { t } = useI18n();
  const [query, setQuery] = useState('');
  const [applied, setApplied] = useState('');
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const [open, setOpen] = useState(() => new Set());
  const seq = useRef(0);

  const load = async (q, after) => {
    const mine = ++seq.current;
    setLoading(true); setError(null);
    try {
      const res = await history({ limit: PAGE, cursor: after || undefined, q: q || undefined });
      if (mine !== seq.current) return;
      setItems((prev) => (after ? [...prev, ...res.items] : res.items));
      setCursor(res.next_cursor || null);
    } catch (e) {
      if (mine === seq.current) setError(e);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  };

  useEffect(() => { load(applied, null); setOpen(new Set()); }, [applied]);
  // Search as one types, a little after the last key.
  useEffect(() => {
    const h = setTimeout(() => setApplied(query.trim()), 350);
    return () => clearTimeout(h);
  }, [query]);

  const toggle = (id) => setOpen((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id); else n.add(id);
    return n;
  });

  return (
    <section class="page page-history" aria-labelledby="history-title">
      <PageTitle id="history-title">{t('history.title')}</PageTitle>
      <form role="search" class="search" onSubmit={(e) => { e.preventDefault(); setApplied(query.trim()); }}>
        <label for="history-q">{t('history.search')}</label>
        <div class="row">
          <input id="history-q" type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} data-testid="history-search" />
          <button type="submit" class="btn" data-testid="history-search-submit">{t('history.searchButton')}</button>
          {query && <button type="button" class="btn btn-quiet" onClick={() => { setQuery(''); setApplied(''); }}>{t('history.clear')}</button>}
        </div>
      </form>
      <ErrorBox error={error} testid="history-error" />
      <div aria-live="polite" class="sr-only">{!loading && t('history.count', { n: items.length })}</div>
      {!loading && !error && items.length === 0 && (
        <p class="muted" data-testid="history-empty">{applied ? t('history.noMatch', { q: applied }) : t('history.empty')}</p>
      )}
      <ol class="history-list" data-testid="history-list" data-loading={String(loading)}>
        {items.map((it) => <HistoryItem key={it.query_id} item={it} open={open.has(it.query_id)} onToggle={() => toggle(it.query_id)} />)}
      </ol>
      {loading && <p class="muted" role="status">{t('history.loading')}</p>}
      {!loading && cursor && (
        <button type="button" class="btn" onClick={() => load(applied, cursor)} data-testid="history-more">{t('history.more')}</button>
      )}
    </section>
  );
}
