/**
 * The merge of every backend's findings on real data: the embedded scanner's findings and inventory
 * of the real `lang` test image (bookworm with npm, PyPI and Go packages) matched against the real
 * feed samples, the recorded Clair v2.0.9 answer for a bookworm image (its vulnerabilities are the
 * synthetic ones the corpus inserted through Clair's own API, on the source packages `zlib` and
 * `ncurses` the image holds as zlib1g, libtinfo6, ...), and a dummy fixture that names advisories
 * the other two found, under an alias, with other severities and fixes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { convertLayer, parseLayerEnvelope } from '../../src/backends/clair-v2/convert.js';
import { parseDummyFixture, type DummyFixture } from '../../src/backends/dummy/backend.js';
import type { BackendScanOutput } from '../../src/backends/types.js';
import type { Finding } from '../../src/domain/finding.js';
import type { Inventory } from '../../src/domain/inventory.js';
import { buildRealDb, type RealDb } from '../../src/matching/test-support/real-data.js';
import { inventoryReference } from '../../src/services/inventory-service.js';
import { reportFor } from '../../src/services/scan-service.js';
import { testImages } from '../harness/images.js';
import { sharedData } from '../support/shared-data.js';
import type { ScanRow } from '../../src/store/catalog.js';
import { aggregateFindings, aggregateStatus, storedResults, type AggregatedFinding, type BackendResult, type ManifestAggregate } from '../../src/service/aggregate.js';

const DIGEST = `sha256:${'d'.repeat(64)}`;

/** The recorded Clair v2 answer as the Clair backend converts it. */
function clairOutput(): BackendScanOutput {
  const recorded = JSON.parse(readFileSync(sharedData('api-samples', 'clair-v2', '32_synthetic_get_top_layer_multilayer_portus_query.json'), 'utf8')) as { response_body: unknown };
  return convertLayer(parseLayerEnvelope(recorded.response_body, 'GET /v1/layers/top'));
}

/** A dummy fixture naming what the embedded scanner and Clair found, differently. */
const DUMMY: DummyFixture = {
  packages: [
    // The embedded scanner finds NSWG-ECO-456 (alias CVE-2018-3774) in url-parse 1.4.0, High, fixed in 1.4.3.
    { name: 'url-parse', version: '1.4.0', vulnerabilities: [{ id: 'CVE-2018-3774', severity: 'Critical', fixedBy: '1.4.4', link: 'https://nvd.nist.gov/vuln/detail/CVE-2018-3774' }] },
    // Clair finds CVE-0000-1001 in the source package zlib, High, fixed in 1:1.2.13.dfsg-2.
    { name: 'zlib', version: '1:1.2.13.dfsg-1', namespace: 'debian:12', vulnerabilities: [{ id: 'CVE-0000-1001', severity: 'Medium', fixedBy: '1:1.2.13.dfsg-3' }] },
    // Clair finds CVE-0000-1002 in the source package ncurses; here under one of its binaries.
    { name: 'libtinfo6', version: '6.4-4', namespace: 'debian:12', vulnerabilities: [{ id: 'CVE-0000-1002', severity: 'Low' }] },
  ],
};

const scanned = (backend: string) => ({ backend, status: 'scanned' as const, reason: null, finishedAt: '2026-12-07T00:00:00.000Z', included: true });

