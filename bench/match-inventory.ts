/**
 * Matching benchmark: a 10,000-package inventory against the vulnerability DB built from every real
 * feed sample in shared/data/feeds. Target: under 100 ms per match once warm (the DB's parsed-advisory
 * cache filled by a first run). Prints cold and warm timings; asserts nothing (timings are no tests).
 *
 *   node --import tsx bench/match-inventory.ts
 */
import { performance } from 'node:perf_hooks';
import type { Ecosystem, PackageRecord } from '../src/domain/package.js';
import { matchInventory } from '../src/matching/matcher.js';
import { buildRealDb, inventoryOf, realFeedInputs } from '../src/matching/test-support/real-data.js';

const real = await buildRealDb();
try {
  // Names the feeds speak of, so that most packages meet candidate statements (the expensive case):
  // Ubuntu 18.04 source packages, npm, PyPI and Go modules.
  const names = new Map<string, Set<string>>();
  for (const { feed, files } of realFeedInputs()) {
    if (feed.kind !== 'advisories' || !['osv', 'ubuntu-uct', 'npm-security-wg', 'rubysec'].includes(feed.id)) continue;
    for (const a of feed.parse(files).advisories) {
      for (const x of a.affected) {
        const key = `${x.ecosystem} ${x.namespace}`;
        const set = names.get(key) ?? new Set<string>();
        set.add(x.packageName);
        names.set(key, set);
      }
    }
  }
  const pick = (key: string): string[] => [...(names.get(key) ?? [])];
  const groups: [Ecosystem, string[], string][] = [
    ['deb', pick('deb ubuntu:18.04'), '1.0-1ubuntu1'],
    ['npm', pick('npm npm'), '1.0.0'],
    ['pypi', pick('pypi PyPI'), '1.0.0'],
    ['golang', pick('golang Go'), 'v0.1.0'],
    ['gem', pick('gem RubyGems'), '1.0.0'],
  ];
  const records: PackageRecord[] = [];
  for (let round = 0; records.length < 10_000; round++) {
    for (const [ecosystem, list, version] of groups) {
      for (const name of list) {
        const path = `opt/app${round}/${ecosystem}`;
        records.push(
          ecosystem === 'deb'
            ? { ecosystem, name: `${name}-bin${round}`, version, sourceName: name, sourceVersion: version, arch: 'amd64', path: 'var/lib/dpkg/status' }
            : { ecosystem, name, version, path },
        );
      }
    }
    // Packages no feed knows: most of a real image.
    for (let i = 0; i < 2000; i++) records.push({ ecosystem: 'npm', name: `unknown-${round}-${i}`, version: '1.0.0', path: `opt/app${round}/node_modules` });
  }
  records.length = 10_000;
  const inventory = inventoryOf(records, { id: 'ubuntu', versionId: '18.04', source: 'etc/os-release' });
  const time = async (): Promise<{ ms: number; findings: number }> => {
    const t = performance.now();
    const r = await matchInventory(inventory, real.db);
    return { ms: performance.now() - t, findings: r.findings.length };
  };
  const cold = await time();
  const warm: { ms: number; findings: number }[] = [];
  for (let i = 0; i < 9; i++) warm.push(await time());
  warm.sort((a, b) => a.ms - b.ms);
  const median = warm[4] as { ms: number; findings: number };
  console.log(
    JSON.stringify({
      packages: inventory.packages.length,
      byKind: Object.fromEntries(groups.map(([e]) => [e, records.filter((r) => r.ecosystem === e).length])),
      findings: median.findings,
      coldMs: Math.round(cold.ms),
      warmMedianMs: Math.round(median.ms),
      warmMinMs: Math.round((warm[0] as { ms: number }).ms),
    }),
  );
} finally {
  real.dispose();
}
