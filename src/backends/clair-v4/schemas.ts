/**
 * Clair v4 JSON shapes (openapi `components.schemas`, quay/claircore types), validated at the boundary
 * with zod. Permissive on purpose: Clair omits empty fields, older servers send `null` maps, and
 * unknown fields are kept; only what the client and the converter read is checked.
 */
import * as z from 'zod';

const str = z.string().nullish().transform((v) => v ?? '');
const idMap = <T extends z.ZodType>(value: T) => z.record(z.string(), value).nullish().transform((v) => v ?? {});

/** A package as Clair indexes it (binary or source, with its source package). */
export const clairPackage = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String).optional(),
  name: str,
  version: str,
  kind: str,
  arch: str,
  module: str,
  normalized_version: str,
  source: z.looseObject({ id: z.union([z.string(), z.number()]).optional(), name: str, version: str }).nullish(),
});
export type ClairPackage = z.infer<typeof clairPackage>;

/** An operating-system release Clair recognised (`did` is os-release ID). */
export const clairDistribution = z.looseObject({ id: z.union([z.string(), z.number()]).optional(), did: str, name: str, version: str, version_id: str, version_code_name: str, pretty_name: str });
export type ClairDistribution = z.infer<typeof clairDistribution>;

/** A package repository (RHEL CPE repositories, `go`, `pypi`, ...). */
export const clairRepository = z.looseObject({ id: z.union([z.string(), z.number()]).optional(), name: str, key: str, uri: str });

/** Where a package was found: database, layer, distribution. */
export const clairEnvironment = z.looseObject({
  package_db: str,
  introduced_in: str,
  distribution_id: z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? '' : String(v))),
});

/** A vulnerability record as the matcher reports it. */
export const clairVulnerability = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String).optional(),
  updater: str,
  name: str,
  description: str,
  issued: str,
  links: str,
  severity: str,
  normalized_severity: str,
  package: clairPackage.nullish(),
  distribution: clairDistribution.nullish(),
  repository: clairRepository.nullish(),
  fixed_in_version: str,
  range: z.unknown().optional(),
  arch_op: str,
});
export type ClairVulnerability = z.infer<typeof clairVulnerability>;

const reportCommon = {
  manifest_hash: z.string().min(1),
  packages: idMap(clairPackage),
  distributions: idMap(clairDistribution),
  repository: idMap(clairRepository),
  environments: idMap(z.array(clairEnvironment).nullish().transform((v) => v ?? [])),
};

/** The indexer's report: packages found and the indexing state. */
export const clairIndexReport = z.looseObject({
  ...reportCommon,
  state: str,
  success: z.boolean().optional(),
  err: str,
});
export type ClairIndexReport = z.infer<typeof clairIndexReport>;

/** The matcher's report: the index report plus vulnerabilities per package and enrichments. */
export const clairVulnerabilityReport = z.looseObject({
  ...reportCommon,
  vulnerabilities: idMap(clairVulnerability),
  package_vulnerabilities: idMap(z.array(z.union([z.string(), z.number()]).transform(String)).nullish().transform((v) => v ?? [])),
  enrichments: z.record(z.string(), z.array(z.unknown())).nullish().transform((v) => v ?? {}),
});
export type ClairVulnerabilityReport = z.infer<typeof clairVulnerabilityReport>;

/** Clair's error body. */
export const clairError = z.looseObject({ code: z.string().optional(), message: z.string().optional() });

/** What Clair's indexer fetches: the manifest digest and its layers, base first, with the headers to send. */
export interface ClairManifest {
  hash: string;
  layers: { hash: string; uri: string; headers: Record<string, string[]> }[];
}

/** One notification: a manifest affected by a vulnerability that was added to or removed from the matcher's data. */
export const clairNotification = z.looseObject({
  id: z.string(),
  manifest: z.string().min(1),
  reason: str,
  vulnerability: z.looseObject({ name: str, fixed_in_version: str, links: str, description: str, normalized_severity: str }).nullish(),
});

/** A page of the notifier: `page.next` names the next page; absent (or "-1" in older releases) on the last. */
export const clairNotificationPage = z.looseObject({
  page: z.looseObject({ size: z.number().optional(), next: z.string().nullish() }).nullish(),
  notifications: z.array(clairNotification).nullish().transform((v) => v ?? []),
});
export type ClairNotificationPage = z.infer<typeof clairNotificationPage>;

/** The notifier's webhook body (openapi `Callback`). */
export const clairNotificationCallback = z.looseObject({ notification_id: z.string().min(1).max(200), callback: z.string().min(1).max(2000) });
