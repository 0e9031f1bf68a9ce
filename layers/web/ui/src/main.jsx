// The page: session, language, hash routes, the header with navigation, the health strip.
import { render } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useState } from 'preact/hooks';
import { endSession, health, loadSession, onSession } from './api.js';
import { I18n, LANGS, initialLang, makeT, useI18n } from './i18n.js';
import { navigate, useRoute } from './router.js';
import { LoginPage } from './login.jsx';
import { AskPage } from './ask.jsx';
import { HistoryPage } from './history.jsx';
import { ClustersPage, DocumentsPage, FeedbackPage, IndexPage, UsersPage } from './admin.jsx';
import { PageTitle } from './ui.jsx';

const ADMIN_PAGES = [
  ['/admin/users', 'nav.users'],
  ['/admin/documents', 'nav.documents'],
  ['/admin/index', 'nav.index'],
  ['/admin/clusters', 'nav.clusters'],
  ['/admin/feedback', 'nav.feedback'],
];

function StatusStrip({ refresh }) {
  const { t } = useI18n();
  const [state, setState] = useState({ h: null, error: false });
  useEffect(() => {
    let alive = true;
    const poll = async () => {
      try {
        const h = await health();
        if (alive) setState({ h, error: false });
      } catch {
        if (alive) setState({ h: null, error: true });
      }
    };
    poll();
    const timer = setInterval(poll, 30000);
    return () => { alive = false; clearInterval(timer); };
  }, [refresh]);
  const { h, error } = state;
  const ok = h?.status === 'ok';
  return (
    <footer class="status-strip" aria-label={t('status.label')} data-testid="status-strip" data-status={h?.status || (error ? 'unreachable' : 'unknown')}>
      <span class={`dot ${ok ? 'ok' : error || h ? 'bad' : ''}`} aria-hidden="true" />
      {error && <span>{t('status.unreachable')}</span>}
      {h && (<>
        <span data-testid="status-service">{t('status.service', { status: h.status })}</span>
        <span data-testid="status-index">{h.index_version ? t('status.index', { version: h.index_version.slice(0, 12) }) : t('status.noIndex')}</span>
        <span data-testid="status-store">{t('status.store', { store: h.store })}</span>
        {h.version && <span class="muted">v{h.version}</span>}
        {h.index_error && <span class="error-text">{t('status.indexError', { error: h.index_error })}</span>}
      </>)}
    </footer>
  );
}

function LangSwitch() {
  const { t, lang, setLang } = useI18n();
  return (
    <div class="lang-switch" role="group" aria-label={t('lang.label')}>
      {LANGS.map((l) => (
        <button key={l} type="button" lang={l} class={`btn btn-small btn-quiet${l === lang ? ' is-on' : ''}`} aria-pressed={l === lang}
          onClick={() => setLang(l)} data-testid={`lang-${l}`}>{t(`lang.${l}`)}</button>
      ))}
    </div>
  );
}

function Header({ session, path }) {
  const { t } = useI18n();
  const link = (to, key, testid) => (
    <li><a href={`#${to}`} aria-current={path === to ? 'page' : undefined} data-testid={testid}>{t(key)}</a></li>
  );
  return (
    <header class="top">
      <div class="top-row">
        <a class="brand" href={session ? '#/ask' : '#/login'}>{t('app.title')}</a>
        <div class="top-tools">
          <LangSwitch />
          {session && (<>
            <span class="who" data-testid="who">{t('nav.signedInAs', { user: session.user })}{session.role === 'admin' ? ` · ${t('nav.roleAdmin')}` : ''}</span>
            <button type="button" class="btn btn-small" onClick={() => endSession('logout')} data-testid="logout">{t('nav.logout')}</button>
          </>)}
        </div>
      </div>
      {session && (
        <nav aria-label={t('nav.label')}>
          <ul class="nav">
            {link('/ask', 'nav.ask', 'nav-ask')}
            {link('/history', 'nav.history', 'nav-history')}
            {session.role === 'admin' && ADMIN_PAGES.map(([to, key]) => link(to, key, `nav-${to.split('/').pop()}`))}
            <li><a href="/docs" data-testid="nav-docs">{t('nav.docs')}</a></li>
          </ul>
        </nav>
      )}
    </header>
  );
}

function Message({ text }) {
  return (
    <section class="page"><PageTitle>{text}</PageTitle></section>
  );
}

function App() {
  const [lang, setLangState] = useState(initialLang);
  const [{ session, reason }, setAuth] = useState(() => loadSession());
  const [healthTick, setHealthTick] = useState(0);
  const route = useRoute();
  const t = useMemo(() => makeT(lang), [lang]);
  const setLang = (l) => {
    setLangState(l);
    try { localStorage.setItem('rag.lang', l); } catch { /* */ }
  };

  useLayoutEffect(() => {
    document.documentElement.lang = lang;
    document.title = t('app.title');
  }, [lang, t]);

  useEffect(() => onSession((s, why) => {
    setAuth({ session: s, reason: why });
    if (!s) navigate('/login');
    else if (parseLogin()) navigate('/ask');
  }), []);

  // Where to go: the login page without a session, the ask page by default.
  const path = route.path;
  useEffect(() => {
    if (!session && path !== '/login') navigate('/login');
    else if (session && (path === '/' || path === '/login')) navigate('/ask');
  }, [session, path]);

  let page;
  if (!session) page = <LoginPage reason={reason} />;
  else if (path === '/ask') page = <AskPage key={route.params.toString()} initialQuestion={route.params.get('q') || ''} />;
  else if (path === '/history') page = <HistoryPage />;
  else if (path.startsWith('/admin/') && session.role !== 'admin') page = <Message text={t('common.adminOnly')} />;
  else if (path === '/admin/users') page = <UsersPage me={session.user} />;
  else if (path === '/admin/documents') page = <DocumentsPage />;
  else if (path === '/admin/index') page = <IndexPage onChanged={() => setHealthTick((n) => n + 1)} />;
  else if (path === '/admin/clusters') page = <ClustersPage />;
  else if (path === '/admin/feedback') page = <FeedbackPage />;
  else if (path === '/' || path === '/login') page = null;
  else page = <Message text={t('common.notFound')} />;

  const skip = (e) => {
    e.preventDefault();
    const main = document.getElementById('main');
    main?.focus();
    main?.scrollIntoView();
  };

  return (
    <I18n.Provider value={{ lang, t, setLang }}>
      <a class="skip-link" href="#main" onClick={skip}>{t('app.skip')}</a>
      <Header session={session} path={path} />
      <main id="main" tabIndex={-1} data-testid="main" data-route={session ? path : '/login'}>
        {page}
      </main>
      <StatusStrip refresh={healthTick} />
    </I18n.Provider>
  );
}

function parseLogin() {
  return (location.hash.replace(/^#/, '') || '/') === '/login' || location.hash === '';
}

render(<App />, document.getElementById('app'));
