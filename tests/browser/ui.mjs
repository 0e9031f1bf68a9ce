// End-to-end test of the web page in headless Chromium (see README.md).
// Exit code 0: every step passed; otherwise the first failure is printed and the code is 1.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') throw new Error(`missing environment variable ${name}`);
  return v;
};
const BASE = new URL(env('BASE_URL'));
const ADMIN = { user: env('ADMIN_USER'), password: env('ADMIN_PASSWORD') };
const TECH = { user: env('TECH_USER'), password: env('TECH_PASSWORD') };
const SECOND_PDF = env('SECOND_PDF');
const SHOTS = process.env.SCREENSHOT_DIR || '';
const QUESTION = process.env.QUESTION || 'Comment réinitialiser mon mot de passe ?';
const SEARCH_WORD = process.env.SEARCH_WORD || 'réinitialiser';
const TIMEOUT = Number(process.env.STEP_TIMEOUT_MS || 60000);
const DESKTOP = { width: 1280, height: 800 };
const MOBILE = { width: 375, height: 812 };

const started = Date.now();
const offHost = [];
const pageErrors = [];
const tid = (id) => `[data-testid="${id}"]`;
const step = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
function check(cond, msg) { if (!cond) throw new Error(msg); }

/** Every request must go to BASE_URL's host (blob: and data: URLs stay in the page). */
function watch(page, label) {
  page.on('request', (r) => {
    let u;
    try { u = new URL(r.url()); } catch { return; }
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return; // blob:, data:, the PDF viewer's chrome-extension:
    if (u.host !== BASE.host || u.protocol !== BASE.protocol) offHost.push(`${label}: ${r.method()} ${r.url()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`${label}: ${e.message}`));
  // What the Content-Security-Policy blocked shows only on the console.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content[ -]Security[ -]Policy/i.test(m.text())) pageErrors.push(`${label}: ${m.text()}`);
  });
}

async function newContext(browser, label) {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'fr-FR', baseURL: BASE.href });
  context.setDefaultTimeout(TIMEOUT);
  context.on('page', (p) => watch(p, `${label} (popup)`));
  const page = await context.newPage();
  watch(page, label);
  return { context, page };
}

async function go(page, hash) {
  await page.goto(new URL(`/#${hash}`, BASE).href);
  await page.waitForSelector(`${tid('main')}[data-route="${hash}"]`);
}

/** Full-page screenshots at desktop and mobile sizes; also checks there is no horizontal scroll on mobile. */
async function shots(page, name) {
  if (!SHOTS) return;
  for (const [size, vp] of [['desktop', DESKTOP], ['mobile', MOBILE]]) {
    await page.setViewportSize(vp);
    await page.waitForTimeout(150);
    if (size === 'mobile') {
      const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      check(over <= 1, `${name}: the page scrolls sideways on a 375 px screen (${over} px too wide)`);
    }
    await page.screenshot({ path: join(SHOTS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

async function axe(page, name) {
  // page.addScriptTag({ path }) would insert an inline <script>, which the page's CSP
  // (script-src 'self') rightly blocks; the same file evaluated through the DevTools protocol
  // is not subject to it.
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(readFileSync(AXE, 'utf8'));
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of result.violations) {
    console.log(`  axe ${name}: ${v.impact} ${v.id} — ${v.help} (${v.nodes.length}×: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')})`);
  }
  check(bad.length === 0, `axe: ${bad.length} serious/critical accessibility violation(s) on the ${name} page (listed above)`);
  step(`axe ${name}: no serious or critical violation (${result.violations.length} minor)`);
}

async function login(page, who) {
  await go(page, '/login');
  await page.fill(tid('login-username'), who.user);
  await page.fill(tid('login-password'), who.password);
  await page.click(tid('login-submit'));
  await page.waitForSelector(`${tid('main')}[data-route="/ask"]`);
  step(`logged in as ${who.user}`);
}

async function main() {
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    headless: true,
  });
  try {
    // ---- the technician -------------------------------------------------------------
    const tech = await newContext(browser, 'tech');
    let page = tech.page;
    await go(page, '/login');
    await page.waitForSelector(tid('login-form'));
    await axe(page, 'login');
    await shots(page, 'login');

    // A wrong password is refused with a plain message.
    await page.fill(tid('login-username'), TECH.user);
    await page.fill(tid('login-password'), `${TECH.password}-wrong`);
    await page.click(tid('login-submit'));
    await page.waitForSelector(`${tid('login-error')}[data-code="invalid_credentials"]`);
    step('wrong password refused with a message');

    await login(page, TECH);

    // Ask in French; watch the answer element while it streams.
    await page.fill(tid('question'), QUESTION);
    await page.evaluate(() => {
      const seen = { partial: [], first: null, clicked: performance.now() };
      window.__stream = seen;
      const look = () => {
        const el = document.querySelector('[data-testid="answer"][data-streaming="true"]');
        if (el && el.textContent.trim().length > 0) {
          if (seen.first === null) seen.first = performance.now();
          const n = el.textContent.length;
          if (seen.partial[seen.partial.length - 1] !== n) seen.partial.push(n);
        }
      };
      new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      document.querySelector('[data-testid="ask-submit"]').addEventListener('click', () => { seen.clicked = performance.now(); }, { capture: true });
    });
    await page.click(tid('ask-submit'));
    await page.waitForSelector(`${tid('answer')}[data-streaming="false"]`);
    const stream = await page.evaluate(() => window.__stream);
    check(stream.partial.length > 0, 'no streamed (partial) answer was shown before the final one');
    const firstMs = Math.round(stream.first - stream.clicked);
    console.log(`first answer token after ${firstMs} ms (${stream.partial.length} streamed state(s) before done)`);
    const citations = await page.locator(`${tid('answer')} ${tid('citation')}`).count();
    check(citations > 0, `the final answer has no citation: ${await page.textContent(tid('answer'))}`);
    step(`answer with ${citations} citation(s)`);
    await axe(page, 'ask');

    // Open a citation: the source panel shows the document and page.
    await page.locator(`${tid('answer')} ${tid('citation')}`).first().click();
    await page.waitForSelector(tid('source-panel'));
    const doc = (await page.textContent(tid('source-document'))).trim();
    const pageNo = (await page.textContent(tid('source-page'))).trim();
    check(doc.length > 0 && /^\d+$/.test(pageNo), `the source panel lacks document/page: "${doc}" "${pageNo}"`);
    step(`source panel: ${doc}, page ${pageNo}`);
    await shots(page, 'ask');

    // "Open the PDF at this page": the document is fetched as application/pdf, a tab opens.
    const [pdf, popup] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/documents/') && r.request().method() === 'GET'),
      tech.context.waitForEvent('page'),
      page.click(tid('open-pdf')),
    ]);
    check(pdf.status() === 200, `GET ${pdf.url()} answered ${pdf.status()}`);
    const type = pdf.headers()['content-type'] || '';
    check(type.startsWith('application/pdf'), `GET ${pdf.url()} has content-type "${type}", not application/pdf`);
    check(new URL(pdf.url()).searchParams.get('page') === pageNo, `the PDF was asked without ?page=${pageNo}: ${pdf.url()}`);
    await popup.waitForURL(/^blob:/, { timeout: 10000 }).catch(() => {});
    check(/^blob:.*#page=\d+$/.test(popup.url()), `the new tab is at "${popup.url()}", not the PDF's blob URL at #page=`);
    step(`PDF opened: ${type}, new tab ${popup.url().replace(/blob:[^#]*/, 'blob:…')}`);
    await popup.close();

    // Feedback.
    const comment = `ui test ${Date.now()}`;
    await page.click(tid('feedback-useful'));
    await page.fill(tid('feedback-comment'), comment);
    await page.click(tid('feedback-submit'));
    await page.waitForSelector(tid('feedback-thanks'));
    step('feedback sent');

    // History: search, find, reopen.
    await page.click(tid('nav-history'));
    await page.waitForSelector(`${tid('main')}[data-route="/history"]`);
    await page.fill(tid('history-search'), SEARCH_WORD);
    await page.click(tid('history-search-submit'));
    const item = page.locator(tid('history-item'), { hasText: QUESTION }).first();
    await item.waitFor();
    await page.waitForSelector(`${tid('history-list')}[data-loading="false"]`);
    const shown = await page.locator(tid('history-item')).allTextContents();
    check(shown.every((s) => s.toLowerCase().includes(SEARCH_WORD.toLowerCase())), `history search "${SEARCH_WORD}" shows non-matching items: ${shown.join(' | ')}`);
    await item.locator(tid('history-toggle')).click();
    await item.locator(tid('history-answer')).waitFor();
    check(await item.locator(tid('citation')).count() > 0, 'the reopened answer has no citation');
    check(await item.locator(tid('feedback-given')).count() > 0, 'the reopened answer does not show the feedback left');
    step('history: found by search and reopened with its feedback');
    await axe(page, 'history');
    await shots(page, 'history');

    // Log out.
    await page.click(tid('logout'));
    await page.waitForSelector(`${tid('main')}[data-route="/login"]`);
    await page.waitForSelector(`${tid('login-message')}[data-reason="logout"]`);
    step('logged out');

    // The tech's second session, kept open for the end.
    const techLater = await newContext(browser, 'tech-2');
    await login(techLater.page, TECH);

    // ---- the administrator ----------------------------------------------------------
    const admin = await newContext(browser, 'admin');
    page = admin.page;
    await login(page, ADMIN);

    await page.click(tid('nav-documents'));
    await page.waitForSelector(`${tid('main')}[data-route="/admin/documents"]`);
    await page.setInputFiles(tid('upload-input'), SECOND_PDF);
    const name = SECOND_PDF.split('/').pop();
    await page.waitForSelector(`${tid('upload')}[data-name="${name}"][data-phase="done"], ${tid('upload')}[data-name="${name}"][data-phase="error"]`, { timeout: Math.max(TIMEOUT, 600000) });
    const phase = await page.getAttribute(`${tid('upload')}[data-name="${name}"]`, 'data-phase');
    check(phase === 'done', `upload of ${name} failed: ${await page.textContent(`${tid('upload')}[data-name="${name}"]`)}`);
    await page.waitForSelector(`${tid('doc-row')}[data-name="${name}"][data-status="indexed"]`);
    step(`${name} uploaded and indexed`);
    await shots(page, 'admin-documents');

    await page.click(tid('nav-clusters'));
    await page.waitForSelector(`${tid('main')}[data-route="/admin/clusters"]`);
    await page.click(tid('clusters-run'));
    await page.waitForSelector(`${tid('clusters-run')}:not([disabled])`, { timeout: Math.max(TIMEOUT, 120000) });
    const runError = await page.locator(tid('clusters-run-error')).count();
    check(runError === 0, `clustering failed: ${runError && await page.textContent(tid('clusters-run-error'))}`);
    await page.waitForSelector(`${tid('cluster-chart')} canvas, ${tid('cluster-chart')} svg`);
    check(await page.locator(tid('cluster-card')).count() > 0, 'no cluster shown after the run');
    step(`clustering: ${await page.locator(tid('cluster-card')).count()} clusters, chart drawn`);
    await shots(page, 'admin-clusters');

    await page.click(tid('nav-feedback'));
    await page.waitForSelector(`${tid('main')}[data-route="/admin/feedback"]`);
    await page.locator(tid('feedback-item'), { hasText: comment }).first().waitFor();
    step('the feedback is in the admin list');
    await shots(page, 'admin-feedback');

    await page.click(tid('nav-index'));
    await page.waitForSelector(`${tid('versions-table')}, ${tid('index-load-error')}`);
    check(await page.locator(tid('index-load-error')).count() === 0, `index versions: ${await page.textContent(tid('main'))}`);
    step(`index versions listed: ${await page.locator(tid('version-row')).count()}`);
    await shots(page, 'admin-index');

    await page.click(tid('nav-users'));
    await page.waitForSelector(`${tid('main')}[data-route="/admin/users"]`);
    const row = page.locator(`${tid('user-row')}[data-username="${TECH.user}"]`);
    await row.waitFor();
    await shots(page, 'admin-users');
    check(await row.getAttribute('data-active') === 'true', `${TECH.user} is not active before the test deactivates it`);
    await row.locator(tid('user-toggle-active')).click();
    await page.waitForSelector(`${tid('user-row')}[data-username="${TECH.user}"][data-active="false"]`);
    step(`${TECH.user} deactivated`);

    // API explorer.
    if (SHOTS) {
      await page.goto(new URL('/docs', BASE).href);
      await page.waitForSelector('.swagger-ui .opblock', { timeout: 30000 });
      await page.screenshot({ path: join(SHOTS, 'docs-desktop.png'), fullPage: true });
      step('API explorer rendered');
    }

    // ---- the deactivated technician's open session ----------------------------------
    const p2 = techLater.page;
    await p2.fill(tid('question'), QUESTION);
    await p2.click(tid('ask-submit'));
    await p2.waitForSelector(`${tid('main')}[data-route="/login"]`);
    const reason = await p2.getAttribute(tid('login-message'), 'data-reason');
    check(reason === 'deactivated' || reason?.startsWith('rejected'), `after deactivation the page shows login reason "${reason}"`);
    step(`deactivated session sent back to login: "${(await p2.textContent(tid('login-message'))).trim()}"`);
    // Its token is gone: a reload stays on the login page.
    await p2.reload();
    await p2.waitForSelector(`${tid('main')}[data-route="/login"]`);

    // ---- the end ----------------------------------------------------------------------
    check(pageErrors.length === 0, `uncaught page error(s):\n  ${pageErrors.join('\n  ')}`);
    check(offHost.length === 0, `request(s) to another host than ${BASE.host}:\n  ${offHost.join('\n  ')}`);
  } finally {
    await browser.close();
  }
}

main().then(
  () => {
    console.log(`browser test passed in ${((Date.now() - started) / 1000).toFixed(1)} s (total time)`);
    console.log('1 passed, 0 failed');
    process.exit(0);
  },
  (e) => {
    console.error(`FAIL: ${e.message}`);
    if (pageErrors.length) console.error(`page errors:\n  ${pageErrors.join('\n  ')}`);
    if (offHost.length) console.error(`off-host requests:\n  ${offHost.join('\n  ')}`);
    console.log(`browser test failed after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
