import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../src/domain/finding.js';
import { importFeeds } from '../../src/vulndb/index.js';
import { testImages } from '../harness/images.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { writeTinyLayout } from '../harness/tiny-image.js';
import { runCli } from '../support/run-cli.js';
import { assertValidCycloneDx, assertValidSarif, parseJUnit } from '../support/schemas.js';
import { sharedData } from '../support/shared-data.js';

const images = testImages();
const lang = images.images.lang;
const minbase = images.images.minbase;

interface JsonReport {
  report: { findings: Finding[]; packageCount: number; db: { feeds: { feed: string }[] } };
  policy: { verdict: string; decisions: { finding: number; status: string }[] };
}

/** The findings of a JSON report whose policy decision is `status`. */
function decided(doc: JsonReport, status: string): Finding[] {
  return doc.policy.decisions.filter((d) => d.status === status).map((d) => doc.report.findings[d.finding] as Finding);
}

describe('portcullis scan: the CI gate end to end on real images', () => {
  let dir: string;
  let db: string;
  let registry: RunningRegistry;
  let baseline: JsonReport;
  // The real feeds are a 2026 snapshot: older than --offline's default 7-day limit, so accept any age.
  const common = (): string[] => ['--db', db, '--platform', 'linux/amd64', '--no-cache', '--offline', '--max-db-age', '36500d'];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-gate-'));
    db = join(dir, 'vuln.db');
    await importFeeds([sharedData('feeds')], { target: db });
    registry = await startRegistry({ auth: 'none' });
    await pushImage(lang.ociReference, `${registry.host}/team/lang:1`);
    const res = await runCli(['scan', lang.ociReference, '--format', 'json', ...common()]);
    assert.equal(res.code, 1, res.stderr);
    baseline = JSON.parse(res.stdout) as JsonReport;
  });
  after(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ids = (): string[] => [...new Set(baseline.report.findings.map((f) => f.id))];

  test('json: every finding names its id, aliases, package, layer and why; unapproved means exit 1', () => {
    const findings = baseline.report.findings;
    assert.ok(findings.length > 0, 'the lang image carries vulnerable npm packages and a Go 1.19 binary');
    const npmLayer = lang.layers[lang.roleIndex['npm-app'] ?? -1]?.digest;
    for (const f of findings) {
      assert.match(f.id, /\S/);
      assert.ok(Array.isArray(f.aliases));
      assert.ok(f.why.package && f.why.advisory && f.why.rule, `why of ${f.id}`);
      if (f.package.ecosystem === 'npm') assert.equal(f.package.layer, npmLayer, `${f.package.name} was installed by the npm layer`);
    }
    assert.ok(findings.some((f) => f.package.ecosystem === 'npm'));
    assert.ok(findings.some((f) => f.package.ecosystem === 'golang' && f.package.name === 'stdlib'));
    assert.ok(baseline.report.db.feeds.some((f) => f.feed === 'osv'), 'the report names the feeds it used');
    assert.equal(baseline.policy.verdict, 'fail');
  });

  test('a whitelist approving every finding passes (exit 0); approving under another image name does not', async () => {
    const general = join(dir, 'general.yaml');
    await writeFile(general, `generalwhitelist:\n${ids().map((id) => `  ${id}: accepted`).join('\n')}\n`);
    assert.equal((await runCli(['scan', lang.ociReference, '-w', general, '-q', ...common()])).code, 0);
    const other = join(dir, 'other.yaml');
    await writeFile(other, `images:\n  some/other-image:\n${ids().map((id) => `    ${id}: accepted`).join('\n')}\n`);
    assert.equal((await runCli(['scan', lang.ociReference, '-w', other, '-q', ...common()])).code, 1);
  });

  test('per-image whitelist keys match registry images by host:port/repository, without the tag', async () => {
    const ref = `${registry.host}/team/lang:1`;
    const wl = join(dir, 'per-image.yaml');
    await writeFile(wl, `images:\n  ${registry.host}/team/lang:\n${ids().map((id) => `    ${id}: accepted`).join('\n')}\n`);
    const res = await runCli(['scan', ref, '--insecure', '-w', wl, '-q', ...common()]);
    assert.equal(res.code, 0, res.stderr);
  });

  test('threshold: findings strictly below it are approved', async () => {
    const res = await runCli(['scan', lang.ociReference, '-t', 'Defcon1', '-q', ...common()]);
    assert.equal(res.code, 0, 'nothing reaches Defcon1');
    const high = await runCli(['scan', lang.ociReference, '-t', 'High', '--format', 'json', ...common()]);
    const report = JSON.parse(high.stdout) as JsonReport;
    const expectFail = baseline.report.findings.some((f) => f.severity === 'High' || f.severity === 'Critical');
    assert.equal(high.code, expectFail ? 1 : 0);
    for (const f of decided(report, 'unapproved')) assert.ok(f.severity === 'High' || f.severity === 'Critical', `${f.id} is ${f.severity}`);
  });

  test('--severity and --ignore-unfixed filter the view; --exit-code sets the failure code', async () => {
    const res = await runCli(['scan', lang.ociReference, '--severity', 'Medium', '--format', 'json', '--exit-code', '3', ...common()]);
    const report = JSON.parse(res.stdout) as JsonReport;
    assert.ok(decided(report, 'unapproved').length > 0);
    assert.ok(decided(report, 'unapproved').every((f) => f.severity === 'Medium'));
    assert.equal(res.code, 3);
    const fixedOnly = JSON.parse((await runCli(['scan', lang.ociReference, '--ignore-unfixed', '--format', 'json', ...common()])).stdout) as JsonReport;
    assert.ok(decided(fixedOnly, 'unapproved').every((f) => f.fixedVersions.length > 0));
  });

  test('--exit-code 0 reports unapproved findings without failing; codes above 255 are refused, not wrapped', async () => {
    const reportOnly = await runCli(['scan', lang.ociReference, '--exit-code', '0', ...common()]);
    assert.equal(reportOnly.code, 0, reportOnly.stderr);
    assert.match(reportOnly.stdout, /Unapproved/);
    assert.match(reportOnly.stdout, /Verdict: FAIL/);
    const highest = await runCli(['scan', lang.ociReference, '--exit-code', '255', '-q', ...common()]);
    assert.equal(highest.code, 255, highest.stderr);
    const wrapped = await runCli(['scan', lang.ociReference, '--exit-code', '300', ...common()]);
    assert.equal(wrapped.code, 2);
    assert.equal(wrapped.stderr, 'portcullis: --exit-code must be an integer from 0 to 255, got "300" [E_USAGE]\n');
    assert.equal(wrapped.stdout, '');
  });

  test('OpenVEX not_affected statements suppress findings and --show-suppressed gives the justification', async () => {
    const target = baseline.report.findings.find((f) => f.package.ecosystem === 'npm');
    assert.ok(target);
    const vex = join(dir, 'app.openvex.json');
    const statements = baseline.report.findings.map((f) => ({
      vulnerability: { name: f.id },
      products: [{ '@id': f.package.purl }],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
    }));
    await writeFile(vex, JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', '@id': 'https://example.invalid/vex/1', author: 'ci', timestamp: '2026-01-01T00:00:00Z', version: 1, statements }));
    const res = await runCli(['scan', lang.ociReference, '--vex', vex, '--show-suppressed', ...common()]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /vulnerable_code_not_in_execute_path/);
    assert.match(res.stdout, new RegExp(target.id));
  });

  test('several outputs at once, each valid against its official schema, and the clair-scanner report', async () => {
    const sarif = join(dir, 'out.sarif');
    const cdx = join(dir, 'out.cdx.json');
    const junit = join(dir, 'out.junit.xml');
    const clair = join(dir, 'clair-report.json');
    const res = await runCli(['scan', lang.ociReference, '-q', '-r', clair, '--output', `sarif=${sarif}`, '--output', `cyclonedx=${cdx}`, '--output', `junit=${junit}`, ...common()]);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '', '-q prints no table');
    const sarifLog = JSON.parse(await readFile(sarif, 'utf8')) as { runs: { results: unknown[] }[] };
    assertValidSarif(sarifLog);
    assert.equal(sarifLog.runs[0]?.results.length, baseline.report.findings.length);
    await assertValidCycloneDx(JSON.parse(await readFile(cdx, 'utf8')));
    const suites = parseJUnit(await readFile(junit, 'utf8')).suites;
    assert.ok(suites.some((s) => s.failures > 0));
    const report = JSON.parse(await readFile(clair, 'utf8')) as { image: string; unapproved: string[]; vulnerabilities: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(report), ['image', 'unapproved', 'vulnerabilities']);
    assert.deepEqual(Object.keys(report.vulnerabilities[0] ?? {}).sort(), ['description', 'featurename', 'featureversion', 'fixedby', 'link', 'namespace', 'severity', 'vulnerability']);
    assert.deepEqual([...new Set(report.unapproved)].sort(), ids().sort());
  });

  test('an image without packages: exit 5 with --exit-when-no-features, else 0', async () => {
    const layout = join(dir, 'empty-layout');
    await writeTinyLayout(layout, { layers: [[{ path: 'hello.txt', content: 'no package database here\n' }]] });
    assert.equal((await runCli(['scan', `oci:${layout}:latest`, '--exit-when-no-features', '-q', ...common()])).code, 5);
    assert.equal((await runCli(['scan', `oci:${layout}:latest`, '-q', ...common()])).code, 0);
  });

  test('errors exit 2, never 1: bad reference, malformed whitelist/VEX/ignore file, missing DB offline', async () => {
    const cases: { args: string[]; message: RegExp }[] = [
      { args: ['scan', 'oci:/nonexistent/layout:latest', ...common()], message: /nonexistent/ },
      { args: ['scan', 'INVALID//ref::', ...common()], message: /E_REFERENCE/ },
      { args: ['scan', lang.ociReference, '-t', 'Severe', ...common()], message: /Severe/ },
      { args: ['scan', lang.ociReference, '--db', join(dir, 'missing.db'), '--offline', '--platform', 'linux/amd64'], message: /E_DB/ },
    ];
    const badWhitelist = join(dir, 'bad-whitelist.yaml');
    await writeFile(badWhitelist, 'generalwhitelist: [CVE-2020-1234\n');
    cases.push({ args: ['scan', lang.ociReference, '-w', badWhitelist, ...common()], message: /bad-whitelist\.yaml/ });
    const badVex = join(dir, 'bad.vex.json');
    await writeFile(badVex, '{"statements": 5}');
    cases.push({ args: ['scan', lang.ociReference, '--vex', badVex, ...common()], message: /bad\.vex\.json/ });
    const badIgnore = join(dir, 'bad.ignore.yaml');
    await writeFile(badIgnore, 'vulnerabilities:\n  - id: [1, 2]\n');
    cases.push({ args: ['scan', lang.ociReference, '--ignore-file', badIgnore, ...common()], message: /bad\.ignore\.yaml/ });
    for (const c of cases) {
      const res = await runCli(c.args);
      assert.equal(res.code, 2, `${c.args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, c.message);
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  test('a failed scan writes no partial output file', async () => {
    const out = join(dir, 'never.sarif');
    const res = await runCli(['scan', 'oci:/nonexistent/layout:latest', '--output', `sarif=${out}`, ...common()]);
    assert.equal(res.code, 2);
    assert.equal(existsSync(out), false);
  });

  test('scanning the CycloneDX SBOM portcullis made of an image gives exactly the image findings', async () => {
    const sbom = join(dir, 'lang.cdx.json');
    const made = await runCli(['sbom', lang.ociReference, '--format', 'cyclonedx', '--output', sbom, '--platform', 'linux/amd64', '--no-cache']);
    assert.equal(made.code, 0, made.stderr);
    const res = await runCli(['scan', `sbom:${sbom}`, '--format', 'json', ...common()]);
    assert.equal(res.code, 1, res.stderr);
    const fromSbom = JSON.parse(res.stdout) as JsonReport;
    const key = (f: Finding): string => [f.id, f.aliases.join(','), f.package.purl, f.package.layer, f.package.path, f.fixedVersions.join(','), f.severity, f.state].join(' ');
    assert.deepEqual(fromSbom.report.findings.map(key).sort(), baseline.report.findings.map(key).sort());
  });

  test('minbase (Debian 12) scans without error and reports what the DB could say', async () => {
    const res = await runCli(['scan', minbase.ociReference, '--format', 'json', ...common()]);
    assert.ok(res.code === 0 || res.code === 1, res.stderr);
    const report = JSON.parse(res.stdout) as JsonReport;
    assert.ok(report.report.packageCount > 50);
  });
});