describe('aggregating backends on real data (lang image, recorded Clair v2 answer, a dummy fixture)', () => {
  let realDb: RealDb;
  let inventory: Inventory;
  let embedded: Finding[];
  let clair: BackendScanOutput;
  let results: BackendResult[];
  let aggregate: ManifestAggregate;
  const one = (id: string, pkg?: string): AggregatedFinding => {
    const hits = aggregate.findings.filter((f) => (f.id === id || f.aliases.includes(id)) && (pkg === undefined || f.package.name === pkg));
    assert.equal(hits.length, 1, `one aggregated finding of ${id}${pkg ? ` in ${pkg}` : ''}: ${JSON.stringify(hits.map((h) => `${h.id} ${h.package.name}`))}`);
    const [hit] = hits;
    assert.ok(hit);
    return hit;
  };

  before(async () => {
    realDb = await buildRealDb();
    const [inv] = await inventoryReference({ reference: testImages().images.lang.ociReference, cache: false });
    assert.ok(inv);
    inventory = inv;
    embedded = (await reportFor(inventory, realDb.db)).report.findings;
    clair = clairOutput();
    results = [
      { backend: 'embedded', kind: 'embedded', findings: embedded },
      { backend: 'clair', kind: 'external', packages: clair.packages, ...(clair.seenPackages ? { seenPackages: clair.seenPackages } : {}) },
      { backend: 'dummy', kind: 'external', packages: parseDummyFixture(DUMMY, 'test').output.packages },
    ];
    aggregate = aggregateFindings(DIGEST, [scanned('clair'), scanned('dummy'), scanned('embedded')], results, inventory);
  });
  after(() => realDb?.dispose());

  test('the inputs are what the test says: real embedded findings, Clair naming Debian source packages', () => {
    assert.ok(embedded.some((f) => f.id === 'NSWG-ECO-456' && f.aliases.includes('CVE-2018-3774') && f.package.name === 'url-parse' && f.severity === 'High' && f.fixedVersions.join() === '1.4.3'));
    assert.ok(!embedded.some((f) => f.package.ecosystem === 'deb'), 'no Debian advisory of the feed samples affects this image');
    assert.deepEqual(clair.packages.map((p) => `${p.name} ${p.version}`), ['ncurses 6.4-4', 'zlib 1:1.2.13.dfsg-1']);
    assert.equal(clair.seenPackages?.length, 128);
    const zlib1g = inventory.packages.find((p) => p.name === 'zlib1g');
    assert.deepEqual([zlib1g?.sourceName, zlib1g?.sourceVersion], ['zlib', '1:1.2.13.dfsg-1']);
  });

  test('embedded alone aggregates to exactly its findings, each found by embedded only', () => {
    const alone = aggregateFindings(DIGEST, [scanned('embedded')], [results[0] as BackendResult], inventory);
    assert.equal(alone.findings.length, embedded.length);
    assert.deepEqual(alone.findings.map((f) => `${f.id} ${f.package.name} ${f.package.path ?? ''}`).sort(), embedded.map((f) => `${f.id} ${f.package.name} ${f.package.path}`).sort());
    assert.ok(alone.findings.every((f) => f.foundBy.length === 1 && f.foundBy[0]?.backend === 'embedded' && f.disagreements.length === 0 && f.why !== undefined));
    assert.equal(alone.complete, true);
  });

  test('an advisory named by an alias in the same package is one finding found by both; the embedded severity and fix are shown, the disagreements listed', () => {
    const f = one('NSWG-ECO-456');
    assert.equal(f.id, 'NSWG-ECO-456');
    assert.ok(f.aliases.includes('CVE-2018-3774'));
    assert.deepEqual(f.foundBy.map((b) => `${b.backend}:${b.id}:${b.severity}:${b.backendSeverity}:${b.fixedIn.join('|')}`), ['embedded:NSWG-ECO-456:High:High:1.4.3', 'dummy:CVE-2018-3774:Critical:Critical:1.4.4']);
    assert.equal(f.foundBy[1]?.link, 'https://nvd.nist.gov/vuln/detail/CVE-2018-3774');
    assert.equal(f.severity, 'High');
    assert.match(f.severitySource, /^embedded: /);
    assert.deepEqual(f.fixedVersions, ['1.4.3']);
    const severity = f.disagreements.find((d) => d.kind === 'severity');
    assert.ok(severity?.kind === 'severity');
    assert.equal(severity.shownFrom, 'embedded');
    assert.deepEqual(severity.values.map((v) => `${v.backend}:${v.severity}`), ['embedded:High', 'dummy:Critical']);
    const fixed = f.disagreements.find((d) => d.kind === 'fixed-version');
    assert.ok(fixed?.kind === 'fixed-version');
    assert.deepEqual(fixed.values, [{ backend: 'embedded', fixedIn: ['1.4.3'] }, { backend: 'dummy', fixedIn: ['1.4.4'] }]);
    assert.ok(f.why !== undefined, "the embedded scanner's evidence is kept");
    assert.deepEqual(f.notFoundBy, [{ backend: 'clair', sawPackage: 'no' }], 'Clair lists what it saw, and url-parse is not among it');
  });

  test("Clair's source-package findings reach the image's binaries; the embedded scanner saw the package and did not find the advisory", () => {
    const zlib = one('CVE-0000-1001');
    assert.deepEqual(zlib.package, { name: 'zlib', version: '1:1.2.13.dfsg-1', namespace: 'debian:12', addedBy: zlib.package.addedBy });
    assert.deepEqual(zlib.imagePackages.map((p) => `${p.name} ${p.version}`), ['zlib1g 1:1.2.13.dfsg-1']);
    assert.deepEqual(zlib.foundBy.map((b) => `${b.backend}:${b.severity}:${b.fixedIn.join('|')}`), ['clair:High:1:1.2.13.dfsg-2', 'dummy:Medium:1:1.2.13.dfsg-3']);
    assert.equal(zlib.severity, 'High', 'without the embedded scanner, the most severe rating');
    assert.match(zlib.severitySource, /^clair: High$/);
    assert.deepEqual(zlib.fixedVersions, ['1:1.2.13.dfsg-2', '1:1.2.13.dfsg-3']);
    assert.deepEqual(zlib.notFoundBy, [{ backend: 'embedded', sawPackage: 'yes', as: 'zlib1g 1:1.2.13.dfsg-1' }]);
    const missed = zlib.disagreements.find((d) => d.kind === 'not-found');
    assert.deepEqual(missed, { kind: 'not-found', foundBy: ['clair', 'dummy'], sawPackageWithoutIt: [{ backend: 'embedded', as: 'zlib1g 1:1.2.13.dfsg-1' }] });
    assert.deepEqual(
      zlib.disagreements.map((d) => d.kind),
      ['severity', 'fixed-version', 'not-found'],
    );
  });

  test('a source name and a binary name of the same image packages are one finding; an Unknown rating never outranks a known one', () => {
    const ncurses = one('CVE-0000-1002');
    assert.deepEqual(ncurses.foundBy.map((b) => `${b.backend} ${b.package}`), ['clair ncurses 6.4-4', 'dummy libtinfo6 6.4-4']);
    assert.deepEqual(ncurses.imagePackages.map((p) => p.name).sort(), ['libncursesw6', 'libtinfo6', 'ncurses-base', 'ncurses-bin']);
    assert.equal(ncurses.disagreements.some((d) => d.kind === 'severity'), false, 'both say Low');
    const unknown = one('CVE-0000-1004');
    assert.deepEqual(unknown.foundBy.map((b) => b.backend), ['clair']);
    assert.equal(unknown.severity, 'Unknown');
    assert.deepEqual(unknown.notFoundBy, [
      { backend: 'embedded', sawPackage: 'yes', as: 'zlib1g 1:1.2.13.dfsg-1' },
      { backend: 'dummy', sawPackage: 'yes', as: 'zlib 1:1.2.13.dfsg-1' },
    ]);
  });

  test('counts are per aggregated finding; every backend keeps its own count', () => {
    assert.equal(aggregate.findings.length, embedded.length + 3, "the embedded findings plus Clair's three; the dummy's all merged");
    const total = Object.values(aggregate.counts).reduce((n, c) => n + (c ?? 0), 0);
    assert.equal(total, aggregate.findings.length);
    assert.deepEqual(aggregate.backends.map((b) => `${b.backend}:${b.findings}`), ['clair:3', 'dummy:3', `embedded:${embedded.length}`]);
    assert.equal(aggregate.complete, true);
    assert.equal(aggregate.status, 'scanned');
  });

  test('a backend that failed or is pending is listed with its state: the aggregate is not complete and not clean', () => {
    const failed = aggregateFindings(DIGEST, [{ ...scanned('clair'), status: 'failed', reason: 'clair: cannot reach the server', included: false }, scanned('embedded')], [results[0] as BackendResult], inventory);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.complete, false);
    assert.deepEqual(failed.backends.find((b) => b.backend === 'clair'), { backend: 'clair', status: 'failed', reason: 'clair: cannot reach the server', finishedAt: '2026-12-07T00:00:00.000Z', included: false, findings: 0 });
    assert.equal(failed.findings.length, embedded.length);
    assert.ok(failed.findings.every((f) => !f.notFoundBy.some((n) => n.backend === 'clair')), 'a backend that did not run is never one that "did not find" anything');
  });
});

