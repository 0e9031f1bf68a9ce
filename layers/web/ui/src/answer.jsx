// An answer: its text rendered from Markdown (sanitised), `[n]` citations as buttons that open
// the cited source in a panel, the sources list, and feedback.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { marked } from 'marked';
import DOMPurify from 'dompurify';
import { documentUrl, sendFeedback } from './api.js';
import { formatDate, formatNumber, useI18n } from './i18n.js';
import { ErrorBox, errorText } from './ui.jsx';

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('rel', 'noopener noreferrer');
    node.setAttribute('target', '_blank');
  }
});

/** Markdown → safe HTML with each `[n]` (n a source) turned into a citation button. */
export function answerHtml(text, sources, t) {
  const html = DOMPurify.sanitize(marked.parse(text || '', { async: false, gfm: true, breaks: false }), {
    FORBID_TAGS: ['img', 'style', 'form', 'input', 'button', 'iframe'],
  });
  const root = document.createElement('div');
  root.innerHTML = html;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (/\[\d+\]/.test(n.nodeValue)) nodes.push(n);
  for (const node of nodes) {
    if (node.parentElement?.closest('a, code, pre')) continue;
    const parts = node.nodeValue.split(/(\[\d+\])/);
    const frag = document.createDocumentFragment();
    for (const part of parts) {
      const m = /^\[(\d+)\]$/.exec(part);
      const n = m ? Number(m[1]) : 0;
      if (m && n >= 1 && n <= sources.length) {
        const s = sources[n - 1];
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'cite';
        b.dataset.cite = String(n);
        b.dataset.testid = 'citation';
        b.setAttribute('aria-label', t('source.show', { n, document: s.document, page: s.page }));
        b.textContent = `[${n}]`;
        frag.appendChild(b);
      } else if (part) {
        frag.appendChild(document.createTextNode(part));
      }
    }
    node.replaceWith(frag);
  }
  return root.innerHTML;
}

export function scorePercent(lang, score) {
  return formatNumber(lang, Math.max(0, Math.min(1, Number(score) || 0)), { style: 'percent', maximumFractionDigits: 0 });
}

/** Opens the cited PDF at its page in a new tab (fetched with the token, shown from a blob URL). */
async function openPdf(source, setLink) {
  // Open the tab now, while the click still counts as the user's, then point it at the PDF.
  const tab = window.open('', '_blank');
  try {
    const url = await documentUrl(source.document, source.page);
    if (tab && !tab.closed) {
      tab.location.href = url;
    } else {
      setLink(url);
    }
  } catch (e) {
    if (tab && !tab.closed) tab.close();
    throw e;
  }
}

export function SourcePanel({ source, n, onClose }) {
  const { t, lang } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [link, setLink] = useState(null);
  const ref = useRef(null);
  useEffect(() => { setError(null); setLink(null); ref.current?.focus(); }, [source, n]);
  const onKey = (e) => { if (e.key === 'Escape') onClose(); };
  return (
    <aside class="source-panel" aria-labelledby="source-title" data-testid="source-panel" ref={ref} tabIndex={-1} onKeyDown={onKey}>
      <div class="source-head">
        <h3 id="source-title">{t('source.title', { n })}</h3>
        <button type="button" class="btn btn-quiet" onClick={onClose} data-testid="source-close">{t('source.close')}</button>
      </div>
      <dl class="source-meta">
        <div><dt>{t('source.document')}</dt><dd data-testid="source-document">{source.document}</dd></div>
        <div><dt>{t('source.page')}</dt><dd data-testid="source-page">{source.page}</dd></div>
        <div><dt>{t('source.score')}</dt><dd data-testid="source-score">{scorePercent(lang, source.score)}</dd></div>
      </dl>
      <h4 class="sr-only">{t('source.excerpt')}</h4>
      <blockquote class="excerpt" data-testid="source-excerpt">{source.excerpt}</blockquote>
      <button
        type="button"
        class="btn"
        data-testid="open-pdf"
        disabled={busy}
        onClick={async () => {
          setBusy(true); setError(null); setLink(null);
          try { await openPdf(source, setLink); } catch (e) { setError(e); } finally { setBusy(false); }
        }}
      >
        {busy ? t('source.opening') : t('source.open')}
      </button>
      {link && (
        <p role="status">
          {t('source.popupBlocked')}{' '}
          <a href={link} target="_blank" rel="noopener" data-testid="pdf-link">{t('source.openLink', { document: source.document, page: source.page })}</a>
        </p>
      )}
      <ErrorBox error={error} testid="pdf-error" />
    </aside>
  );
}

