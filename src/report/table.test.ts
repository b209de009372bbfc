import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy } from '../policy/evaluate.js';
import { fixtureReport, IMAGE_NAME } from '../policy/test-support/scan-fixtures.js';
import { renderTable } from './table.js';
import { fixtureContext, ownedFixtureContext } from './test-support/context.js';

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');

describe('table format', () => {
  test('plain table: grouped by package, location, status, fixed version, state, summary and verdict', () => {
    assert.equal(
      renderTable(fixtureContext()),
      [
        'localhost:5000/team/web:1.4.2 (Debian GNU/Linux 11 (bullseye)): 7 packages, 5 vulnerabilities',
        '',
        'PACKAGE           INSTALLED                           LOCATION                                                          VULNERABILITY        SEVERITY  STATUS      FIXED IN                            STATE',
        'zlib1g            1:1.2.11.dfsg-2+deb11u1             /var/lib/dpkg/status                                              CVE-2022-37434       Critical  Unapproved  1:1.2.11.dfsg-2+deb11u2             fixed',
        'golang.org/x/net  v0.0.0-20180724234803-3673e40ba225  /usr/local/bin/web                                                GHSA-vfw5-hrgq-h5wf  High      Approved    v0.0.0-20190125091013-d26f9f9a57f3  fixed',
        'libssl1.1         1.1.1n-0+deb11u3                    /var/lib/dpkg/status                                              CVE-2023-0286        High      Unapproved  1.1.1n-0+deb11u4                    fixed',
        'libcurl4          7.74.0-1.3+deb11u3                  /var/lib/dpkg/status                                              CVE-2023-23916       Medium    Approved    7.74.0-1.3+deb11u7                  fixed',
        'ansible           2.9.10                              /usr/lib/python3/dist-packages/ansible-2.9.10.dist-info/METADATA  PYSEC-2021-1         Unknown   Approved    2.9.19                              fixed',
        '',
        'Total: 5 (Critical 1, High 2, Medium 1, Low 0, Negligible 0, Unknown 1); unapproved 2, approved 3, suppressed 2. Verdict: FAIL',
        '',
      ].join('\n'),
    );
  });

  test('several findings of one package: the package is named on the first row only, most severe first', () => {
    const report = fixtureReport();
    const ctx = { report, policy: evaluatePolicy(report, { imageName: IMAGE_NAME }), imageName: IMAGE_NAME };
    const lines = renderTable(ctx).split('\n');
    const curl = lines.findIndex((l) => l.startsWith('libcurl4 '));
    assert.match(lines[curl] ?? '', /^libcurl4 +7\.74\.0-1\.3\+deb11u3 +\/var\/lib\/dpkg\/status +CVE-2022-32221 +Critical +Unapproved/);
    assert.match(lines[curl + 1] ?? '', /^ +CVE-2023-23916 +Medium +Unapproved/);
    assert.match(lines.find((l) => l.includes('CVE-2023-50495')) ?? '', /Low +Unapproved +unfixed \(postponed\)$/);
  });

  test('one package found in several files: one group per file, adjacent, named once, each with its location', () => {
    const report = fixtureReport();
    const goNet = report.findings.find((f) => f.package.name === 'golang.org/x/net');
    assert.ok(goNet);
    // The same module linked into three binaries: the matcher reports one finding per binary.
    const copies = ['usr/local/bin/api', 'usr/local/bin/worker'].map((path) => ({ ...goNet, package: { ...goNet.package, path } }));
    report.findings.push(...copies);
    const lines = renderTable({ report, policy: evaluatePolicy(report, { imageName: IMAGE_NAME }), imageName: IMAGE_NAME }).split('\n');
    const rows = lines.filter((l) => l.includes('GHSA-vfw5-hrgq-h5wf'));
    assert.equal(rows.length, 3);
    assert.deepEqual(
      rows.map((r) => r.split(/\s{2,}/).slice(0, 3)),
      [
        ['golang.org/x/net', 'v0.0.0-20180724234803-3673e40ba225', '/usr/local/bin/api'],
        ['', '/usr/local/bin/web', 'GHSA-vfw5-hrgq-h5wf'],
        ['', '/usr/local/bin/worker', 'GHSA-vfw5-hrgq-h5wf'],
      ],
    );
    const first = lines.indexOf(rows[0] ?? '');
    assert.deepEqual(lines.slice(first, first + 3), rows, 'the copies are adjacent');
  });

  test('counts agree with their noun: 1 package, 1 vulnerability', () => {
    const report = fixtureReport();
    report.findings = report.findings.filter((f) => f.id === 'CVE-2022-37434');
    report.packageCount = 1;
    const header = renderTable({ report, policy: evaluatePolicy(report, { imageName: IMAGE_NAME }), imageName: IMAGE_NAME }).split('\n')[0];
    assert.equal(header, 'localhost:5000/team/web:1.4.2 (Debian GNU/Linux 11 (bullseye)): 1 package, 1 vulnerability');
  });

  test('colours only when asked; the text is the same', () => {
    const plain = renderTable(fixtureContext({ showWhy: true }));
    const coloured = renderTable(fixtureContext({ showWhy: true, color: true }));
    assert.equal(plain.includes('\u001b['), false);
    assert.equal(coloured.includes('\u001b[31mUnapproved'), true);
    assert.equal(stripAnsi(coloured), plain);
  });

  test('why column, reportAll=false (clair-scanner: unapproved rows only) and suppressed list', () => {
    const out = renderTable(fixtureContext({ showWhy: true, reportAll: false, showSuppressed: true }));
    const lines = out.split('\n');
    assert.match(lines[2] ?? '', /STATE +WHY$/);
    assert.deepEqual(
      lines.slice(3, 5).map((l) => l.split(/\s{2,}/)[3]),
      ['CVE-2022-37434', 'CVE-2023-0286'],
    );
    assert.match(lines[3] ?? '', /dpkg: 1:1\.2\.11\.dfsg-2\+deb11u1 < 1:1\.2\.11\.dfsg-2\+deb11u2 \(fixed\)$/);
    assert.equal(out.includes('Approved '), false);
    assert.deepEqual(lines.slice(6, 9), [
      'Suppressed (2):',
      '  CVE-2022-32221  libcurl4 7.74.0-1.3+deb11u3  VEX not_affected (vulnerable_code_not_in_execute_path): libcurl is only used for GET requests (by Team Web)  [web.openvex.json]',
      '  CVE-2023-50495  libtinfo6 6.2+20201114-2  ncurses: no terminfo from users  [.portcullisignore:2]',
    ]);
  });

  test('nothing found, and nothing unapproved', () => {
    const report = fixtureReport();
    report.findings = [];
    const empty = renderTable({ report, policy: evaluatePolicy(report, { imageName: IMAGE_NAME }), imageName: IMAGE_NAME });
    assert.equal(empty, 'localhost:5000/team/web:1.4.2 (Debian GNU/Linux 11 (bullseye)): 7 packages, 0 vulnerabilities\n\nNo vulnerabilities found.\n\nTotal: 0 (Critical 0, High 0, Medium 0, Low 0, Negligible 0, Unknown 0); unapproved 0, approved 0, suppressed 0. Verdict: PASS\n');
    const all = fixtureReport();
    const passing = renderTable({ report: all, policy: evaluatePolicy(all, { imageName: IMAGE_NAME, threshold: 'Defcon1' }), imageName: IMAGE_NAME, options: { reportAll: false } });
    assert.match(passing, /\n\nNo unapproved vulnerabilities\.\n\nTotal: 7 .*Verdict: PASS\n$/);
  });
});

describe('table format: language packages an OS package installed', () => {
  test('the location names the owner after the file; --why adds what the distribution said', () => {
    const plain = renderTable(ownedFixtureContext());
    assert.match(plain, /^ansible +2\.9\.10 +\/usr\/lib\/python3\/dist-packages\/ansible-2\.9\.10\.dist-info\/METADATA \(deb ansible\) +PYSEC-2021-1 +Unknown +Approved/m);
    assert.doesNotMatch(renderTable(fixtureContext()), /\(deb /);
    const why = renderTable(ownedFixtureContext({ showWhy: true }));
    assert.match(why, /pep440: 2\.9\.10 < 2\.9\.19 \(fixed\); distro: deb ansible 2\.9\.10\+dfsg-1: debian:11 has no record of CVE-2021-20228 for it; kept$/m);
  });
});
