/**
 * The web UI in a real browser: Debian's chromium driven by playwright-core against a real
 * `portcullis serve` with a real registry and the test images pushed (test/support/ui-world.ts).
 * Each page is compared with the API answer it shows, checked with axe-core, and photographed at
 * 1280 and 390 px into test-artifacts/ui. The XSS corpus planted in the feed's texts must execute
 * nothing: the `window.__pwned` canary stays unset in every frame and no dialog opens.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import * as z from 'zod';
import { checkAccessibility, DESKTOP, launchChromium, newWatchedPage, PHONE, screenshot, signInByApi, skipWithoutChromium, type WatchedPage } from '../support/browser.js';
import { repoRoot } from '../support/shared-data.js';
import { startUiWorld, type UiWorld } from '../support/ui-world.js';

const repositoriesAnswer = z.object({ repositories: z.array(z.object({ name: z.string(), tagCount: z.number(), counts: z.record(z.string(), z.number()) })) });
const findingPageAnswer = z.object({ total: z.number(), findings: z.array(z.object({ id: z.string(), severity: z.string(), package: z.object({ name: z.string(), version: z.string() }), description: z.string().optional(), title: z.string().optional() })) });
const compareAnswer = z.object({ fixed: z.array(z.object({ id: z.string() })), introduced: z.array(z.object({ id: z.string() })), unchanged: z.number() });

const SEVERITY_ORDER = ['Critical', 'High', 'Medium', 'Low', 'Unknown', 'Negligible'] as const;

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Portus's security cell text for these counts. */
function securityCell(counts: Record<string, number>): string {
  const highest = SEVERITY_ORDER.find((s) => (counts[s] ?? 0) > 0);
  return highest === undefined ? 'Passed' : `${counts[highest]} ${highest} - ${total(counts)} total`;
}

/** Signs in through the API (the form has its own test) and opens the repositories page. */
async function signIn(watched: WatchedPage, world: UiWorld, who: 'admin' | 'viewer' = 'admin'): Promise<void> {
  await signInByApi(watched, world[who]);
  await watched.page.goto('/');
  await watched.page.getByTestId('signed-in-user').waitFor({ state: 'attached' });
}