export function SourceList({ sources, onShow, selected, heading }) {
  const { t, lang } = useI18n();
  if (!sources?.length) return <p class="muted">{t('ask.noSources')}</p>;
  return (
    <section class="sources" aria-label={heading}>
      <h3>{heading}</h3>
      <ol class="source-list">
        {sources.map((s, i) => (
          <li key={i}>
            <button
              type="button"
              class={`source-item${selected === i + 1 ? ' is-selected' : ''}`}
              aria-pressed={selected === i + 1}
              data-testid="source-item"
              onClick={(e) => onShow(i + 1, e.currentTarget)}
            >
              <span class="source-num">[{i + 1}]</span>
              <span class="source-doc">{s.document}</span>
              <span class="source-page">p. {s.page}</span>
              <span class="source-score">{scorePercent(lang, s.score)}</span>
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Useful / not useful with an optional comment, posted to /queries/{id}/feedback. */
export function Feedback({ queryId, initial }) {
  const { t, lang } = useI18n();
  const [given, setGiven] = useState(initial || null);
  const [editing, setEditing] = useState(!initial);
  const [useful, setUseful] = useState(initial ? initial.useful : null);
  const [comment, setComment] = useState(initial?.comment || '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [thanks, setThanks] = useState(false);

  if (!editing && given) {
    return (
      <div class="feedback feedback-done" data-testid="feedback-given">
        {thanks && <p role="status" data-testid="feedback-thanks" class="thanks">{t('feedback.thanks')}</p>}
        <p>
          {t('feedback.given', { verdict: given.useful ? t('feedback.useful') : t('feedback.notUseful') })}
          {given.at && <span class="muted"> · {formatDate(lang, given.at)}</span>}
        </p>
        {given.comment && <blockquote class="comment">{given.comment}</blockquote>}
        <button type="button" class="btn btn-quiet" onClick={() => { setEditing(true); setThanks(false); }}>{t('feedback.change')}</button>
      </div>
    );
  }
  const submit = async (e) => {
    e.preventDefault();
    if (useful === null) return;
    setBusy(true); setError(null);
    try {
      const res = await sendFeedback(queryId, useful, comment.trim() || undefined);
      setGiven({ useful: res?.useful ?? useful, comment: res?.comment ?? (comment.trim() || null), at: res?.at });
      setEditing(false);
      setThanks(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const id = `fb-${queryId}`;
  return (
    <form class="feedback" onSubmit={submit} data-testid="feedback">
      <fieldset>
        <legend>{t('feedback.question')}</legend>
        <div class="row">
          <button type="button" class={`btn btn-toggle${useful === true ? ' is-on' : ''}`} aria-pressed={useful === true} onClick={() => setUseful(true)} data-testid="feedback-useful">{t('feedback.useful')}</button>
          <button type="button" class={`btn btn-toggle${useful === false ? ' is-on' : ''}`} aria-pressed={useful === false} onClick={() => setUseful(false)} data-testid="feedback-not-useful">{t('feedback.notUseful')}</button>
        </div>
        {useful !== null && (
          <>
            <label for={`${id}-comment`}>{t('feedback.comment')}</label>
            <textarea id={`${id}-comment`} rows={2} maxLength={1000} value={comment} aria-describedby={`${id}-hint`}
              onInput={(e) => setComment(e.currentTarget.value)} data-testid="feedback-comment" />
            <p id={`${id}-hint`} class="hint">{t('feedback.commentHint')}</p>
            <button type="submit" class="btn" disabled={busy} data-testid="feedback-submit">{busy ? t('feedback.sending') : t('feedback.send')}</button>
          </>
        )}
      </fieldset>
      <ErrorBox error={error} testid="feedback-error" />
    </form>
  );
}

/**
 * The whole answer block. `result` is a QueryResponse or a history item; while `streaming`,
 * `text` is what has arrived so far.
 */
export function AnswerView({ result, streaming = false, text = '', feedback, showFeedback = true, headingLevel = 2 }) {
  const { t } = useI18n();
  const [selected, setSelected] = useState(null);
  const trigger = useRef(null); // what opened the source panel: focus goes back there on close
  const show = (n, from) => { trigger.current = from || null; setSelected(n); };
  const close = () => { setSelected(null); const el = trigger.current; if (el?.isConnected) el.focus(); };
  const sources = result?.sources || [];
  const body = streaming ? text : result?.answer || '';
  const html = useMemo(() => (streaming ? null : answerHtml(body, sources, t)), [streaming, body, sources, t]);
  useEffect(() => setSelected(null), [result?.query_id]);
  const grounded = result ? result.grounded !== false : true;
  const H = `h${headingLevel}`;
  const onClick = (e) => {
    const b = e.target.closest?.('[data-cite]');
    if (b) show(Number(b.dataset.cite), b);
  };
  return (
    <div class="answer-block" data-testid="answer-block" data-grounded={String(grounded)}>
      <H class="sr-only">{t('ask.answer')}</H>
      {!streaming && result && !grounded && (
        <div class="not-grounded" data-testid="not-grounded">
          <strong>{t('ask.notGrounded')}</strong>
          <p>{t('ask.notGroundedHelp')}</p>
        </div>
      )}
      <div
        class={`answer${streaming ? ' is-streaming' : ''}`}
        data-testid="answer"
        data-streaming={String(streaming)}
        aria-busy={streaming ? 'true' : 'false'}
        onClick={onClick}
      >
        {streaming ? <p class="stream-text">{body}<span class="caret" aria-hidden="true" /></p> : <div dangerouslySetInnerHTML={{ __html: html }} />}
      </div>
      {!streaming && result && (
        <>
          <p class="meta" data-testid="answer-meta">
            {result.model ? t('ask.generatorModel', { generator: result.generator, model: result.model }) : t('ask.generator', { generator: result.generator || '?' })}
            {typeof result.latency_ms === 'number' && <> · {t('ask.latency', { ms: Math.round(result.latency_ms) })}</>}
            {result.index_version && <> · {t('ask.indexVersion', { version: result.index_version.slice(0, 12) })}</>}
          </p>
          <div class="answer-grid">
            <SourceList sources={sources} selected={selected} onShow={show} heading={grounded ? t('ask.sources') : t('ask.closest')} />
            {selected && sources[selected - 1] && (
              <SourcePanel source={sources[selected - 1]} n={selected} onClose={close} />
            )}
          </div>
          {showFeedback && result.query_id && <Feedback queryId={result.query_id} initial={feedback} />}
        </>
      )}
    </div>
  );
}
