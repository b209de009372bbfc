/**
 * The answers of the result routes as zod schemas, for the OpenAPI document and the web UI's
 * generated client. Each is registered under a component name (`.meta({ id })`), so the document
 * references `#/components/schemas/AggregatedFinding` rather than inlining it everywhere.
 *
 * The service's TypeScript interfaces (src/service, src/domain) stay the source: every schema is
 * checked at compile time to have exactly the interface's type (`exactly<...>()` below), so a field
 * added to an interface and not here fails `tsc` rather than being stripped from the answer by the
 * serializer (fastify-type-provider-zod encodes answers through these schemas: unknown keys of a
 * `z.object` are dropped, and a value the schema refuses is a 500).
 */
import * as z from 'zod';
import type { SeverityRating } from '../../domain/advisory.js';
import type { FindingEvidence, MatchEvidence, MatchRecord, RuleBasis } from '../../domain/finding.js';
import { inventorySchema } from '../../domain/inventory.js';
import { ECOSYSTEMS } from '../../domain/package.js';
import { SEVERITIES } from '../../domain/severity.js';
import { VERSION_SCHEME_IDS } from '../../domain/version-scheme-id.js';
import { FINDING_STATUSES, type AggregatedFinding, type AggregatedPackage, type BackendState, type Disagreement, type FoundBy, type ImagePackageRef, type NotFoundBy, type SeverityCounts } from '../../service/aggregate.js';
import type { AdvisoryUse, FindingPage, ManifestDetail, ManifestView, RepositoryHistory, RepositoryView, ScanState, TagComparison, TagGroup } from '../../service/queries.js';
import type { FindingSummary } from '../../service/rematch.js';
import type { ScanRequestState } from '../../service/scan-requests.js';
import type { DbStatus, FeedStatus } from '../../vulndb/status.js';

/**
 * True only when A and B are the same type (not merely assignable both ways, which would let an
 * optional field missing on one side pass).
 */
