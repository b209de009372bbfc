/**
 * The world the UI tests stand on, proved before any page exists: the service lists the pushed
 * repositories with their counts, the XSS corpus reaches the findings byte for byte, the index
 * has two scanned platform children, a compare has fixed and introduced findings; chromium opens
 * the service under its real CSP, axe-core runs there, the canary reads false and screenshots are
 * written. A negative control shows the canary and the dialog recorder do trip on a page without
 * the CSP, so a passing XSS test cannot be a vacuous one.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import * as z from 'zod';
import { checkAccessibility, launchChromium, newWatchedPage, PHONE, screenshot, signInByApi, skipWithoutChromium } from '../support/browser.js';
import { startUiWorld, type UiWorld } from '../support/ui-world.js';

const severityCounts = z.record(z.string(), z.number());
const repositoriesSchema = z.object({ repositories: z.array(z.object({ name: z.string(), tagCount: z.number(), counts: severityCounts, complete: z.boolean(), worst: z.string().optional() })) });
interface ManifestView {
  digest: string;
  kind: string;
  platform?: string | undefined;
  scan: { status: string };
  children?: ManifestView[] | undefined;
}
const manifestViewSchema: z.ZodType<ManifestView> = z.lazy(() =>
  z.object({ digest: z.string(), kind: z.string(), platform: z.string().optional(), scan: z.object({ status: z.string() }), children: z.array(manifestViewSchema).optional() }),
);
const tagsSchema = z.object({ groups: z.array(z.object({ digest: z.string(), tags: z.array(z.string()), manifest: manifestViewSchema.optional() })) });
const findingsSchema = z.object({
  total: z.number(),
  complete: z.boolean(),
  findings: z.array(
    z.object({
      id: z.string(),
      package: z.object({ name: z.string(), version: z.string() }),
      severity: z.string(),
      title: z.string().optional(),
      description: z.string().optional(),
      links: z.array(z.string()),
      foundBy: z.array(z.object({ backend: z.string(), link: z.string().optional() })),
    }),
  ),
});
const compareSchema = z.object({ fixed: z.array(z.object({ id: z.string() })), introduced: z.array(z.object({ id: z.string() })), unchanged: z.number() });

describe('the UI test world', () => {
  let world: UiWorld;

  before(async () => {
    world = await startUiWorld();
  });
  after(async () => {
    await world?.close();
  });

  const findings = async (digest: string, query = ''): Promise<z.infer<typeof findingsSchema>> => findingsSchema.parse(await world.api(`/api/v1/manifests/${digest}/findings?limit=1000${query}`));

  test('the service lists both pushed repositories with their tag counts and findings per severity', async () => {
    const { repositories } = repositoriesSchema.parse(await world.api('/api/v1/repositories'));
    assert.deepEqual(repositories.map((r) => [r.name, r.tagCount, r.complete]).sort(), [['team/app', 3, true], ['team/multi', 1, true]]);
    for (const r of repositories) {
      assert.ok(Object.values(r.counts).reduce((a, b) => a + b, 0) > 0, `${r.name} has findings`);
      assert.equal(r.worst, 'Critical', r.name);
    }
    const { groups } = tagsSchema.parse(await world.api('/api/v1/repositories/team/app/tags'));
    const byDigest = new Map(groups.map((g) => [g.digest, [...g.tags].sort()]));
    assert.deepEqual(byDigest.get(world.images.app.tags['1.0']), ['1.0', '1.0-again'], 'one row for the digest two tags share');
    assert.deepEqual(byDigest.get(world.images.app.tags['2.0']), ['2.0']);
    assert.notEqual(world.images.app.tags['1.0'], world.images.app.tags['2.0']);
    assert.ok(groups.every((g) => g.manifest?.scan.status === 'scanned'));
  });

  test('every payload of the XSS corpus reaches the findings byte for byte, in titles, descriptions and links', async () => {
    assert.ok(world.xssPayloads.length >= 40, `${world.xssPayloads.length} payloads`);
    const page = await findings(world.images.app.tags['1.0'], `&package=${world.xssPackage.name}`);
    const byId = new Map(page.findings.map((f) => [f.id, f]));
    const summaries: string[] = [];
    const details: string[] = [];
    for (const advisory of world.xssAdvisories) {
      const f = byId.get(advisory.id);
      assert.ok(f, `${advisory.id} is a finding of team/app:1.0`);
      assert.deepEqual([f.package.name, f.package.version], [world.xssPackage.name, world.xssPackage.version]);
      assert.equal(f.title, advisory.summary, `${advisory.id}: title`);
      assert.equal(f.description, advisory.details, `${advisory.id}: description`);
      for (const ref of advisory.references) assert.ok(f.links.includes(ref), `${advisory.id} links ${ref}`);
      summaries.push(advisory.summary);
      details.push(...advisory.details.split('\n'));
    }
    assert.deepEqual([...summaries, ...details], world.xssPayloads, 'every payload planted once, in order');
    assert.ok(page.findings.some((f) => f.links.some((l) => l.startsWith('javascript:'))) && page.findings.some((f) => f.links.some((l) => l.startsWith('data:'))));

    const shared = byId.get(world.xssAdvisoryIds[0] ?? '');
    assert.deepEqual(shared?.foundBy.map((b) => b.backend).sort(), ['dummy', 'embedded'], 'found by two backends');
    const dummyOnly = byId.get(world.dummyXssAdvisoryId);
    assert.equal(dummyOnly?.description, world.xssPayloads[0]);
    assert.deepEqual(dummyOnly?.foundBy.map((b) => b.backend), ['dummy']);
  });

  test('team/multi:latest is an index of two platform images, each scanned, with findings of their own', async () => {
    const { groups } = tagsSchema.parse(await world.api('/api/v1/repositories/team/multi/tags'));
    assert.equal(groups.length, 1);
    const index = groups[0]?.manifest;
    assert.equal(index?.kind, 'index');
    assert.equal(index?.digest, world.images.multi.digest);
    assert.deepEqual(index?.children?.map((c) => [c.platform, c.digest, c.scan.status]), world.images.multi.children.map((c) => [c.platform, c.digest, 'scanned']));
    const [amd64, arm64] = await Promise.all(world.images.multi.children.map((c) => findings(c.digest)));
    const ids = (f: z.infer<typeof findingsSchema> | undefined): string[] => (f?.findings.map((x) => x.id) ?? []).sort();
    assert.ok(ids(amd64).includes(world.images.app.upgraded.advisoryId));
    assert.ok(!ids(arm64).includes(world.images.app.upgraded.advisoryId));
    for (const id of world.xssAdvisoryIds) assert.ok(ids(arm64).includes(id), `arm64 has ${id}`);
  });

  test('comparing team/app 1.0 with 2.0: the upgrade fixed one advisory, the lang image introduced findings, the XSS advisories are unchanged', async () => {
    const diff = compareSchema.parse(await world.api('/api/v1/repositories/team/app/compare?from=1.0&to=2.0'));
    assert.deepEqual(diff.fixed.map((f) => f.id), [world.images.app.upgraded.advisoryId]);
    assert.ok(diff.introduced.length > 0);
    const changed = new Set([...diff.fixed, ...diff.introduced].map((f) => f.id));
    for (const id of world.xssAdvisoryIds) assert.ok(!changed.has(id), `${id} unchanged`);
    assert.ok(diff.unchanged >= world.xssAdvisoryIds.length, `${diff.unchanged} unchanged`);
  });

  test('the admin and the viewer sign in with their passwords', async () => {
    for (const user of [world.admin, world.viewer]) {
      const res = await fetch(`${world.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user.name, password: user.password }) });
      assert.equal(res.status, 200, user.name);
      const body = z.object({ user: z.object({ name: z.string(), role: z.string() }) }).parse(await res.json());
      assert.deepEqual(body.user, { name: user.name, role: user.role });
    }
  });

  describe('in chromium', { skip: skipWithoutChromium() }, () => {
    let browser: Browser;
    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });

    test('a page of the service under its real CSP: axe-core runs, the canary reads false, nothing leaves the origin, a screenshot is written', async () => {
      const watched = await newWatchedPage(browser, { baseURL: world.url });
      try {
        const res = await watched.page.goto('/healthz');
        assert.equal(res?.status(), 200);
        const csp = res?.headers()['content-security-policy'] ?? '';
        assert.match(csp, /script-src 'self'/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        assert.match(await watched.page.textContent('body') ?? '', /"status":\s*"ok"/);
        // The policy is enforced in this page: an inline script is refused, so axe cannot come in that way.
        await assert.rejects(watched.page.addScriptTag({ content: 'window.__pwned = 1' }), /Content Security Policy/);

        const violations = await checkAccessibility(watched.page);
        // Chromium's JSON view has no <title> and no lang: axe ran and saw the page as it is.
        const ids = violations.map((v) => v.id);
        assert.ok(ids.includes('document-title') || ids.includes('html-has-lang'), ids.join(', '));
        assert.ok(violations.every((v) => v.impact === 'serious' || v.impact === 'critical'));
        assert.ok(!ids.includes('image-alt'));
        // An image without alt text (put in through the DevTools protocol, as axe was) is found, critical.
        await watched.page.evaluate("document.body.append(Object.assign(document.createElement('img'), { src: '/healthz' }))");
        const withImage = await checkAccessibility(watched.page);
        assert.deepEqual(withImage.find((v) => v.id === 'image-alt')?.impact, 'critical');

        assert.equal(await watched.pwned(), false);
        assert.deepEqual([watched.dialogs, watched.pageErrors, watched.foreignRequests, watched.popups], [[], [], [], []]);

        const file = await screenshot(watched.page, 'ui-world-healthz');
        assert.ok(existsSync(file));
        assert.deepEqual([...readFileSync(file).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
        await watched.page.setViewportSize(PHONE);
        assert.ok(existsSync(await screenshot(watched.page, 'ui-world-healthz-390')));
      } finally {
        await watched.close();
      }
    });

    test('signInByApi puts the session cookie in the page\'s context: the page is signed in as that user', async () => {
      const watched = await newWatchedPage(browser, { baseURL: world.url });
      try {
        const before = await watched.page.goto('/api/v1/session');
        assert.equal(before?.status(), 401);
        const { role } = await signInByApi(watched, world.viewer);
        assert.equal(role, 'viewer');
        const res = await watched.page.goto('/api/v1/session');
        assert.equal(res?.status(), 200);
        const body = z.object({ user: z.object({ name: z.string() }) }).parse(await res?.json());
        assert.equal(body.user.name, world.viewer.name);
        const cookies = await watched.context.cookies();
        assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly, c.sameSite]), [['portcullis_session', true, 'Strict']]);
      } finally {
        await watched.close();
      }
    });

    test('negative control: without the CSP and with a payload written as HTML, corpus payloads set the canary (in the page or in a frame), a dialog is caught, a foreign request recorded', async () => {
      // Payloads of the corpus that run on their own (no hover, no click) in a page with no CSP.
      const live = ['<svg/onload=window.__pwned=1>', '<BODY ONLOAD=window.__pwned=1>', '<IFRAME SRC="javascript:window.__pwned=1;"></IFRAME>', '"><script>window.__pwned=1</script>'];
      for (const payload of live) {
        assert.ok(world.xssPayloads.includes(payload), `${payload} is in the corpus`);
        const watched = await newWatchedPage(browser, { baseURL: world.url });
        try {
          // about:blank: no CSP, and the payload is markup, as in a UI that used innerHTML.
          assert.equal(await watched.pwned(), false);
          await watched.page.setContent(`<!doctype html><title>control</title><body>${payload}</body>`, { waitUntil: 'load', timeout: 10_000 });
          assert.equal(await watched.pwned(), true, payload);
        } finally {
          await watched.close();
        }
      }
      const watched = await newWatchedPage(browser, { baseURL: world.url });
      try {
        await watched.page.setContent('<!doctype html><title>control</title><svg/onload=alert(1)>', { waitUntil: 'load', timeout: 10_000 });
        assert.deepEqual(watched.dialogs.map((d) => [d.type, d.message]), [['alert', '1']]);
        // A payload that loads a script from elsewhere is recorded (and aborted), not let through.
        const external = '<SCRIPT SRC=http://xss.invalid/xss.js></SCRIPT>';
        assert.ok(world.xssPayloads.includes(external));
        await watched.page.setContent(`<!doctype html><title>control</title>${external}`, { waitUntil: 'load', timeout: 10_000 });
        assert.deepEqual(watched.foreignRequests, ['http://xss.invalid/xss.js']);
      } finally {
        await watched.close();
      }
    });
  });
});
