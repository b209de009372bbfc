import type { Advisory, AffectedPackage, FeedMetadata } from '../../domain/advisory.js';
import type { Ecosystem } from '../../domain/package.js';
import { isEcosystem, packageNameKey } from '../../ecosystems/registry.js';
import type { EnrichmentRecord } from '../../feeds/types.js';
import type { AdvisoryLookup, AdvisoryStore } from '../matcher.js';

/**
 * An AdvisoryStore over advisories held in memory, for tests that need no SQLite file. Unlike the
 * DB it returns withdrawn advisories too, so the matcher's own guard is what keeps them out.
 */
export function memorySource(advisories: Advisory[], enrichment: EnrichmentRecord[] = [], feeds: FeedMetadata[] = []): AdvisoryStore & { queries: number; batches: number } {
  const key = (ecosystem: string, name: string): string => (isEcosystem(ecosystem) ? packageNameKey(ecosystem, name) : name);
  const index = new Map<string, { advisory: Advisory; affected: AffectedPackage }[]>();
  for (const advisory of advisories) {
    for (const affected of advisory.affected) {
      const k = `${affected.ecosystem}\u0000${affected.namespace}\u0000${key(affected.ecosystem, affected.packageName)}`;
      const list = index.get(k) ?? [];
      list.push({ advisory, affected });
      index.set(k, list);
    }
  }
  const byCve = new Map(enrichment.map((r) => [r.cve, r]));
  const affectedFor = (ecosystem: Ecosystem, namespace: string, names: string[]): { advisory: Advisory; affected: AffectedPackage }[] => {
    source.queries++;
    return [...new Set(names.map((n) => key(ecosystem, n)))].flatMap((n) => index.get(`${ecosystem}\u0000${namespace}\u0000${n}`) ?? []);
  };
  const source = {
    /** Lookups asked (one per (kind, namespace) group, however they were batched). */
    queries: 0,
    /** affectedForMany calls. */
    batches: 0,
    affectedForMany: (lookups: readonly AdvisoryLookup[]) => {
      source.batches++;
      return Promise.resolve(lookups.map((l) => affectedFor(l.ecosystem, l.namespace, l.packageNames)));
    },
    enrichmentFor: (cves: string[]) => Promise.resolve(new Map(cves.flatMap((c) => (byCve.has(c) ? [[c, byCve.get(c) as EnrichmentRecord] as const] : [])))),
    feedList: () => Promise.resolve(feeds),
    namespacesFor: (ecosystem: Ecosystem) =>
      Promise.resolve([...new Set(advisories.flatMap((a) => a.affected.filter((x) => x.ecosystem === ecosystem).map((x) => x.namespace)))].sort()),
  };
  return source;
}
