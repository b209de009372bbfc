import * as z from 'zod';
import type { Advisory, AffectedPackage } from '../../domain/advisory.js';
import type { AdvisoryFeed, AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { cvssRating, cvssVersionOf } from '../severity.js';
import { baseName } from '../text.js';
import { parseNevr, redhatImpactSeverity, rhelNamespaceFromCpe, rpmAffected } from './platform.js';

/** Red Hat Security Data API: one JSON record per CVE at `<url>/<CVE>.json`. */
export const REDHAT_SECURITY_DATA_API_URL = 'https://access.redhat.com/hydra/rest/securitydata/cve';

const recordSchema = z.object({
  name: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
  threat_severity: z.string().optional(),
  public_date: z.string().optional(),
  bugzilla: z.object({ description: z.string().optional(), url: z.string().optional() }).optional(),
  cvss3: z.object({ cvss3_scoring_vector: z.string().optional(), cvss3_base_score: z.string().optional() }).optional(),
  cvss: z.object({ cvss_scoring_vector: z.string().optional(), cvss_base_score: z.string().optional() }).optional(),
  details: z.array(z.string()).optional(),
  statement: z.string().optional(),
  references: z.union([z.array(z.string()), z.string()]).optional(),
  affected_release: z
    .array(z.object({ product_name: z.string().optional(), cpe: z.string().optional(), package: z.string().optional(), advisory: z.string().optional() }))
    .optional(),
  package_state: z.array(z.object({ product_name: z.string().optional(), cpe: z.string().optional(), package_name: z.string(), fix_state: z.string() })).optional(),
});
type SecurityDataRecord = z.infer<typeof recordSchema>;

/**
 * Parses Red Hat Security Data API CVE records (`redhat-security-data`) into one Advisory per CVE:
 * - `affected_release[]` (an erratum shipped the source package NEVR `firefox-0:102.15.1-1.el7_9` for
 *   the platform `cpe`) -> fixed, nameKind `source`; entries without an rpm NEVR (containers, module
 *   builds) are left out;
 * - `package_state[]` (`fix_state` for a source package per platform): `Not affected` -> not_affected;
 *   `Affected`, `Will not fix`, `Out of support scope`, `Fix deferred`, `Under investigation`, `New`
 *   -> unfixed with that text as vendorStatus. `module:stream/name` names carry the module; flatpak and
 *   container components (`firefox:flatpak/firefox`) are left out.
 * Namespaces as for CSAF (rhelNamespaceFromCpe). Package severity = threat_severity. A record the CNA
 * rejected (its details say so) is marked withdrawn (dated by public_date). A file that fails
 * validation is skipped and counted. No files gives no advisories.
 */
export function parseRedhatSecurityData(files: FeedFile[]): AdvisoryParseResult {
  const advisories: Advisory[] = [];
  const skipped: SkippedRecord[] = [];
  let newest: string | undefined;
  for (const file of files) {
    let rec: SecurityDataRecord;
    try {
      const parsed = recordSchema.safeParse(JSON.parse(file.bytes.toString('utf8')));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        skipped.push({ record: file.name, reason: `redhat-security-data: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid record'}` });
        continue;
      }
      rec = parsed.data;
    } catch (err) {
      skipped.push({ record: file.name, reason: `redhat-security-data: not JSON: ${(err as Error).message}` });
      continue;
    }
    const a = recordAdvisory(rec);
    advisories.push(a);
    if (a.published !== undefined && (newest === undefined || a.published > newest)) newest = a.published;
  }
  return newest === undefined ? { advisories, skipped } : { advisories, skipped, newestRecord: newest };
}

