// Sign in: errors worded per code (wrong password, deactivated, too many attempts with the wait).
import { useEffect, useRef, useState } from 'preact/hooks';
import { login, startSession } from './api.js';
import { formatWait, useI18n } from './i18n.js';
import { PageTitle, errorText } from './ui.jsx';

export function LoginPage({ reason }) {
  const { t, lang } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [until, setUntil] = useState(null); // retry allowed at (ms)
  const [, tick] = useState(0);
  const user = useRef(null);

  useEffect(() => {
    if (!until) return undefined;
    const h = setInterval(() => { if (Date.now() >= until) setUntil(null); tick((n) => n + 1); }, 1000);
    return () => clearInterval(h);
  }, [until]);

  const message = (() => {
    if (!error) return '';
    switch (error.code) {
      case 'invalid_credentials': return t('login.invalid');
      case 'deactivated': return t('login.deactivated');
      case 'too_many_attempts': {
        const left = until ? Math.max(0, (until - Date.now()) / 1000) : null;
        return left ? t('login.tooMany', { wait: formatWait(lang, left) }) : t('login.tooManyNoWait');
      }
      default: return errorText(t, error);
    }
  })();

  const reasonText = (() => {
    if (!reason) return '';
    if (reason === 'expired') return t('login.expired');
    if (reason === 'deactivated') return t('login.deactivatedSession');
    if (reason === 'logout') return t('login.loggedOut');
    if (reason.startsWith('rejected:')) return t('login.rejected', { message: reason.slice(9) });
    return '';
  })();

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const res = await login(username.trim(), password);
      startSession(res.token);
    } catch (err) {
      setError(err);
      if (err.code === 'too_many_attempts' && err.retryAfter) setUntil(Date.now() + err.retryAfter * 1000);
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="page page-login" aria-labelledby="login-title">
      <PageTitle id="login-title">{t('login.title')}</PageTitle>
      <p class="intro">{t('login.intro')}</p>
      {reasonText && <div class="notice notice-info" role="status" data-testid="login-message" data-reason={reason}>{reasonText}</div>}
      <form class="card form-grid" onSubmit={submit} data-testid="login-form" aria-describedby={error ? 'login-error' : undefined}>
        <label for="login-user">{t('login.username')}</label>
        <input id="login-user" ref={user} name="username" autocomplete="username" required value={username}
          onInput={(e) => setUsername(e.currentTarget.value)} data-testid="login-username" />
        <label for="login-pass">{t('login.password')}</label>
        <input id="login-pass" name="password" type="password" autocomplete="current-password" required value={password}
          onInput={(e) => setPassword(e.currentTarget.value)} data-testid="login-password" />
        <button type="submit" class="btn btn-primary" disabled={busy || !!until} data-testid="login-submit">{busy ? t('login.busy') : t('login.submit')}</button>
        <div id="login-error" role="alert" class={message ? 'notice notice-error' : ''} data-testid="login-error" data-code={error?.code || ''}>{message}</div>
      </form>
    </section>
  );
}
