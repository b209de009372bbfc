/** A report context for the format tests: the fixture scan under a policy that uses every rule kind. */
import { evaluatePolicy } from '../../policy/evaluate.js';
import { parseIgnoreText } from '../../policy/ignore-file.js';
import { parseVex } from '../../policy/vex.js';
import { parseWhitelist } from '../../policy/whitelist.js';
import { fixtureReport, IMAGE_NAME } from '../../policy/test-support/scan-fixtures.js';
import type { ReportContext, ReportOptions } from '../types.js';

export const FIXTURE_VEX = JSON.stringify({
  '@context': 'https://openvex.dev/ns/v0.2.0',
  '@id': 'https://example.test/vex/web-2026-01',
  author: 'Team Web',
  timestamp: '2026-01-10T00:00:00Z',
  version: 1,
  statements: [
    {
      vulnerability: { name: 'CVE-2022-32221' },
      products: [{ '@id': 'pkg:deb/debian/libcurl4' }],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
      impact_statement: 'libcurl is only used for GET requests',
    },
  ],
});

/**
 * Outcome: unapproved CVE-2022-37434 (zlib1g, Critical) and CVE-2023-0286 (libssl1.1, High);
 * approved CVE-2023-23916 and PYSEC-2021-1 (threshold High) and GHSA-vfw5-hrgq-h5wf (whitelisted by
 * its CVE alias); suppressed CVE-2022-32221 (VEX) and CVE-2023-50495 (ignore file). Verdict: fail.
 */
export function fixtureContext(options: ReportOptions = {}, withInventory = true): ReportContext {
  const report = fixtureReport(withInventory);
  const policy = evaluatePolicy(report, {
    imageName: IMAGE_NAME,
    threshold: 'High',
    whitelist: parseWhitelist('images:\n  team/web:\n    CVE-2018-17846: html parser is not fed user input\n', 'whitelist.yaml'),
    vex: parseVex(FIXTURE_VEX, 'web.openvex.json'),
    ignore: parseIgnoreText('# ncurses: no terminfo from users\nCVE-2023-50495\n', '.portcullisignore'),
    now: new Date('2026-06-15T00:00:00Z'),
  });
  return { report, policy, imageName: IMAGE_NAME, options };
}

/** The OS package a language package of the fixture (ansible, under dist-packages) is installed by, in these tests. */
export const FIXTURE_OWNER = { ecosystem: 'deb', name: 'ansible', version: '2.9.10+dfsg-1', sourceName: 'ansible', sourceVersion: '2.9.10+dfsg-1', arch: 'all' } as const;

/**
 * fixtureContext with the ansible package installed by a Debian package (`osOwner`, in the
 * inventory and in its finding) and the distribution's verdict in the finding's `why.distro`.
 */
export function ownedFixtureContext(options: ReportOptions = {}): ReportContext {
  const ctx = fixtureContext(options);
  for (const p of ctx.report.inventory?.packages ?? []) if (p.name === 'ansible') p.osOwner = { ...FIXTURE_OWNER };
  for (const f of ctx.report.findings) {
    if (f.package.name !== 'ansible') continue;
    f.package = { ...f.package, osOwner: { ...FIXTURE_OWNER } };
    f.why = { ...f.why, distro: 'deb ansible 2.9.10+dfsg-1: debian:11 has no record of CVE-2021-20228 for it; kept' };
  }
  return ctx;
}
