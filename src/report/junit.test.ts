import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { evaluatePolicy } from '../policy/evaluate.js';
import { fixtureReport, IMAGE_NAME } from '../policy/test-support/scan-fixtures.js';
import { junitFormat, xmlAttr, xmlText } from './junit.js';
import { fixtureContext, ownedFixtureContext } from './test-support/context.js';

type Node = Record<string, unknown>;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name), parseAttributeValue: false, trimValues: false });

function parse(xml: string): { suites: Node; suite: Node; cases: Node[] } {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed XML');
  const doc = parser.parse(xml) as { testsuites: Node };
  const suite = (doc.testsuites.testsuite as Node[])[0];
  assert.ok(suite);
  return { suites: doc.testsuites, suite, cases: suite.testcase as Node[] };
}

describe('junit format', () => {
  test('per package (default): one testcase per inventory package, failures for unapproved findings', () => {
    const { suites, suite, cases } = parse(junitFormat.render(fixtureContext()));
    assert.deepEqual([suites['@name'], suites['@tests'], suites['@failures'], suites['@errors']], ['portcullis', '7', '2', '0']);
    assert.deepEqual([suite['@name'], suite['@tests'], suite['@failures'], suite['@skipped']], [IMAGE_NAME, '7', '2', '0']);
    assert.deepEqual(cases.map((c) => c['@name']), [
      'libssl1.1 1.1.1n-0+deb11u3 (var/lib/dpkg/status)',
      'zlib1g 1:1.2.11.dfsg-2+deb11u1 (var/lib/dpkg/status)',
      'libcurl4 7.74.0-1.3+deb11u3 (var/lib/dpkg/status)',
      'libtinfo6 6.2+20201114-2 (var/lib/dpkg/status)',
      'base-files 11.1+deb11u5 (var/lib/dpkg/status)',
      'golang.org/x/net v0.0.0-20180724234803-3673e40ba225 (usr/local/bin/web)',
      'ansible 2.9.10 (usr/lib/python3/dist-packages/ansible-2.9.10.dist-info/METADATA)',
    ]);
    assert.ok(cases.every((c) => c['@classname'] === IMAGE_NAME));
    const failed = cases.filter((c) => c.failure !== undefined);
    assert.deepEqual(failed.map((c) => (c.failure as Node)['@message']), ['1 unapproved vulnerability: CVE-2023-0286 (High)', '1 unapproved vulnerability: CVE-2022-37434 (Critical)']);
    assert.equal((failed[1]?.failure as Node)['#text'], 'CVE-2022-37434 (Critical) in zlib1g 1:1.2.11.dfsg-2+deb11u1, fixed in 1:1.2.11.dfsg-2+deb11u2 - https://security-tracker.debian.org/tracker/CVE-2022-37434');
    const curl = cases[2];
    assert.equal(curl?.failure, undefined);
    assert.equal(
      curl?.['system-out'],
      [
        'approved: CVE-2023-23916 (Medium) in libcurl4 7.74.0-1.3+deb11u3, fixed in 7.74.0-1.3+deb11u7 - https://security-tracker.debian.org/tracker/CVE-2023-23916: Medium is below the High threshold',
        'suppressed: CVE-2022-32221 (Critical) in libcurl4 7.74.0-1.3+deb11u3, fixed in 7.74.0-1.3+deb11u5 - https://security-tracker.debian.org/tracker/CVE-2022-32221: VEX not_affected (vulnerable_code_not_in_execute_path): libcurl is only used for GET requests (by Team Web)',
      ].join('\n'),
    );
    const props = ((suite.properties as Node).property as Node[]).map((p) => [p['@name'], p['@value']]);
    assert.deepEqual(props[0], ['verdict', 'fail']);
  });

  test('per finding: failures for unapproved, skipped for suppressed', () => {
    const { suite, cases } = parse(junitFormat.render(fixtureContext({ junitGranularity: 'finding' })));
    assert.deepEqual([suite['@tests'], suite['@failures'], suite['@skipped']], ['7', '2', '2']);
    const state = cases.map((c) => [String(c['@name']).split(' ')[0], c.failure ? 'failure' : c.skipped !== undefined ? 'skipped' : 'pass']);
    assert.deepEqual(state, [
      ['CVE-2022-37434', 'failure'],
      ['CVE-2023-0286', 'failure'],
      ['CVE-2023-23916', 'pass'],
      ['GHSA-vfw5-hrgq-h5wf', 'pass'],
      ['PYSEC-2021-1', 'pass'],
      ['CVE-2022-32221', 'skipped'],
      ['CVE-2023-50495', 'skipped'],
    ]);
    assert.equal((cases[6]?.skipped as Node)['@message'], 'suppressed: ncurses: no terminfo from users [.portcullisignore:2]');
  });

  test('text from advisories is escaped: markup, quotes, ampersands and forbidden control characters', () => {
    const report = fixtureReport();
    const go = report.findings.find((f) => f.id === 'GHSA-vfw5-hrgq-h5wf');
    assert.ok(go);
    // The GO-2020-0014 summary quotes "select"; add markup, an ampersand and control characters
    // (U+0000, U+001B) as advisory texts sometimes carry.
    go.description = `html.Parse does not properly handle "select" tags & <option> elements: it's an infinite loop\u0000\u001b[0m\n2nd line`;
    go.package.name = `golang.org/x/net <"html">`;
    const ctx = { report, policy: evaluatePolicy(report, { imageName: IMAGE_NAME }), imageName: IMAGE_NAME, options: { junitGranularity: 'finding' as const } };
    const xml = junitFormat.render(ctx);
    const { cases } = parse(xml);
    const c = cases.find((x) => String(x['@name']).startsWith('GHSA-vfw5-hrgq-h5wf'));
    assert.ok(c);
    assert.equal(c['@name'], 'GHSA-vfw5-hrgq-h5wf golang.org/x/net <"html"> v0.0.0-20180724234803-3673e40ba225 (usr/local/bin/web)');
    assert.match(String((c.failure as Node)['#text']), /handle "select" tags & <option> elements: it's an infinite loop\[0m\n2nd line/);
    assert.equal(xml.includes('\u0000'), false);
  });

  test('escaping helpers', () => {
    assert.equal(xmlText('a < b && c > d'), 'a &lt; b &amp;&amp; c &gt; d');
    assert.equal(xmlAttr(`"it's"\n\tx\u0007`), '&quot;it&apos;s&quot;&#10;&#9;x');
    assert.equal(xmlText('emoji \u{1F600} ok, lone \uD800 surrogate dropped'), 'emoji \u{1F600} ok, lone  surrogate dropped');
  });

  test('an empty scan without inventory gives an empty, valid suite', () => {
    const report = fixtureReport(false);
    report.findings = [];
    const { suite } = parse(junitFormat.render({ report, policy: evaluatePolicy(report, { imageName: IMAGE_NAME }), imageName: IMAGE_NAME }));
    assert.deepEqual([suite['@tests'], suite['@failures'], suite.testcase], ['0', '0', undefined]);
  });
});

describe('junit format: language packages an OS package installed', () => {
  test('the finding text names the owner, and a failure body gives the distribution verdict', () => {
    const { cases } = parse(junitFormat.render(ownedFixtureContext()));
    const ansible = cases.find((c) => String(c['@name']).startsWith('ansible '));
    assert.match(String(ansible?.['system-out'] ?? ''), /PYSEC-2021-1 \(Unknown\) in ansible 2\.9\.10 \(installed by deb ansible 2\.9\.10\+dfsg-1\), fixed in 2\.9\.19/);
    // Unapproved (no threshold): per finding, the failure body carries why and the distribution verdict.
    const report = ownedFixtureContext().report;
    const strict = { report, policy: evaluatePolicy(report, { imageName: IMAGE_NAME }), imageName: IMAGE_NAME, options: { junitGranularity: 'finding' as const } };
    const failure = parse(junitFormat.render(strict)).cases.find((c) => String(c['@name']).startsWith('PYSEC-2021-1 '))?.failure as Node | undefined;
    assert.match(String(failure?.['#text'] ?? ''), /why: pep440: 2\.9\.10 < 2\.9\.19 \(fixed\); distro: deb ansible 2\.9\.10\+dfsg-1: debian:11 has no record/);
  });
});
