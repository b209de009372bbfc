import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import * as z from 'zod';
import type { EnrichmentFeed, EnrichmentParseResult, EnrichmentRecord, FeedFile, SkippedRecord } from '../types.js';

/** FIRST's daily EPSS scores, gzipped CSV. */
export const EPSS_CURRENT_URL = 'https://epss.cyentia.com/epss_scores-current.csv.gz';

const rowSchema = z.object({
  cve: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
  epss: z.number().min(0).max(1),
  percentile: z.number().min(0).max(1),
});

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The file as text; gzipped input (as EPSS is served) is inflated here so either form imports. */
function csvText(bytes: Buffer): string {
  return (isGzip(bytes) ? gunzipSync(bytes) : bytes).toString('utf8');
}

/**
 * Parses an EPSS scores CSV (`#model_version:v2023.03.01,score_date:2024-10-25T00:00:00+0000` comment,
 * then `cve,epss,percentile` header and rows), plain or gzipped, into one EnrichmentRecord per CVE with
 * `epss: {score, percentile, date}`; date is the score_date's day (YYYY-MM-DD), absent when the file
 * has no such comment. The CSV has no quoting, so lines are split on commas here rather than through a
 * CSV library. A row that is not `CVE-id,number,number` within 0..1 is skipped and counted; a file
 * without the header line counts as one skipped record (an empty file included). newestRecord = the
 * score date.
 */
export function parseEpss(files: FeedFile[]): EnrichmentParseResult {
  const records: EnrichmentRecord[] = [];
  const skipped: SkippedRecord[] = [];
  let newest: string | undefined;
  for (const file of files) {
    let text: string;
    try {
      text = csvText(file.bytes);
    } catch (err) {
      skipped.push({ record: file.name, reason: `epss: cannot inflate: ${(err as Error).message}` });
      continue;
    }
    const lines = text.split(/\r?\n/);
    let date: string | undefined;
    let columns: string[] | undefined;
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === '') return;
      if (line.startsWith('#')) {
        const m = /score_date:(\d{4}-\d{2}-\d{2})/.exec(line);
        if (m) date = m[1];
        return;
      }
      if (columns === undefined) {
        columns = line.split(',').map((c) => c.trim().toLowerCase());
        return;
      }
      const cells = line.split(',');
      const get = (name: string) => {
        const idx = columns?.indexOf(name) ?? -1;
        return idx < 0 ? undefined : cells[idx]?.trim();
      };
      const row = rowSchema.safeParse({ cve: get('cve'), epss: toNumber(get('epss')), percentile: toNumber(get('percentile')) });
      if (!row.success || cells.length !== columns.length) {
        skipped.push({ record: `${file.name}:${i + 1}`, reason: `epss: malformed row ${JSON.stringify(line.slice(0, 80))}` });
        return;
      }
      records.push({ cve: row.data.cve, epss: { score: row.data.epss, percentile: row.data.percentile, ...(date ? { date } : {}) } });
    });
    if (columns === undefined || !columns.includes('cve') || !columns.includes('epss')) {
      skipped.push({ record: file.name, reason: 'epss: no `cve,epss,percentile` header' });
    }
    if (date !== undefined && (newest === undefined || date > newest)) newest = date;
  }
  return newest === undefined ? { records, skipped } : { records, skipped, newestRecord: newest };
}

function toNumber(s: string | undefined): number | undefined {
  if (s === undefined || s === '' || !/^[0-9.eE+-]+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** FIRST EPSS (`epss`): exploit prediction scores per CVE. */
export const epssFeed: EnrichmentFeed = {
  kind: 'enrichment',
  id: 'epss',
  version: 1,
  description: 'FIRST EPSS: daily probability of exploitation and its percentile per CVE',
  // Served gzipped; parse inflates it (FeedUpstream has no gzip-csv format).
  upstream: [{ url: EPSS_CURRENT_URL, format: 'csv' }],
  recognizes(file: FeedFile): boolean {
    if (!/\.csv(\.gz)?$/i.test(file.name)) return false;
    let head: string;
    try {
      // Inflate only what the first bytes give; a sync flush lets a truncated stream yield its start.
      head = isGzip(file.bytes)
        ? gunzipSync(file.bytes.subarray(0, 4096), { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8')
        : file.bytes.subarray(0, 4096).toString('utf8');
    } catch {
      return false;
    }
    return /^(#model_version:[^\n]*\r?\n)?cve,epss,percentile\b/i.test(head.trimStart());
  },
  parse: parseEpss,
};
