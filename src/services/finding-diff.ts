/** How one manifest's findings changed between two matches: what a re-match reports and notifications carry. */

/** A finding as a change notice names it. */
export interface FindingSummary {
  id: string;
  package: string;
  version: string;
  path: string;
  severity: string;
  fixedVersions: string[];
}

/** How one manifest's findings changed with the new DB. */
export interface ManifestDiff {
  digest: string;
  introduced: FindingSummary[];
  fixed: FindingSummary[];
  severityChanged: (FindingSummary & { previousSeverity: string })[];
}

/** What a diff reads of a finding: an engine finding or an aggregated one (whose package may have no ecosystem or path). */
export interface DiffableFinding {
  id: string;
  severity: string;
  fixedVersions: string[];
  package: { ecosystem?: string; name: string; version: string; path?: string };
}

/** Introduced, fixed and re-rated findings between two results of one manifest. */
export function diffFindings<F extends DiffableFinding>(digest: string, before: readonly F[], after: readonly F[]): ManifestDiff {
  const key = (f: F): string => `${f.id}\u0000${f.package.ecosystem ?? ''}\u0000${f.package.name}\u0000${f.package.version}\u0000${f.package.path ?? ''}`;
  const old = new Map(before.map((f) => [key(f), f]));
  const now = new Map(after.map((f) => [key(f), f]));
  const diff: ManifestDiff = { digest, introduced: [], fixed: [], severityChanged: [] };
  for (const [k, f] of now) {
    const was = old.get(k);
    if (was === undefined) diff.introduced.push(summarize(f));
    else if (was.severity !== f.severity) diff.severityChanged.push({ ...summarize(f), previousSeverity: was.severity });
  }
  for (const [k, f] of old) if (!now.has(k)) diff.fixed.push(summarize(f));
  return diff;
}

/** True when the diff holds any change. */
export function diffChanged(diff: ManifestDiff): boolean {
  return diff.introduced.length + diff.fixed.length + diff.severityChanged.length > 0;
}

function summarize(f: DiffableFinding): FindingSummary {
  return { id: f.id, package: f.package.name, version: f.package.version, path: f.package.path ?? '', severity: f.severity, fixedVersions: f.fixedVersions };
}
