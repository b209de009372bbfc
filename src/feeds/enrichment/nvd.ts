import * as z from 'zod';
import type { EnrichmentFeed, EnrichmentParseResult, EnrichmentRecord, FeedFile, SkippedRecord } from '../types.js';

/** NVD CVE API 2.0 (paged: `?startIndex=N&resultsPerPage=2000`, or `?lastModStartDate=...` for updates). */
export const NVD_CVE_API_URL = 'https://services.nvd.nist.gov/rest/json/cves/2.0';

type CvssEntry = NonNullable<EnrichmentRecord['cvss']>[number];

const metricSchema = z.object({
  source: z.string(),
  type: z.string().optional(),
  cvssData: z.object({ version: z.string(), vectorString: z.string(), baseScore: z.number() }),
});
const cveSchema = z.object({
  id: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
  lastModified: z.string().optional(),
  vulnStatus: z.string().optional(),
  metrics: z
    .object({
      cvssMetricV40: z.array(metricSchema).optional(),
      cvssMetricV31: z.array(metricSchema).optional(),
      cvssMetricV30: z.array(metricSchema).optional(),
      cvssMetricV2: z.array(metricSchema).optional(),
    })
    .optional(),
});
const responseSchema = z.object({
  format: z.string().optional(),
  vulnerabilities: z.array(z.unknown()),
});

const VERSIONS = ['4.0', '3.1', '3.0', '2.0'] as const;

/**
 * Parses NVD CVE API 2.0 responses (and the NVD 2.0 JSON feed files, same shape) into one
 * EnrichmentRecord per CVE with every CVSS metric NVD carries (v2, v3.0, v3.1, v4.0), each with its
 * vector, base score and source (`nvd@nist.gov` or the CNA's id). Order says which to prefer: NVD's
 * `Primary` metrics before `Secondary` (CNA) ones, and within each the newest CVSS version first, so
 * `cvss[0]` is the primary source's newest score. A CVE without metrics yields a record with `cvss: []`
 * (NVD knows it and has not scored it). A vulnerability entry that fails validation is skipped and
 * counted; a file that is not such a response counts as one. newestRecord = the newest lastModified
 * (NVD's offset-less UTC timestamps get a `Z`). A page with no vulnerabilities gives no records.
 */
export function parseNvd(files: FeedFile[]): EnrichmentParseResult {
  const records: EnrichmentRecord[] = [];
  const skipped: SkippedRecord[] = [];
  let newest: string | undefined;
  for (const file of files) {
    let doc: z.infer<typeof responseSchema>;
    try {
      doc = responseSchema.parse(JSON.parse(file.bytes.toString('utf8')));
    } catch (err) {
      skipped.push({ record: file.name, reason: `nvd: not an NVD CVE API 2.0 response: ${(err as Error).message.slice(0, 200)}` });
      continue;
    }
    doc.vulnerabilities.forEach((raw, i) => {
      const parsed = z.object({ cve: cveSchema }).safeParse(raw);
      if (!parsed.success) {
        skipped.push({ record: `${file.name}#${i}`, reason: `nvd: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` });
        return;
      }
      const cve = parsed.data.cve;
      records.push({ cve: cve.id, cvss: metricsOf(cve) });
      const modified = utc(cve.lastModified);
      if (modified !== undefined && (newest === undefined || modified > newest)) newest = modified;
    });
  }
  return newest === undefined ? { records, skipped } : { records, skipped, newestRecord: newest };
}

/** NVD writes UTC timestamps without an offset (`2025-06-09T16:15:25.013`); say so explicitly. */
function utc(ts: string | undefined): string | undefined {
  if (ts === undefined) return undefined;
  return /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(ts) ? `${ts}Z` : ts;
}

function metricsOf(cve: z.infer<typeof cveSchema>): CvssEntry[] {
  const m = cve.metrics ?? {};
  const byVersion: Record<(typeof VERSIONS)[number], z.infer<typeof metricSchema>[]> = {
    '4.0': m.cvssMetricV40 ?? [],
    '3.1': m.cvssMetricV31 ?? [],
    '3.0': m.cvssMetricV30 ?? [],
    '2.0': m.cvssMetricV2 ?? [],
  };
  const out: (CvssEntry & { primary: boolean })[] = [];
  for (const version of VERSIONS) {
    for (const metric of byVersion[version]) {
      out.push({
        version,
        vector: metric.cvssData.vectorString,
        score: metric.cvssData.baseScore,
        source: metric.source,
        primary: metric.type === 'Primary',
      });
    }
  }
  // Stable sort: Primary first, version order (newest first) kept within each group.
  return out.sort((a, b) => Number(b.primary) - Number(a.primary)).map(({ primary: _primary, ...rest }) => rest);
}

/** NVD CVE API 2.0 (`nvd`): CVSS scores and vectors per CVE. */
export const nvdFeed: EnrichmentFeed = {
  kind: 'enrichment',
  id: 'nvd',
  version: 1,
  description: 'NVD CVE API 2.0: CVSS v2 / v3.x / v4.0 base scores and vectors per CVE',
  upstream: [{ url: NVD_CVE_API_URL, format: 'json' }],
  recognizes(file: FeedFile): boolean {
    if (!/\.json$/i.test(file.name)) return false;
    const head = file.bytes.subarray(0, 4096).toString('utf8');
    return /^\s*\{/.test(head) && /"format"\s*:\s*"NVD_CVE"/.test(head);
  },
  parse: parseNvd,
};
