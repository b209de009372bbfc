import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Finding } from '../domain/finding.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { parseWhitelist } from '../policy/whitelist.js';
import { fixtureReport } from '../policy/test-support/scan-fixtures.js';
import { sharedData } from '../../test/support/shared-data.js';
import { clairScannerFormat, goMarshalIndent, toClairScannerReport, type ClairScannerReport } from './clair-scanner.js';
import { fixtureContext, ownedFixtureContext } from './test-support/context.js';

// The JSON report the real clair-scanner v13 wrote (`-r`), recorded in the shared data.
const recorded = JSON.parse(readFileSync(sharedData('api-samples', 'clair-v2', '40_clair_scanner_v13_report_bookworm_extras.json'), 'utf8')) as { exit_code: number; 'report_file_-r': ClairScannerReport };

describe('clair-scanner format', () => {
  test('reproduces the real v13 report for the same vulnerabilities in scan order', () => {
    const sample = recorded['report_file_-r'];
    const base = fixtureReport().findings[0];
    assert.ok(base);
    // The scan order Clair gave (ncurses first): the recorded `unapproved` list keeps it.
    const order = ['CVE-0000-1002', 'CVE-0000-1001', 'CVE-0000-1004'];
    const findings: Finding[] = order.map((id) => {
      const v = sample.vulnerabilities.find((x) => x.vulnerability === id);
      assert.ok(v);
      return {
        ...structuredClone(base),
        id,
        aliases: [],
        package: { ...base.package, name: v.featurename, version: v.featureversion },
        namespace: v.namespace,
        description: v.description,
        links: [v.link],
        severity: v.severity as Finding['severity'],
        fixedVersions: v.fixedby === '' ? [] : [v.fixedby],
        state: v.fixedby === '' ? 'unfixed' : 'fixed',
      };
    });
    const report = fixtureReport();
    report.findings = findings;
    const policy = evaluatePolicy(report, { imageName: sample.image, threshold: 'Unknown' });
    assert.equal(policy.verdict === 'fail' ? 1 : 0, recorded.exit_code);
    assert.deepEqual(toClairScannerReport({ report, policy, imageName: sample.image }), sample);
  });

  test('exact bytes: Go MarshalIndent with 4 spaces, no trailing newline, approved ones included', () => {
    const out = clairScannerFormat.render(fixtureContext());
    const doc = JSON.parse(out) as ClairScannerReport;
    assert.equal(out.endsWith('}'), true);
    assert.equal(out.split('\n')[1], '    "image": "localhost:5000/team/web:1.4.2",');
    assert.deepEqual(doc.unapproved, ['CVE-2022-37434', 'CVE-2023-0286']);
    assert.deepEqual(doc.vulnerabilities.map((v) => [v.vulnerability, v.severity]), [
      ['CVE-2022-37434', 'Critical'],
      ['CVE-2023-0286', 'High'],
      ['GHSA-vfw5-hrgq-h5wf', 'High'],
      ['CVE-2023-23916', 'Medium'],
      ['PYSEC-2021-1', 'Unknown'],
    ]);
    assert.equal(
      out.slice(out.indexOf('"vulnerabilities"'), out.indexOf('},') + 2),
      [
        '"vulnerabilities": [',
        '        {',
        '            "featurename": "zlib1g",',
        '            "featureversion": "1:1.2.11.dfsg-2+deb11u1",',
        '            "vulnerability": "CVE-2022-37434",',
        '            "namespace": "debian:11",',
        '            "description": "CVE-2022-37434 in zlib",',
        '            "link": "https://security-tracker.debian.org/tracker/CVE-2022-37434",',
        '            "severity": "Critical",',
        '            "fixedby": "1:1.2.11.dfsg-2+deb11u2"',
        '        },',
      ].join('\n'),
    );
  });

  test('whitelisted and threshold-approved vulnerabilities stay listed; nothing unapproved is []', () => {
    const report = fixtureReport();
    const whitelist = parseWhitelist('generalwhitelist:\n  CVE-2022-37434: zlib\n  CVE-2023-0286: openssl\n  CVE-2022-32221: curl\n', 'w.yaml');
    const policy = evaluatePolicy(report, { imageName: 'web:1.4.2', whitelist, threshold: 'High' });
    const doc = toClairScannerReport({ report, policy, imageName: 'web:1.4.2' });
    assert.deepEqual(doc.unapproved, ['GHSA-vfw5-hrgq-h5wf']);
    assert.equal(doc.vulnerabilities.length, 7);
    const none = evaluatePolicy(report, { imageName: 'web:1.4.2', threshold: 'Defcon1' });
    assert.match(clairScannerFormat.render({ report, policy: none, imageName: 'web:1.4.2' }), /"unapproved": \[\],/);
  });

  test('Go HTML-safe escaping of <, >, & and line separators', () => {
    assert.equal(goMarshalIndent({ description: 'a < b && c > d \u2028' }), '{\n    "description": "a \\u003c b \\u0026\\u0026 c \\u003e d \\u2028"\n}');
    assert.equal(goMarshalIndent({ unapproved: [] }), '{\n    "unapproved": []\n}');
  });
});

describe('clair-scanner format: language packages an OS package installed', () => {
  test('no new field: the description ends with the owner', () => {
    const entry = toClairScannerReport(ownedFixtureContext()).vulnerabilities.find((v) => v.vulnerability === 'PYSEC-2021-1');
    assert.deepEqual(Object.keys(entry ?? {}), ['featurename', 'featureversion', 'vulnerability', 'namespace', 'description', 'link', 'severity', 'fixedby']);
    assert.match(entry?.description ?? '', /confidentiality\. \[installed by deb ansible 2\.9\.10\+dfsg-1\]$/);
    assert.doesNotMatch(toClairScannerReport(fixtureContext()).vulnerabilities.find((v) => v.vulnerability === 'PYSEC-2021-1')?.description ?? '', /installed by/);
  });
});