/** Rows of the findings table as `id package` strings, in page order. */
async function findingRows(page: Page): Promise<string[]> {
  return page.locator('[data-testid=findings] tbody tr[data-finding]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-finding') ?? ''} ${r.getAttribute('data-package') ?? ''}`));
}

/**
 * Polls `check` until it holds (30 s). The pages' CSP has no 'unsafe-eval', so Playwright's
 * waitForFunction with a string cannot run there; locators and evaluate (over the DevTools protocol) can.
 */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForTotal(page: Page, expected: number): Promise<void> {
  await page.getByTestId('findings-total').filter({ hasText: new RegExp(`^${expected}$`) }).waitFor({ timeout: 30_000 });
}

/** Screenshot at both widths and the accessibility check, for the page at `path` once `ready` appears. */
async function photographAndAudit(browser: Browser, world: UiWorld, path: string, name: string, ready: string): Promise<void> {
  for (const [label, viewport] of [['1280', DESKTOP], ['390', PHONE]] as const) {
    const watched = await newWatchedPage(browser, { baseURL: world.url, viewport });
    try {
      await signIn(watched, world);
      await watched.page.goto(path);
      await watched.page.locator(ready).first().waitFor({ timeout: 30_000 });
      await screenshot(watched.page, `${name}-${label}`);
      const violations = await checkAccessibility(watched.page);
      assert.deepEqual(violations, [], `${name} at ${label} px: ${JSON.stringify(violations, null, 1)}`);
      assert.deepEqual(watched.pageErrors, [], `${name}: page errors`);
      assert.deepEqual(watched.foreignRequests, [], `${name}: requests off the service`);
      if (label === '390') {
        const overflow = z.number().parse(await watched.page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
        assert.ok(overflow <= 1, `${name} at 390 px scrolls sideways by ${overflow} px`);
      }
    } finally {
      await watched.close();
    }
  }
}

describe('web UI in Chromium', { skip: skipWithoutChromium() }, () => {
  let world: UiWorld;
  let browser: Browser;
  const uiDir = mkdtempSync(join(tmpdir(), 'portcullis-ui-build-'));
  const pages: WatchedPage[] = [];
  const open = async (viewport: { width: number; height: number } = DESKTOP): Promise<WatchedPage> => {
    const watched = await newWatchedPage(browser, { baseURL: world.url, viewport });
    pages.push(watched);
    return watched;
  };

  before(async () => {
    // The pages under test are the sources as they are now: built here (Vite, about 2 s) into a
    // folder of this test's, which the service is pointed at (dist/ui, which other tests read, is
    // left alone).
    await build({ configFile: join(repoRoot, 'ui', 'vite.config.ts'), logLevel: 'warn', build: { outDir: uiDir, emptyOutDir: true } });
    process.env.PORTCULLIS_UI_DIR = uiDir;
    world = await startUiWorld();
    browser = await launchChromium();
  });
  after(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await world?.close();
    delete process.env.PORTCULLIS_UI_DIR;
    rmSync(uiDir, { recursive: true, force: true });
  });

  test('sign in: the form signs in, a wrong password is refused with the API message, sign out ends the session', async () => {
    const watched = await open();
    const { page } = watched;
    await page.goto('/');
    await page.waitForURL(/\/login/);
    await page.getByLabel('User name').fill(world.admin.name);
    await page.getByLabel('Password').fill('not-the-password');
    await page.locator('main').getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong user name or password' }).waitFor();
    await page.getByLabel('Password').fill(world.admin.password);
    await page.locator('main').getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    assert.equal(await page.getByTestId('signed-in-user').textContent(), world.admin.name);
    const cookies = await watched.context.cookies();
    const session = cookies.find((c) => c.name === 'portcullis_session');
    assert.ok(session?.httpOnly && session.sameSite === 'Strict', 'an HttpOnly, SameSite=Strict session cookie');
    assert.equal(await page.evaluate("document.cookie.includes('portcullis_session')"), false, 'the page script cannot read the session');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    const after = await page.request.get('/api/v1/repositories');
    assert.equal(after.status(), 401, 'the session ended on the server');
  });

  test('repositories: every pushed repository with its tag count and the counts the API gives; search and sorting', async () => {
    const watched = await open();
    await signIn(watched, world);
    const { page } = watched;
    const answer = repositoriesAnswer.parse(await world.api('/api/v1/repositories'));
    await page.locator('[data-testid=repositories] tbody tr').first().waitFor();
    const shown = await page.locator('[data-testid=repositories] tbody tr').evaluateAll((rows) =>
      rows.map((r) => ({ name: r.getAttribute('data-repository') ?? '', tags: r.querySelector('[data-col=tags]')?.textContent ?? '', total: r.querySelector('[data-col=total]')?.textContent ?? '' })),
    );
    assert.deepEqual(shown.map((r) => r.name).sort(), [...world.images.repositories].sort());
    for (const repo of answer.repositories) {
      const row = shown.find((r) => r.name === repo.name);
      assert.ok(row, repo.name);
      assert.equal(Number(row.tags), repo.tagCount, `${repo.name} tags`);
      assert.equal(Number(row.total), total(repo.counts), `${repo.name} total`);
    }
    await page.getByLabel('Search repositories').fill('multi');
    await until('one repository is listed', async () => (await page.locator('[data-testid=repositories] tbody tr').count()) === 1);
    assert.equal(await page.locator('[data-testid=repositories] tbody tr').getAttribute('data-repository'), 'team/multi');
    await page.getByLabel('Search repositories').fill('');
    await page.locator('button.sort[data-sort=name]').click();
    const byName = await page.locator('[data-testid=repositories] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-repository')));
    assert.deepEqual(byName, [...byName].sort(), 'ascending by name');
    await page.locator('button.sort[data-sort=name]').click();
    const byNameDesc = await page.locator('[data-testid=repositories] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-repository')));
    assert.deepEqual(byNameDesc, [...byName].reverse(), 'descending by name');
  });

  test('repository: one row per digest with every tag, Portus security cells from the API counts; a manifest list expands into its platforms', async () => {
    const watched = await open();
    await signIn(watched, world);
    const { page } = watched;
    const app = world.images.app;
    await page.goto(`/repositories/${app.repository}`);
    await page.locator('[data-testid=tag-groups] tbody tr').first().waitFor();
    const rows = await page.locator('[data-testid=tag-groups] tbody tr').evaluateAll((trs) => trs.map((r) => ({ digest: r.getAttribute('data-digest'), tags: r.getAttribute('data-tags'), cell: r.querySelector('[data-testid=security-cell]')?.textContent?.replace(/^[⚠✔]\s*/, '') ?? '' })));
    assert.equal(rows.length, 2, 'two digests');
    const old = rows.find((r) => r.digest === app.tags['1.0']);
    assert.deepEqual(old?.tags?.split(' ').sort(), ['1.0', '1.0-again']);
    const tagsAnswer = z
      .object({ groups: z.array(z.object({ digest: z.string(), manifest: z.object({ platform: z.string().optional(), scan: z.object({ counts: z.record(z.string(), z.number()) }) }) })) })
      .parse(await world.api(`/api/v1/repositories/${app.repository}/tags`));
    for (const group of tagsAnswer.groups) {
      const row = rows.find((r) => r.digest === group.digest);
      assert.equal(row?.cell, securityCell(group.manifest.scan.counts), group.digest);
      // A single image's platform comes from its config, read when the embedded scanner indexed it.
      assert.equal(group.manifest.platform, 'linux/amd64', `${group.digest} platform`);
      assert.equal(await page.locator(`[data-testid=tag-groups] tr[data-digest="${group.digest}"] td[data-col=platforms]`).textContent(), 'linux/amd64');
    }

    const history = z.object({ points: z.array(z.object({ at: z.string() })) }).parse(await world.api(`/api/v1/repositories/${app.repository}/history`));
    assert.ok(history.points.length >= 2, `a trend needs two points (${history.points.length})`);
    const trend = page.locator('[data-testid=trend-chart] canvas');
    await trend.waitFor();
    assert.equal(await trend.getAttribute('aria-label'), `Findings per severity over ${history.points.length} scans`);

    const multi = world.images.multi;
    await page.goto(`/repositories/${multi.repository}`);
    await page.getByTestId('expand-platforms').click();
    const children = page.locator('[data-testid=tag-groups] tbody tr.child');
    await children.first().waitFor();
    const platforms = await children.evaluateAll((trs) => trs.map((r) => ({ platform: r.getAttribute('data-platform'), digest: r.getAttribute('data-digest') })));
    assert.deepEqual(platforms, multi.children.map((c) => ({ platform: c.platform, digest: c.digest })));
    assert.equal(await children.locator('[data-testid=security-cell]').count(), 2, 'each platform has its own cell');
  });

  test("tag page: the summary, and the findings table equals the API's page; filters, sorting and paging change the rows as the API does", async () => {
    const watched = await open();
    await signIn(watched, world);
    const { page } = watched;
    const digest = world.images.app.tags['2.0'];
    const api = async (query: string) => findingPageAnswer.parse(await world.api(`/api/v1/manifests/${digest}/findings?${query}`));
    await page.goto(`/manifests/${encodeURIComponent(digest)}?repository=team/app&tag=2.0`);
    const all = await api('limit=100&sort=-severity');
    await waitForTotal(page, all.total);
    assert.match((await page.getByTestId('summary').textContent()) ?? '', new RegExp(`We have detected ${all.total} vulnerabilities`));
    assert.deepEqual(await findingRows(page), all.findings.map((f) => `${f.id} ${f.package.name}`), 'the first page, most severe first');
    const shownSeverities = await page.locator('[data-testid=findings] tbody tr[data-finding]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-severity') ?? ''));
    // The API's scale (src/domain/severity.ts): Unknown ranks lowest.
    const rank = (s: string): number => ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'].indexOf(s);
    assert.deepEqual(shownSeverities, [...shownSeverities].sort((a, b) => rank(a) - rank(b)), 'Critical first, then High, ...');

    // Pages of 10, so this image's findings span several.
    await page.getByLabel('Rows per page').selectOption('10');
    assert.ok(all.total > 20, `enough findings for three pages of 10 (${all.total})`);
    const first = await api('limit=10&sort=-severity');
    await page.getByTestId('page-range').filter({ hasText: /^1–10 / }).waitFor();
    assert.deepEqual(await findingRows(page), first.findings.map((f) => `${f.id} ${f.package.name}`), 'page one of 10');
    await page.getByRole('button', { name: 'Next' }).click();
    const second = await api('limit=10&offset=10&sort=-severity');
    await page.getByTestId('page-range').filter({ hasText: /^11–20 / }).waitFor();
    assert.deepEqual(await findingRows(page), second.findings.map((f) => `${f.id} ${f.package.name}`), 'page two of 10');

    await page.getByRole('checkbox', { name: 'High' }).check();
    const high = await api('limit=10&severity=High&sort=-severity');
    await waitForTotal(page, high.total);
    assert.ok(high.total > 0 && high.total < all.total);
    assert.deepEqual(await findingRows(page), high.findings.map((f) => `${f.id} ${f.package.name}`), 'High only, back on page one');
    await page.getByRole('checkbox', { name: 'High' }).uncheck();

    await page.getByRole('checkbox', { name: 'Fixable only' }).check();
    const fixable = await api('limit=10&fixable=true&sort=-severity');
    await waitForTotal(page, fixable.total);
    assert.ok(fixable.total > 0 && fixable.total < all.total);
    assert.deepEqual(await findingRows(page), fixable.findings.map((f) => `${f.id} ${f.package.name}`));
    await page.getByRole('checkbox', { name: 'Fixable only' }).uncheck();

    await page.getByLabel('Backend').selectOption('dummy');
    const dummy = await api('limit=10&backend=dummy&sort=-severity');
    await waitForTotal(page, dummy.total);
    assert.deepEqual(await findingRows(page), dummy.findings.map((f) => `${f.id} ${f.package.name}`), 'what the dummy backend found');
    await page.getByLabel('Backend').selectOption('');
    await waitForTotal(page, all.total);

    await page.locator('button.sort[data-sort=package]').click();
    const byPackage = await api('limit=10&sort=package');
    await until('the rows are sorted by package', async () => (await findingRows(page))[0] === `${byPackage.findings[0]?.id} ${byPackage.findings[0]?.package.name}`);
    assert.deepEqual(await findingRows(page), byPackage.findings.map((f) => `${f.id} ${f.package.name}`), 'sorted by package');
    await page.locator('button.sort[data-sort=package]').click();
    const byPackageDesc = await api('limit=10&sort=-package');
    await until('the rows are sorted by package, descending', async () => (await findingRows(page))[0] === `${byPackageDesc.findings[0]?.id} ${byPackageDesc.findings[0]?.package.name}`);
    assert.deepEqual(await findingRows(page), byPackageDesc.findings.map((f) => `${f.id} ${f.package.name}`), 'sorted by package, descending');

    await page.getByLabel('Search').fill(world.xssAdvisoryIds[0] ?? '');
    const searched = await api(`limit=10&sort=-package&q=${encodeURIComponent(world.xssAdvisoryIds[0] ?? '')}`);
    await waitForTotal(page, searched.total);
    assert.ok(searched.total >= 1);
    const row = page.locator('[data-testid=findings] tbody tr[data-finding]').first();
    await row.getByRole('button').click();
    const details = page.getByTestId('finding-details');
    await details.waitFor();
    const detailText = (await details.textContent()) ?? '';
    assert.match(detailText, /Why/);
    assert.match(detailText, /Found by/);

    const exported = await page.request.get(`/api/v1/manifests/${encodeURIComponent(digest)}/findings/export?format=json&q=${encodeURIComponent(world.xssAdvisoryIds[0] ?? '')}`);
    assert.equal(exported.status(), 200);
    const csvLink = page.locator('a[data-export=csv]');
    assert.notEqual(await csvLink.getAttribute('download'), null, 'the export links download');
    const csvHref = (await csvLink.getAttribute('href')) ?? '';
    assert.match(csvHref, /format=csv/);
    assert.match(csvHref, /sort=-package/, 'the export takes the sort and filters of the table');
    const csv = await page.request.get(csvHref);
    assert.equal(csv.status(), 200);
    assert.equal(csv.headers()['content-type']?.split(';')[0], 'text/csv');
    assert.equal((await csv.text()).trim().split('\n').length, searched.total + 1, 'a header line and one line per finding the filters keep');
    assert.deepEqual(watched.pageErrors, []);
  });

  test('compare: the diff of two tags equals the API', async () => {
    const watched = await open();
    await signIn(watched, world);
    const { page } = watched;
    await page.goto('/repositories/team/app');
    await page.getByLabel('From').selectOption('1.0');
    await page.getByLabel('To').selectOption('2.0');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(/\/compare\?/);
    const diff = compareAnswer.parse(await world.api('/api/v1/repositories/team/app/compare?from=1.0&to=2.0'));
    await page.getByTestId('compare-summary').waitFor();
    assert.equal(await page.getByTestId('compare-summary').textContent(), `${diff.fixed.length} fixed, ${diff.introduced.length} introduced, ${diff.unchanged} unchanged from 1.0 to 2.0.`);
    assert.ok(diff.fixed.some((f) => f.id === world.images.app.upgraded.advisoryId), 'the upgrade fixed an advisory');
    const fixedShown = await page.locator('[data-testid=compare-fixed] tbody tr').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-finding')));
    assert.deepEqual(fixedShown, diff.fixed.map((f) => f.id));
    assert.equal(await page.locator('[data-testid=compare-introduced] tbody tr').count(), diff.introduced.length);
  });

  test('XSS corpus in feed texts: every payload shows literally, nothing executes, no dialog opens, hostile links are not links', async () => {
    const watched = await open();
    await signIn(watched, world);
    const { page } = watched;
    const digest = world.images.app.tags['1.0'];
    await page.goto(`/manifests/${encodeURIComponent(digest)}?repository=team/app&tag=1.0`);
    await page.locator('nav.pager select').selectOption('500');
    await page.getByLabel('Package').fill(world.xssPackage.name);
    const onTar = findingPageAnswer.parse(await world.api(`/api/v1/manifests/${digest}/findings?limit=500&package=${world.xssPackage.name}`));
    await waitForTotal(page, onTar.total);
    const rows = page.locator('[data-testid=findings] tbody tr[data-finding]');
    const count = await rows.count();
    assert.equal(count, onTar.total);
    assert.ok(count >= world.xssAdvisoryIds.length, `${count} rows`);
    for (let i = 0; i < count; i += 1) await rows.nth(i).getByRole('button').click();
    const shown = (await page.locator('[data-testid=finding-details]').allTextContents()).join('\n');
    // Bidirectional and invisible controls are shown as marks (an RTL override must not reorder the text).
    const visible = (text: string): string => text.replace(/[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g, (ch) => `⟨U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
    for (const advisory of world.xssAdvisories) {
      for (const line of advisory.details.split('\n')) assert.ok(shown.includes(visible(line)), `payload shown as text: ${line}`);
      assert.ok(shown.includes(visible(advisory.summary)), `summary shown as text: ${advisory.summary}`);
    }
    assert.ok(shown.includes('invoice⟨U+202E⟩fdp.exe'), 'an RTL override is shown as a mark, not obeyed');
    assert.doesNotMatch(shown, /[\u202A-\u202E\u2066-\u2069]/, 'no bidirectional control reaches the page as text');
    const hrefs = await page.locator('main a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    for (const href of hrefs) assert.ok(href.startsWith('/') || /^https?:\/\//.test(href), `only http(s) and own links: ${href}`);
    await page.locator('[data-testid=finding-details] a, [data-testid=finding-details] .unsafe-link').first().hover();
    await page.waitForTimeout(300);
    assert.equal(await watched.pwned(), false, 'window.__pwned stays unset');
    assert.deepEqual(watched.dialogs, [], 'no dialog opened');
    assert.deepEqual(watched.pageErrors, []);

    await page.goto(`/advisories/${encodeURIComponent(world.xssAdvisoryIds[0] ?? '')}`);
    await page.getByTestId('advisory-usage').waitFor();
    assert.equal(await watched.pwned(), false);
    assert.deepEqual(watched.dialogs, []);
  });

  test('the API down: a page says so instead of going blank', async () => {
    const watched = await open();
    await signIn(watched, world);
    const { page } = watched;
    await page.route('**/api/v1/repositories', (route) => route.abort('connectionrefused'));
    await page.goto('/');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /cannot be reached/);
    await page.unroute('**/api/v1/repositories');
    await page.route('**/api/v1/repositories', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'E_DB', message: 'the app database does not answer' } }) }));
    await page.goto('/');
    await page.getByRole('alert').filter({ hasText: 'the app database does not answer' }).waitFor();
  });

  test('keyboard: the findings table sorts and a row expands without a mouse', async () => {
    const watched = await open();
    await signIn(watched, world);
    const { page } = watched;
    const digest = world.images.app.tags['1.0'];
    await page.goto(`/manifests/${encodeURIComponent(digest)}`);
    await page.locator('[data-testid=findings] tbody tr[data-finding]').first().waitFor();
    await page.locator('button.sort[data-sort=id]').focus();
    await page.keyboard.press('Enter');
    await page.locator('th[aria-sort=ascending] button[data-sort=id]').waitFor();
    await page.locator('[data-testid=findings] tbody tr[data-finding] button.expand').first().focus();
    await page.keyboard.press('Space');
    await page.getByTestId('finding-details').waitFor();
  });

  test('every page passes axe-core (no serious or critical violation) and is photographed at 1280 and 390 px', async () => {
    const app = world.images.app;
    const cases: [string, string, string][] = [
      ['/', 'repositories', '[data-testid=repositories] tbody tr'],
      [`/repositories/${app.repository}`, 'repository', '[data-testid=trend-chart] canvas'],
      [`/repositories/${world.images.multi.repository}`, 'repository-index', '[data-testid=tag-groups] tbody tr'],
      [`/manifests/${encodeURIComponent(app.tags['2.0'])}?repository=team/app&tag=2.0`, 'tag', '[data-testid=severity-chart] canvas'],
      [`/advisories/${encodeURIComponent(world.xssAdvisoryIds[0] ?? '')}`, 'advisory', '[data-testid=advisory-usage] tbody tr'],
      ['/repositories/team/app/compare?from=1.0&to=2.0', 'compare', '[data-testid=compare-summary]'],
      ['/status', 'feeds-and-backends', '[data-testid=backends] tbody tr'],
    ];
    for (const [path, name, ready] of cases) await photographAndAudit(browser, world, path, name, ready);
    // The sign-in page, signed out.
    for (const [label, viewport] of [['1280', DESKTOP], ['390', PHONE]] as const) {
      const watched = await open(viewport);
      await watched.page.goto('/login');
      await watched.page.getByLabel('User name').waitFor();
      await screenshot(watched.page, `sign-in-${label}`);
      assert.deepEqual(await checkAccessibility(watched.page), []);
    }
  });
});