type Exactly<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** The same type written as object literal types all the way down (an interface that extends another, an intersection, or zod's `extend` is not "identical" to its flat form otherwise). */
type Flat<T> = T extends readonly (infer U)[] ? Flat<U>[] : T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
/** Compiles only when the schema's output type is exactly `T`. */
function exactly<T>() {
  return <S extends z.ZodType>(schema: S, ..._check: Exactly<Flat<z.output<S>>, Flat<T>> extends true ? [] : [never]): S => schema;
}

export const severitySchema = z.enum(SEVERITIES).meta({ id: 'Severity', description: "Portcullis's severity scale, least to most severe" });
export const scanStatusSchema = z.enum(['queued', 'scanning', 'scanned', 'failed', 'unsupported']).meta({ id: 'ScanStatus' });
export const findingStatusSchema = z.enum(FINDING_STATUSES).meta({ id: 'FindingStatus', description: 'fixed: a fix exists; unfixed: none yet; wont-fix: the vendor says none will come' });

export const severityCountsSchema = exactly<SeverityCounts>()(
  z
    .object({
      Unknown: z.number().int().optional(),
      Negligible: z.number().int().optional(),
      Low: z.number().int().optional(),
      Medium: z.number().int().optional(),
      High: z.number().int().optional(),
      Critical: z.number().int().optional(),
    })
    .meta({ id: 'SeverityCounts', description: 'Findings per severity; a severity without findings is absent' }),
);

export const scanStateSchema = exactly<ScanState>()(
  z
    .object({
      status: scanStatusSchema,
      reason: z.string().nullable(),
      counts: severityCountsSchema,
      complete: z.boolean(),
      worst: severitySchema.optional(),
      backends: z.array(z.object({ backend: z.string(), status: scanStatusSchema, reason: z.string().nullable(), counts: severityCountsSchema, finishedAt: z.string().nullable() })),
    })
    .meta({ id: 'ScanState' }),
);

const manifestViewBase = z.object({
  digest: z.string(),
  kind: z.enum(['image', 'index']),
  mediaType: z.string(),
  size: z.number(),
  platform: z.string().optional(),
  scan: scanStateSchema,
});
/** One level of children (an index holds image manifests, never another index here). */
export const manifestViewSchema = exactly<ManifestView>()(
  manifestViewBase
    .extend({
      get children(): z.ZodOptional<z.ZodArray<z.ZodType<ManifestView>>> {
        return z.array(manifestViewSchema).optional();
      },
    })
    .meta({ id: 'ManifestView' }),
);

export const tagGroupSchema = exactly<TagGroup>()(z.object({ digest: z.string(), tags: z.array(z.string()), pushedAt: z.string(), manifest: manifestViewSchema.optional() }).meta({ id: 'TagGroup' }));

export const repositoryViewSchema = exactly<RepositoryView>()(
  z.object({ name: z.string(), tagCount: z.number().int(), lastPush: z.string().nullable(), counts: severityCountsSchema, complete: z.boolean(), worst: severitySchema.optional() }).meta({ id: 'RepositoryView' }),
);

const foundBySchema = exactly<FoundBy>()(
  z.object({ backend: z.string(), id: z.string(), severity: severitySchema, backendSeverity: z.string(), fixedIn: z.array(z.string()), link: z.string().optional(), package: z.string() }).meta({ id: 'FoundBy' }),
);
const notFoundBySchema = exactly<NotFoundBy>()(z.object({ backend: z.string(), sawPackage: z.enum(['yes', 'no', 'unknown']), as: z.string().optional() }).meta({ id: 'NotFoundBy' }));
const disagreementSchema = exactly<Disagreement>()(
  z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('severity'), shown: severitySchema, shownFrom: z.string(), rule: z.string(), values: z.array(z.object({ backend: z.string(), severity: severitySchema, backendSeverity: z.string() })) }),
      z.object({ kind: z.literal('fixed-version'), shown: z.array(z.string()), values: z.array(z.object({ backend: z.string(), fixedIn: z.array(z.string()) })) }),
      z.object({ kind: z.literal('not-found'), foundBy: z.array(z.string()), sawPackageWithoutIt: z.array(z.object({ backend: z.string(), as: z.string() })) }),
    ])
    .meta({ id: 'Disagreement' }),
);
const aggregatedPackageSchema = exactly<AggregatedPackage>()(
  z
    .object({
      name: z.string(),
      version: z.string(),
      ecosystem: z.enum(ECOSYSTEMS).optional(),
      sourceName: z.string().optional(),
      sourceVersion: z.string().optional(),
      purl: z.string().optional(),
      path: z.string().optional(),
      layer: z.string().optional(),
      namespace: z.string().optional(),
      addedBy: z.string().optional(),
    })
    .meta({ id: 'AggregatedPackage' }),
);
const imagePackageRefSchema = exactly<ImagePackageRef>()(z.object({ name: z.string(), version: z.string(), path: z.string(), layer: z.string() }).meta({ id: 'ImagePackageRef' }));
const severityRatingSchema = exactly<SeverityRating>()(
  z.object({ source: z.string(), type: z.enum(['vendor', 'CVSS_V2', 'CVSS_V3', 'CVSS_V4']), value: z.string(), score: z.number().optional(), normalized: severitySchema }).meta({ id: 'SeverityRating' }),
);
const matchEvidenceSchema = exactly<MatchEvidence>()(z.object({ package: z.string(), advisory: z.string(), rule: z.string(), distro: z.string().optional() }).meta({ id: 'MatchEvidence', description: 'Why a finding was reported, in words' }));
const ruleBasisSchema = exactly<RuleBasis>()(
  z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('range'), introduced: z.string(), fixed: z.string().optional(), lastAffected: z.string().optional() }),
      z.object({ kind: z.literal('listed-version') }),
      z.object({ kind: z.literal('native-range'), constraint: z.string() }),
      z.object({ kind: z.literal('every-version') }),
      z.object({ kind: z.literal('not-patched'), patched: z.array(z.string()) }),
    ])
    .meta({ id: 'RuleBasis' }),
);
const matchRecordSchema = exactly<MatchRecord>()(
  z
    .object({
      advisory: z.object({
        feed: z.string(),
        id: z.string(),
        namespace: z.string(),
        packageName: z.string(),
        nameKind: z.enum(['source', 'binary']),
        state: z.enum(['fixed', 'unfixed', 'not_affected']),
        vendorStatus: z.string().optional(),
        published: z.string().optional(),
        modified: z.string().optional(),
      }),
      rule: z.object({ scheme: z.enum(VERSION_SCHEME_IDS).optional(), installed: z.string(), basis: ruleBasisSchema.optional(), text: z.string() }),
    })
    .meta({ id: 'MatchRecord' }),
);
const findingEvidenceSchema = exactly<FindingEvidence>()(
  z.object({ package: z.object({ file: z.string(), layer: z.string(), layerIndex: z.number().int() }), matches: z.array(matchRecordSchema) }).meta({ id: 'FindingEvidence', description: 'Why a finding was reported, as data' }),
);

