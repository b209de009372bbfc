/**
 * The export formats of aggregated findings on findings that carry what a hostile feed or backend
 * could put in a cell: spreadsheet formulas, quotes, separators and line breaks; the status words.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertValidSarif } from '../../test/support/schemas.js';
import { findingStatus, type AggregatedFinding } from './aggregate.js';
import { exportFindings, findingsCsv, findingsSarif } from './findings-export.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

function finding(id: string, overrides: Partial<AggregatedFinding> = {}): AggregatedFinding {
  return {
    id,
    aliases: [],
    package: { name: 'zlib1g', version: '1:1.2.13.dfsg-1', path: 'var/lib/dpkg/status', layer: `sha256:${'1'.repeat(64)}` },
    severity: 'High',
    severitySource: 'embedded: debian',
    fixedVersions: [],
    status: 'unfixed',
    links: [],
    foundBy: [{ backend: 'embedded', id, severity: 'High', backendSeverity: 'high', fixedIn: [], package: 'zlib1g 1:1.2.13.dfsg-1' }],
    notFoundBy: [],
    disagreements: [],
    imagePackages: [],
    ...overrides,
  };
}

describe('CSV export', () => {
  test('RFC 4180: header, CRLF after every record, quotes doubled, fields with separators, quotes or breaks quoted', () => {
    const csv = findingsCsv([finding('CVE-2024-1', { title: 'a "quoted", two-line\ntitle', fixedVersions: ['1.0', '1.1'], status: 'fixed' })]);
    assert.equal(
      csv,
      'id,severity,package,version,fixed in,status,layer,found by,title\r\n' +
        `CVE-2024-1,High,zlib1g,1:1.2.13.dfsg-1,1.0 1.1,fixed,sha256:${'1'.repeat(64)},embedded,"a ""quoted"", two-line\ntitle"\r\n`,
    );
  });

  test('a cell starting with = + - @ tab or CR gets a leading apostrophe (no formula runs when the file is opened)', () => {
    const hostile = ['=HYPERLINK("http://x.invalid","y")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1'];
    const csv = findingsCsv(hostile.map((title, i) => finding(`CVE-0-${i}`, { title })));
    const titles = csv.split('\r\n').slice(1, -1).map((line) => line.slice(line.lastIndexOf(',embedded,') + ',embedded,'.length));
    assert.deepEqual(titles, [`"'=HYPERLINK(""http://x.invalid"",""y"")"`, "'+1+1", "'-2+3", "'@SUM(A1)", "'\t=1", `"'\r=1"`]);
    // The package name and the id are cells too.
    const row = findingsCsv([finding('=1+1', { package: { name: '@evil', version: '-1' } })]).split('\r\n')[1];
    assert.equal(row, "'=1+1,High,'@evil,'-1,,unfixed,,embedded,");
  });
});

describe('SARIF export', () => {
  test('valid SARIF 2.1.0, one rule per advisory, one result per finding; a finding without a path has no location', () => {
    const log = findingsSarif(DIGEST, [
      finding('CVE-2024-1', { ratings: [{ source: 'nvd', type: 'CVSS_V3', value: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8, normalized: 'Critical' }], severity: 'Critical' }),
      finding('CVE-2024-1', { package: { name: 'libz', version: '1' } }),
      finding('CVE-2024-2', { severity: 'Low', status: 'wont-fix' }),
    ]) as { runs: { tool: { driver: { rules: { id: string; properties: Record<string, unknown> }[] } }; results: { ruleIndex: number; level: string; locations?: unknown[]; message: { text: string } }[] }[] };
    assertValidSarif(log);
    const run = log.runs[0];
    assert.deepEqual(run?.tool.driver.rules.map((r) => [r.id, r.properties['security-severity']]), [
      ['CVE-2024-1', '9.8'],
      ['CVE-2024-2', '2.0'],
    ]);
    assert.deepEqual(run?.results.map((r) => [r.ruleIndex, r.level, r.locations?.length ?? 0]), [
      [0, 'error', 1],
      [0, 'error', 0],
      [1, 'note', 1],
    ]);
    assert.match(run?.results[2]?.message.text ?? '', /will not fix/);
  });

  test('the download names the file after the digest', () => {
    const file = exportFindings('sarif', DIGEST, { digest: DIGEST, status: 'scanned', complete: true, backends: [], counts: {}, findings: [] }, []);
    assert.deepEqual([file.fileName, file.mediaType], ['abababababab-findings.sarif', 'application/sarif+json']);
  });
});

describe('finding status', () => {
  test("the embedded finding's record decides; a vendor word meaning no fix will come is wont-fix", () => {
    assert.equal(findingStatus({ state: 'fixed' }, ['1.2']), 'fixed');
    assert.equal(findingStatus({ state: 'unfixed' }, []), 'unfixed');
    for (const word of ['will-not-fix', 'Will not fix', 'ignored', '<ignored>', 'Out of support scope', '<end-of-life>', 'wontfix']) assert.equal(findingStatus({ state: 'unfixed', vendorStatus: word }, []), 'wont-fix', word);
    for (const word of ['postponed', 'needed', 'deferred', 'Fix deferred', 'no-dsa', 'undetermined']) assert.equal(findingStatus({ state: 'unfixed', vendorStatus: word }, []), 'unfixed', word);
  });

  test('without an embedded finding: fixed when a backend names a fixed version', () => {
    assert.equal(findingStatus(undefined, ['1:1.2.13.dfsg-2']), 'fixed');
    assert.equal(findingStatus(undefined, []), 'unfixed');
  });
});
