// Ask: the question box and the answer streaming in, then the final answer with its sources.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ask } from './api.js';
import { useI18n } from './i18n.js';
import { AnswerView } from './answer.jsx';
import { ErrorBox, PageTitle } from './ui.jsx';

const MAX = 1000;

export function AskPage({ initialQuestion = '' }) {
  const { t } = useI18n();
  const [question, setQuestion] = useState(initialQuestion);
  const [phase, setPhase] = useState('idle'); // idle | waiting | streaming | done | error | stopped
  const [text, setText] = useState('');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [asked, setAsked] = useState('');
  const controller = useRef(null);
  const input = useRef(null);

  useEffect(() => () => controller.current?.abort(), []);

  const submit = async (e) => {
    e?.preventDefault();
    const q = question.trim();
    if (!q) { setError({ code: 'empty', message: t('ask.empty') }); input.current?.focus(); return; }
    if ([...q].length > MAX) { setError({ code: 'too_long', message: t('ask.tooLong') }); return; }
    controller.current?.abort();
    const ctl = new AbortController();
    controller.current = ctl;
    setAsked(q); setText(''); setResult(null); setError(null); setPhase('waiting');
    let acc = '';
    try {
      const done = await ask(q, {
        signal: ctl.signal,
        onToken: (piece) => {
          if (ctl.signal.aborted) return;
          acc += piece;
          setText(acc);
          setPhase('streaming');
        },
      });
      if (ctl.signal.aborted) return;
      setResult(done);
      setPhase('done');
    } catch (err) {
      if (err.name === 'AbortError') { setPhase('stopped'); return; }
      setError(err);
      setPhase('error');
    }
  };

  const busy = phase === 'waiting' || phase === 'streaming';
  const count = [...question].length;
  return (
    <section class="page page-ask" aria-labelledby="ask-title">
      <PageTitle id="ask-title">{t('ask.title')}</PageTitle>
      <form class="ask-form" onSubmit={submit} data-testid="ask-form">
        <label for="question">{t('ask.label')}</label>
        <textarea
          id="question"
          ref={input}
          rows={3}
          value={question}
          aria-describedby="question-hint"
          aria-invalid={count > MAX ? 'true' : undefined}
          onInput={(e) => setQuestion(e.currentTarget.value)}
          onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit(e); }}
          data-testid="question"
        />
        <p id="question-hint" class={`hint${count > MAX ? ' too-long' : ''}`}>{t('ask.hint')} <span class="count">{count} / {MAX}</span></p>
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="ask-submit">{t('ask.submit')}</button>
          {busy && <button type="button" class="btn btn-quiet" onClick={() => controller.current?.abort()} data-testid="ask-stop">{t('ask.stop')}</button>}
        </div>
        {phase === 'idle' && (
          <p class="examples">
            {t('ask.examples')}{' '}
            {[t('ask.example1'), t('ask.example2')].map((ex) => (
              <button type="button" class="link-button" key={ex} onClick={() => { setQuestion(ex); input.current?.focus(); }}>{ex}</button>
            ))}
          </p>
        )}
      </form>
      <ErrorBox error={error} testid="ask-error" />
      <div class="answer-region" aria-live="polite" data-testid="answer-region">
        {phase === 'waiting' && <p class="muted pulse" data-testid="ask-waiting">{t('ask.waiting')}</p>}
        {phase === 'stopped' && <p class="muted">{t('ask.stopped')}</p>}
        {(phase === 'streaming' || phase === 'done') && (
          <article class="card" aria-label={asked}>
            <p class="asked">{asked}</p>
            {phase === 'streaming' && <p class="sr-only">{t('ask.streaming')}</p>}
            <AnswerView result={result} streaming={phase === 'streaming'} text={text} />
          </article>
        )}
      </div>
    </section>
  );
}
