/**
 * Benchmark section "ui": the web UI.
 *
 * - Built assets: the gzip size (level 9, as a server or CDN would send them) of everything
 *   `npm run build:ui` writes, against the gzip size of Chart.js's own minified build (the largest
 *   library in it), same run.
 * - Time to first render of a tag page with 2,000 findings: a real registry, a tiny image pushed to
 *   it, a real `portcullis serve` whose only backend is `dummy` with a fixture of 2,000 findings
 *   (400 packages x 5 advisories, descriptions of Debian-tracker length), a signed-in Chromium
 *   (playwright-core, Debian's chromium). From navigation start to the first page of findings rows
 *   in the DOM, from Chromium's own performance timings (performance.now() in the page), median of
 *   repeated fresh loads. Reference, same run and same page: the page's own fetch of the JSON it
 *   renders (the findings route, the same query), so the ratio is what the UI adds to its data.
 *   Also: switching the table to 500 rows per page, against the fetch of those 500.
 */
import { readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../test/harness/images.js';
import { freePort, pushImage, startRegistry } from '../test/harness/registry.js';
import { writeTinyLayout, SAMPLE_LAYERS } from '../test/harness/tiny-image.js';
import { launchChromium } from '../test/support/browser.js';
import { runCli } from '../test/support/run-cli.js';
import { startServe } from '../test/support/serve.js';
import { median } from './lib/measure.js';
import type { Row } from './lib/table.js';

interface Target {
  rows: Row[];
  quick: boolean;
  tmp: string;
  log: (line: string) => void;
}

const NOTIFICATION_TOKEN = 'bench-ui-notification-token';
const PASSWORD = 'bench-ui-password-1';
const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'];

function gzipSize(bytes: Buffer): number {
  return gzipSync(bytes, { level: 9 }).length;
}

/** A dummy-backend fixture of `packages` x `perPackage` findings. */
function fixture(packages: number, perPackage: number): unknown {
  const words = 'buffer overflow in the parser allows remote attackers to cause a denial of service or possibly execute arbitrary code via a crafted input file'.split(' ');
  let n = 0;
  return {
    packages: Array.from({ length: packages }, (_, p) => ({
      name: `libbench${p}`,
      version: `1.${p % 17}.${p % 5}-${(p % 3) + 1}`,
      namespace: 'debian:12',
      vulnerabilities: Array.from({ length: perPackage }, () => {
        n += 1;
        return {
          id: `CVE-2024-${String(10000 + n)}`,
          severity: SEVERITIES[n % SEVERITIES.length] ?? 'Unknown',
          ...(n % 3 === 0 ? {} : { fixedBy: `1.${(n % 17) + 1}.0-1` }),
          link: `https://security-tracker.debian.org/tracker/CVE-2024-${String(10000 + n)}`,
          description: Array.from({ length: 40 }, (_, i) => words[(i + n) % words.length]).join(' '),
        };
      }),
    })),
  };
}

/**
 * In the page: resolves with performance.now() at the first animation frame where the findings
 * table holds `n` rows. Run through page.evaluate (the DevTools protocol): the page's CSP has no
 * 'unsafe-eval', which Playwright's waitForFunction with a string would need.
 */
function rowsAtLeast(n: number): string {
  return `new Promise((resolve) => { const check = () => { if (document.querySelectorAll('[data-testid=findings] tbody tr[data-finding]').length >= ${n}) resolve(performance.now()); else requestAnimationFrame(check); }; check(); })`;
}

/** In the page: how long fetching and parsing one page of the findings JSON takes (the UI's own query). */
function timedFetch(digest: string, limit: number): string {
  const url = `/api/v1/manifests/${encodeURIComponent(digest)}/findings?sort=-severity&offset=0&limit=${limit}`;
  return `(async () => { const t0 = performance.now(); const res = await fetch(${JSON.stringify(url)}); await res.json(); return performance.now() - t0; })()`;
}

export async function benchUi(target: Target): Promise<void> {
  const assetsDir = join(repoRoot, 'dist', 'ui', 'assets');
  const files = [join(repoRoot, 'dist', 'ui', 'index.html'), ...readdirSync(assetsDir).map((f) => join(assetsDir, f))];
  const raw = files.reduce((s, f) => s + statSync(f).size, 0);
  const gz = files.reduce((s, f) => s + gzipSize(readFileSync(f)), 0);
  const chartJs = readFileSync(join(repoRoot, 'node_modules', 'chart.js', 'dist', 'chart.umd.min.js'));
  target.rows.push({
    section: 'IV.1 UI assets',
    what: `the built web UI (dist/ui: ${files.length} files, ${(raw / 1024).toFixed(0)} KiB raw), gzip -9`,
    ours: { value: gz / 1024, unit: 'KiB' },
    refWhat: "Chart.js's own minified build (chart.umd.min.js), gzip -9, same run",
    ref: { value: gzipSize(chartJs) / 1024, unit: 'KiB' },
    better: 'lower',
  });

  const dir = mkdtempSync(join(target.tmp, 'ui-'));
  const fixtureFile = join(dir, 'findings.json');
  writeFileSync(fixtureFile, JSON.stringify(fixture(400, 5)));
  const servePort = await freePort();
  const registry = await startRegistry({ notificationsUrl: `http://127.0.0.1:${servePort}/v2/webhooks/events`, notificationHeaders: { Authorization: `Bearer ${NOTIFICATION_TOKEN}` } });
  try {
    const env: NodeJS.ProcessEnv = {
      HOME: dir,
      XDG_CACHE_HOME: join(dir, 'cache'),
      PORTCULLIS_DATA_DIR: join(dir, 'data'),
      PORTCULLIS_DB: join(dir, 'absent-vuln.db'),
      PORTCULLIS_REGISTRY_URL: registry.url,
      PORTCULLIS_REGISTRY_NOTIFICATION_TOKEN: NOTIFICATION_TOKEN,
      PORTCULLIS_SECURITY_EMBEDDED_ENABLED: 'false',
      PORTCULLIS_SECURITY_DUMMY_SERVER: `fixture:${fixtureFile}`,
    };
    const added = await runCli(['user', 'add', 'bench', '--admin'], { env, input: `${PASSWORD}\n` });
    if (added.code !== 0) throw new Error(`user add failed: ${added.stderr}`);
    const image = await writeTinyLayout(join(dir, 'image'), { layers: SAMPLE_LAYERS });
    const serve = await startServe(['--listen', `127.0.0.1:${servePort}`], env);
    const browser = await launchChromium();
    try {
      await pushImage(join(dir, 'image'), `${registry.host}/bench/ui:1`);
      const digest = image.manifest.digest;
      const context = await browser.newContext({ baseURL: serve.url, viewport: { width: 1280, height: 900 } });
      const signIn = await context.request.post('/api/v1/session', { data: { username: 'bench', password: PASSWORD } });
      if (!signIn.ok()) throw new Error(`sign-in failed: ${signIn.status()}`);
      const deadline = Date.now() + 120_000;
      for (;;) {
        const res = await context.request.get(`/api/v1/manifests/${digest}/findings?limit=1`);
        if (res.ok() && ((await res.json()) as { total?: number }).total === 2000) break;
        if (Date.now() > deadline) throw new Error(`the dummy scan of ${digest} did not reach 2,000 findings: ${res.status()} ${await res.text()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = `/manifests/${encodeURIComponent(digest)}?repository=bench/ui&tag=1`;
      const firstRender: number[] = [];
      const fetchOnly: number[] = [];
      const to500: number[] = [];
      const fetch500: number[] = [];
      const runs = target.quick ? 3 : 9;
      for (let i = 0; i < runs + 1; i += 1) {
        const page = await context.newPage();
        await page.goto(url, { waitUntil: 'commit' });
        // Page functions as strings: this file is compiled without the DOM library.
        const renderedAt = Number(await page.evaluate(rowsAtLeast(100)));
        const fetched = Number(await page.evaluate(timedFetch(digest, 100)));
        const switchStarted = Number(await page.evaluate('performance.now()'));
        await page.getByLabel('Rows per page').selectOption('500');
        const switchedAt = Number(await page.evaluate(rowsAtLeast(500)));
        const fetched500 = Number(await page.evaluate(timedFetch(digest, 500)));
        await page.close();
        if (i === 0) continue; // the first load warms the server's code paths and the asset cache
        firstRender.push(renderedAt);
        fetchOnly.push(fetched);
        to500.push(switchedAt - switchStarted);
        fetch500.push(fetched500);
      }
      target.rows.push({
        section: 'IV.2 tag page',
        what: `tag page of an image with 2,000 findings: navigation start -> first 100 rows in the DOM (signed in, assets cached, median of ${runs})`,
        ours: { value: median(firstRender), unit: 'ms' },
        refWhat: 'the same page fetching the JSON of those 100 findings (same query), same run',
        ref: { value: median(fetchOnly), unit: 'ms' },
        better: 'lower',
        note: 'includes loading the page, its script, the session, the manifest and the findings, and rendering the chart and table',
      });
      target.rows.push({
        section: 'IV.2 tag page',
        what: `the same page switched to 500 rows per page: select -> 500 rows in the DOM (median of ${runs})`,
        ours: { value: median(to500), unit: 'ms' },
        refWhat: 'the page fetching the JSON of those 500 findings, same run',
        ref: { value: median(fetch500), unit: 'ms' },
        better: 'lower',
      });
      await context.close();
    } finally {
      await browser.close();
      await serve.stop();
    }
  } finally {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