describe('aggregate state and stored reports', () => {
  test('the shown state: failed beats at work beats scanned; unsupported alone is unsupported', () => {
    assert.equal(aggregateStatus([]), 'queued');
    assert.equal(aggregateStatus(['scanned', 'failed', 'queued']), 'failed');
    assert.equal(aggregateStatus(['scanned', 'scanning']), 'scanning');
    assert.equal(aggregateStatus(['scanned', 'queued']), 'queued');
    assert.equal(aggregateStatus(['scanned', 'unsupported']), 'scanned');
    assert.equal(aggregateStatus(['unsupported', 'unsupported']), 'unsupported');
  });

  const row = (backend: string, status: ScanRow['status'], report: string | null): ScanRow => ({ manifestDigest: DIGEST, backend, status, reason: null, queuedAt: '', startedAt: null, finishedAt: null, report, counts: null });

  test('a stored backend report of another shape is not read as clean: excluded, with the reason, and the aggregate not complete', () => {
    const { states, results } = storedResults([row('clair', 'scanned', '{"packages":[{"name":"zlib"}]}'), row('dummy', 'scanned', 'not json'), row('zypper', 'failed', null)]);
    assert.deepEqual(results, []);
    assert.deepEqual(
      states.map((s) => `${s.backend}:${s.status}:${String(s.included)}:${s.reason ?? ''}`),
      ['clair:scanned:false:its stored report cannot be read (re-scan to replace it)', 'dummy:scanned:false:its stored report cannot be read (re-scan to replace it)', 'zypper:failed:false:'],
    );
    assert.equal(aggregateFindings(DIGEST, states, results).complete, false);
  });

  test("a re-scan's kept report is included while it is queued; a failed backend's is not", () => {
    const report = JSON.stringify({ packages: [{ name: 'zlib', version: '1', vulnerabilities: [{ id: 'CVE-1', severity: 'High', backendSeverity: 'High' }] }] });
    const { states, results } = storedResults([row('clair', 'queued', report), row('dummy', 'failed', report)]);
    assert.deepEqual(results.map((r) => r.backend), ['clair']);
    assert.deepEqual(states.map((s) => s.included), [true, false]);
  });
});
