// Small shared pieces: page headings that take focus, error and notice boxes, loading data.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useI18n } from './i18n.js';

// The first page shown after loading keeps the browser's focus (the skip link comes first).
let firstPage = true;

/** The page's h1; it takes focus when the user moves to another page so screen readers announce it. */
export function PageTitle({ children, id }) {
  const ref = useRef(null);
  useLayoutEffect(() => {
    if (firstPage) { firstPage = false; return; }
    ref.current?.focus({ preventScroll: true });
  }, []);
  return <h1 id={id} ref={ref} tabIndex={-1} class="page-title">{children}</h1>;
}

/** The text of an error, as the server worded it. */
export function errorText(t, err) {
  if (!err) return '';
  if (err.code === 'network') return t('common.network');
  return t('common.error', { message: err.message || String(err) });
}

export function ErrorBox({ error, testid = 'error', children }) {
  const { t } = useI18n();
  if (!error && !children) return null;
  return (
    <div class="notice notice-error" role="alert" data-testid={testid} data-code={error?.code}>
      {children ?? errorText(t, error)}
    </div>
  );
}

export function Notice({ children, testid }) {
  if (!children) return null;
  return <div class="notice notice-ok" role="status" data-testid={testid}>{children}</div>;
}

/** Loads data with `load()` now and on `reload()`; keeps the last good value while reloading. */
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const run = useCallback(async () => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === seq.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => { run(); }, [run]);
  return { ...state, reload: run };
}

export function Loading() {
  const { t } = useI18n();
  return <p class="muted" role="status">{t('common.loading')}</p>;
}