function recordAdvisory(rec: SecurityDataRecord): Advisory {
  const advisory: Advisory = {
    id: rec.name,
    aliases: [],
    feed: 'redhat-security-data',
    severities: [],
    references: [`https://access.redhat.com/security/cve/${rec.name}`],
    affected: [],
  };
  if (rec.bugzilla?.description) advisory.title = rec.bugzilla.description;
  const details = rec.details?.map((d) => d.trim()).filter((d) => d !== '') ?? [];
  if (details[0] !== undefined) advisory.description = details[0];
  if (rec.public_date) advisory.published = rec.public_date;
  if (details.some((d) => /rejected/i.test(d) && /CVE Numbering Authority/i.test(d)) && rec.public_date) advisory.withdrawn = rec.public_date;
  if (rec.bugzilla?.url) advisory.references.push(rec.bugzilla.url);
  const refs = typeof rec.references === 'string' ? rec.references.split(/\s+/) : (rec.references ?? []);
  for (const r of refs) if (r.trim() !== '' && !advisory.references.includes(r.trim())) advisory.references.push(r.trim());

  const impact = redhatImpactSeverity(rec.threat_severity);
  if (impact) advisory.severities.push(impact);
  for (const v of [rec.cvss3?.cvss3_scoring_vector, rec.cvss?.cvss_scoring_vector]) {
    if (v !== undefined && cvssVersionOf(v) !== undefined) advisory.severities.push(cvssRating('redhat', v));
  }

  const seen = new Set<string>();
  const push = (a: AffectedPackage) => {
    const key = JSON.stringify([a.namespace, a.packageName, a.module ?? '', a.state, a.vendorStatus ?? '', a.ranges]);
    if (seen.has(key)) return;
    seen.add(key);
    advisory.affected.push(a);
  };
  const severity = impact ? { severity: impact } : {};
  for (const r of rec.affected_release ?? []) {
    const namespace = r.cpe === undefined ? undefined : rhelNamespaceFromCpe(r.cpe);
    const nevr = r.package === undefined ? undefined : parseNevr(r.package);
    if (namespace === undefined || nevr === undefined || nevr.evr === undefined || nevr.name.includes(':')) continue;
    push(rpmAffected({ namespace, packageName: nevr.name, nameKind: 'source', state: 'fixed', fixedVersion: nevr.evr, ...severity }));
  }
  for (const p of rec.package_state ?? []) {
    const namespace = p.cpe === undefined ? undefined : rhelNamespaceFromCpe(p.cpe);
    if (namespace === undefined) continue;
    const component = componentName(p.package_name);
    if (component === undefined) continue;
    const state = p.fix_state.trim().toLowerCase() === 'not affected' ? 'not_affected' : 'unfixed';
    push(
      rpmAffected({
        namespace,
        packageName: component.name,
        nameKind: 'source',
        state,
        ...(state === 'unfixed' ? { vendorStatus: p.fix_state.trim() } : {}),
        ...(component.module ? { module: component.module } : {}),
        ...severity,
      }),
    );
  }
  return advisory;
}

/** `nodejs:18/nodejs` -> module nodejs:18, name nodejs; `x:flatpak/y` and other non-rpm forms -> undefined. */
function componentName(raw: string): { name: string; module?: string } | undefined {
  const s = raw.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return /^[A-Za-z0-9][\w.+-]*$/.test(s) ? { name: s } : undefined;
  const module = s.slice(0, slash);
  const name = s.slice(slash + 1);
  if (!/^[\w.+-]+:[\w.+-]+$/.test(module) || module.endsWith(':flatpak') || !/^[A-Za-z0-9][\w.+-]*$/.test(name)) return undefined;
  return { name, module };
}

/** Red Hat Security Data API CVE records (`redhat-security-data`). */
export const redhatSecurityDataFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'redhat-security-data',
  version: 1,
  description: 'Red Hat Security Data API CVE records: fixed errata and per-release fix state of source packages',
  upstream: [{ url: REDHAT_SECURITY_DATA_API_URL, format: 'json' }],
  recognizes(file: FeedFile): boolean {
    if (!/^CVE-\d{4}-\d{4,}\.json$/i.test(baseName(file.name))) return false;
    const head = file.bytes.subarray(0, 4096).toString('utf8');
    if (!/^\s*\{/.test(head) || /"csaf_version"/.test(head)) return false;
    return /"(threat_severity|package_state|affected_release|bugzilla)"\s*:/.test(head);
  },
  parse: parseRedhatSecurityData,
};
