import * as z from 'zod';
import type { EnrichmentFeed, EnrichmentParseResult, EnrichmentRecord, FeedFile, SkippedRecord } from '../types.js';

/** CISA's Known Exploited Vulnerabilities catalog. */
export const KEV_JSON_URL = 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const entrySchema = z.object({
  cveID: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
  dateAdded: z.string().regex(DATE),
  dueDate: z.string().regex(DATE).optional(),
  knownRansomwareCampaignUse: z.string().optional(),
  shortDescription: z.string().optional(),
});
const catalogSchema = z.object({
  catalogVersion: z.string().optional(),
  dateReleased: z.string().optional(),
  vulnerabilities: z.array(z.unknown()),
});

/**
 * Parses the CISA KEV catalog JSON into one EnrichmentRecord per entry with `kev: {dateAdded,
 * dueDate, knownRansomware, shortDescription}`; knownRansomware is true for `Known`, false for
 * `Unknown`, absent otherwise. An entry that fails validation is skipped and counted; a file that is
 * not a catalog counts as one. newestRecord = the catalog's dateReleased (else the latest dateAdded).
 * An empty catalog gives no records.
 */
export function parseKev(files: FeedFile[]): EnrichmentParseResult {
  const records: EnrichmentRecord[] = [];
  const skipped: SkippedRecord[] = [];
  let newest: string | undefined;
  const bump = (d: string | undefined) => {
    if (d !== undefined && (newest === undefined || d > newest)) newest = d;
  };
  for (const file of files) {
    let doc: z.infer<typeof catalogSchema>;
    try {
      doc = catalogSchema.parse(JSON.parse(file.bytes.toString('utf8')));
    } catch (err) {
      skipped.push({ record: file.name, reason: `kev: not a KEV catalog: ${(err as Error).message.slice(0, 200)}` });
      continue;
    }
    let latestAdded: string | undefined;
    doc.vulnerabilities.forEach((raw, i) => {
      const e = entrySchema.safeParse(raw);
      if (!e.success) {
        skipped.push({ record: `${file.name}#${i}`, reason: `kev: ${e.error.issues[0]?.path.join('.')}: ${e.error.issues[0]?.message}` });
        return;
      }
      const kev: NonNullable<EnrichmentRecord['kev']> = { dateAdded: e.data.dateAdded };
      if (e.data.dueDate !== undefined) kev.dueDate = e.data.dueDate;
      const ransomware = e.data.knownRansomwareCampaignUse?.trim().toLowerCase();
      if (ransomware === 'known') kev.knownRansomware = true;
      else if (ransomware === 'unknown') kev.knownRansomware = false;
      if (e.data.shortDescription !== undefined) kev.shortDescription = e.data.shortDescription;
      records.push({ cve: e.data.cveID, kev });
      if (latestAdded === undefined || e.data.dateAdded > latestAdded) latestAdded = e.data.dateAdded;
    });
    bump(doc.dateReleased ?? latestAdded);
  }
  return newest === undefined ? { records, skipped } : { records, skipped, newestRecord: newest };
}

/** CISA Known Exploited Vulnerabilities (`kev`). */
export const kevFeed: EnrichmentFeed = {
  kind: 'enrichment',
  id: 'kev',
  version: 1,
  description: 'CISA Known Exploited Vulnerabilities catalog: CVEs exploited in the wild, with CISA due dates',
  upstream: [{ url: KEV_JSON_URL, format: 'json' }],
  recognizes(file: FeedFile): boolean {
    if (!/\.json$/i.test(file.name)) return false;
    const head = file.bytes.subarray(0, 4096).toString('utf8');
    return /^\s*\{/.test(head) && /"catalogVersion"\s*:/.test(head) && /"vulnerabilities"\s*:/.test(head);
  },
  parse: parseKev,
};