export const aggregatedFindingSchema = exactly<AggregatedFinding>()(
  z
    .object({
      id: z.string(),
      aliases: z.array(z.string()),
      package: aggregatedPackageSchema,
      severity: severitySchema,
      severitySource: z.string(),
      fixedVersions: z.array(z.string()),
      status: findingStatusSchema,
      namespace: z.string().optional(),
      title: z.string().optional(),
      description: z.string().optional(),
      links: z.array(z.string()),
      ratings: z.array(severityRatingSchema).optional(),
      feed: z.object({ id: z.string(), fetchedAt: z.string().optional() }).optional(),
      why: matchEvidenceSchema.optional(),
      evidence: findingEvidenceSchema.optional(),
      foundBy: z.array(foundBySchema),
      notFoundBy: z.array(notFoundBySchema),
      disagreements: z.array(disagreementSchema),
      imagePackages: z.array(imagePackageRefSchema),
    })
    .meta({ id: 'AggregatedFinding' }),
);

const backendStateSchema = exactly<BackendState>()(
  z.object({ backend: z.string(), status: scanStatusSchema, reason: z.string().nullable(), finishedAt: z.string().nullable(), included: z.boolean(), findings: z.number().int() }).meta({ id: 'BackendState' }),
);

export const findingPageSchema = exactly<FindingPage>()(
  z
    .object({
      digest: z.string(),
      backend: z.string().optional(),
      status: scanStatusSchema,
      complete: z.boolean(),
      backends: z.array(backendStateSchema),
      total: z.number().int(),
      offset: z.number().int(),
      limit: z.number().int(),
      findings: z.array(aggregatedFindingSchema),
    })
    .meta({ id: 'FindingPage' }),
);

export const advisoryUseSchema = exactly<AdvisoryUse>()(
  z.object({ repository: z.string(), tag: z.string(), digest: z.string(), package: z.string(), version: z.string(), severity: severitySchema, foundBy: z.array(z.string()) }).meta({ id: 'AdvisoryUse' }),
);
export const advisoryUsageSchema = z.object({ id: z.string(), affected: z.array(advisoryUseSchema) }).meta({ id: 'AdvisoryUsage' });

const findingSummarySchema = exactly<FindingSummary>()(
  z.object({ id: z.string(), package: z.string(), version: z.string(), path: z.string(), severity: z.string(), fixedVersions: z.array(z.string()) }).meta({ id: 'FindingSummary' }),
);
export const tagComparisonSchema = exactly<TagComparison>()(
  z.object({ from: z.string(), to: z.string(), fixed: z.array(findingSummarySchema), introduced: z.array(findingSummarySchema), unchanged: z.number().int() }).meta({ id: 'TagComparison' }),
);

const feedStatusSchema = exactly<FeedStatus>()(
  z
    .object({
      feed: z.string(),
      source: z.string(),
      fetchedAt: z.string(),
      recordCount: z.number().int(),
      newestRecord: z.string().optional(),
      skipped: z.number().int(),
      kind: z.enum(['advisories', 'enrichment']),
      version: z.number().int(),
      status: z.string().optional(),
      dataAsOf: z.string().optional(),
      ageBasis: z.string().optional(),
      ageHours: z.number().nullable().optional(),
    })
    .meta({ id: 'FeedStatus' }),
);
export const dbStatusSchema = exactly<DbStatus>()(
  z
    .object({
      path: z.string(),
      builtAt: z.string(),
      schemaVersion: z.number().int(),
      dataAge: z.object({ hours: z.number().nullable(), decidedBy: z.string().optional() }),
      feeds: z.array(feedStatusSchema),
    })
    .meta({ id: 'DbStatus' }),
);

const historyPointSchema = z.object({ at: z.string(), counts: severityCountsSchema });
export const repositoryHistorySchema = exactly<RepositoryHistory>()(
  z
    .object({
      repository: z.string(),
      points: z.array(historyPointSchema).describe("The repository's findings per severity over time: at each point, the sum over its tags of each tag's latest counts"),
      tags: z.array(z.object({ tag: z.string(), deletedAt: z.string().optional(), points: z.array(historyPointSchema.extend({ digest: z.string() })) })),
    })
    .meta({ id: 'RepositoryHistory' }),
);

const distroSchema = inventorySchema.shape.distro.unwrap();
export const manifestDetailSchema = exactly<ManifestDetail>()(
  manifestViewBase
    .extend({
      children: z.array(manifestViewSchema).optional(),
      tags: z.array(z.object({ repository: z.string(), tag: z.string() })).describe('The tags reaching this manifest, directly or through an index'),
      layers: z.array(z.object({ index: z.number().int(), digest: z.string(), size: z.number(), createdBy: z.string().optional(), packageCount: z.number().int() })).optional().describe('From the stored inventory (absent when none is stored)'),
      distro: distroSchema.optional(),
    })
    .meta({ id: 'ManifestDetail' }),
);

export const scanRequestStateSchema = exactly<ScanRequestState>()(
  z.object({ digest: z.string(), status: scanStatusSchema, manifest: manifestViewSchema, poll: z.string().describe('the path to poll for this state') }).meta({ id: 'ScanRequestState' }),
);
