import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy } from './evaluate.js';
import { parseIgnoreText } from './ignore-file.js';
import { parseThreshold } from './threshold.js';
import { parseVex } from './vex.js';
import { parseWhitelist } from './whitelist.js';
import { fixtureReport, IMAGE_NAME } from './test-support/scan-fixtures.js';

const NOW = new Date('2026-06-15T00:00:00Z');
const ids = (list: { id: string }[]): string[] => list.map((f) => f.id);

describe('evaluatePolicy', () => {
  test('no policy: everything is unapproved and the gate fails (clair-scanner default threshold Unknown)', () => {
    const r = evaluatePolicy(fixtureReport(), { imageName: IMAGE_NAME });
    assert.equal(r.verdict, 'fail');
    assert.deepEqual(ids(r.unapproved), ['CVE-2022-37434', 'CVE-2023-0286', 'CVE-2022-32221', 'CVE-2023-23916', 'CVE-2023-50495', 'GHSA-vfw5-hrgq-h5wf', 'PYSEC-2021-1']);
    assert.deepEqual([r.approved.length, r.suppressed.length, r.filtered], [0, 0, 0]);
  });

  test('an empty report passes', () => {
    const report = fixtureReport();
    report.findings = [];
    assert.deepEqual(evaluatePolicy(report, { imageName: IMAGE_NAME, threshold: 'Unknown' }), { approved: [], unapproved: [], suppressed: [], verdict: 'pass', approvals: [], filtered: 0 });
  });

  test('threshold High approves everything strictly below High', () => {
    const r = evaluatePolicy(fixtureReport(), { imageName: IMAGE_NAME, threshold: parseThreshold('high') });
    assert.deepEqual(ids(r.unapproved), ['CVE-2022-37434', 'CVE-2023-0286', 'CVE-2022-32221', 'GHSA-vfw5-hrgq-h5wf']);
    assert.deepEqual(ids(r.approved), ['CVE-2023-23916', 'CVE-2023-50495', 'PYSEC-2021-1']);
    assert.deepEqual(r.approvals.map((a) => a.reason), ['Medium is below the High threshold', 'Low is below the High threshold', 'Unknown is below the High threshold']);
    assert.equal(r.verdict, 'fail');
  });

  test('whitelist approves by id or alias, general and per image; threshold Defcon1 approves the rest', () => {
    const whitelist = parseWhitelist('generalwhitelist:\n  CVE-2022-37434: accepted until zlib upgrade\nimages:\n  team/web:\n    CVE-2018-17846: html parser unused\n  team/api:\n    CVE-2023-0286: not this image\n', 'wl.yaml');
    const r = evaluatePolicy(fixtureReport(), { imageName: IMAGE_NAME, whitelist, threshold: 'Critical' });
    assert.deepEqual(ids(r.unapproved), ['CVE-2022-32221']);
    assert.deepEqual(
      r.approvals.map((a) => [a.finding.id, a.source]),
      [
        ['CVE-2022-37434', 'wl.yaml (generalwhitelist)'],
        ['CVE-2023-0286', 'threshold'],
        ['CVE-2023-23916', 'threshold'],
        ['CVE-2023-50495', 'threshold'],
        ['GHSA-vfw5-hrgq-h5wf', 'wl.yaml (images.team/web)'],
        ['PYSEC-2021-1', 'threshold'],
      ],
    );
    assert.equal(r.approvals[0]?.reason, 'whitelisted as CVE-2022-37434: accepted until zlib upgrade');
    const all = evaluatePolicy(fixtureReport(), { imageName: IMAGE_NAME, whitelist, threshold: 'Defcon1' });
    assert.equal(all.verdict, 'pass');
    assert.equal(all.approved.length, 7);
  });

  test('view filters drop findings from every list', () => {
    const r = evaluatePolicy(fixtureReport(), { imageName: IMAGE_NAME, severities: ['Critical', 'High'], ignoreUnfixed: true });
    assert.deepEqual(ids(r.unapproved), ['CVE-2022-37434', 'CVE-2023-0286', 'CVE-2022-32221', 'GHSA-vfw5-hrgq-h5wf']);
    assert.equal(r.filtered, 3);
    const unfixedOnly = evaluatePolicy(fixtureReport(), { imageName: IMAGE_NAME, ignoreUnfixed: true });
    assert.deepEqual(ids(unfixedOnly.unapproved).includes('CVE-2023-50495'), false);
    assert.equal(unfixedOnly.filtered, 1);
  });

  test('VEX and ignore files suppress before approval, with reason and source', () => {
    const vex = parseVex(
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        author: 'Team Web',
        statements: [{ vulnerability: { name: 'CVE-2022-32221' }, products: [{ '@id': 'pkg:deb/debian/libcurl4' }], status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }],
      }),
      'web.openvex.json',
    );
    const ignore = parseIgnoreText('# tracked in WEB-118\nCVE-2022-37434 exp:2026-07-01\nCVE-2023-0286 exp:2026-01-01\n', '.portcullisignore');
    const whitelist = parseWhitelist('generalwhitelist:\n  CVE-2022-32221: would approve, but VEX comes first\n', 'wl.yaml');
    const r = evaluatePolicy(fixtureReport(), { imageName: IMAGE_NAME, vex, ignore, whitelist, threshold: 'High', now: NOW });
    assert.deepEqual(
      r.suppressed.map((s) => [s.finding.id, s.kind, s.source, s.reason]),
      [
        ['CVE-2022-37434', 'ignore', '.portcullisignore:2', 'tracked in WEB-118 (until 2026-07-01)'],
        ['CVE-2022-32221', 'vex', 'web.openvex.json', 'VEX not_affected (vulnerable_code_not_in_execute_path) (by Team Web)'],
      ],
    );
    assert.deepEqual(r.suppressed[1]?.vex, { status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' });
    assert.deepEqual(ids(r.unapproved), ['CVE-2023-0286', 'GHSA-vfw5-hrgq-h5wf'], 'the expired ignore entry no longer applies');
    assert.equal(r.verdict, 'fail');
  });

  test('VEX image products use the report digests', () => {
    const report = fixtureReport();
    const vex = parseVex(
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        statements: [{ vulnerability: { name: 'CVE-2023-50495' }, products: [{ '@id': `localhost:5000/team/web@${report.image.manifestDigest}` }], status: 'not_affected', justification: 'vulnerable_code_not_present' }],
      }),
      'img.json',
    );
    assert.deepEqual(ids(evaluatePolicy(report, { imageName: IMAGE_NAME, vex }).suppressed.map((s) => s.finding)), ['CVE-2023-50495']);
    report.image.manifestDigest = 'sha256:0000000000000000000000000000000000000000000000000000000000000000';
    assert.deepEqual(evaluatePolicy(report, { imageName: IMAGE_NAME, vex }).suppressed, []);
  });
});
