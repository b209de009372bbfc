/**
 * VEX (Vulnerability Exploitability eXchange) documents: OpenVEX (v0.0.1 and v0.2.0 shapes) and
 * CycloneDX VEX (a BOM whose `vulnerabilities[]` carry `analysis` and `affects`). Both are read into
 * one statement model; `not_affected` and `fixed` statements suppress the findings they name, and the
 * justification travels with the suppression so `--show-suppressed` can print it.
 *
 * Products are matched by purl (see purl-match.ts: with or without version and qualifiers) or by
 * image (an OCI purl `pkg:oci/name@sha256:...?repository_url=...` or a plain reference
 * `registry/ns/repo:tag`). An image product with subcomponents applies to those packages inside that
 * image; without subcomponents it applies to every package of the image.
 *
 * When several statements speak about the same finding, the latest one (statement timestamp, else
 * document timestamp; later in the file on a tie) decides, as the OpenVEX spec orders them.
 */
import { PackageURL } from 'packageurl-js';
import * as z from 'zod';
import type { Finding } from '../domain/finding.js';
import { imageNameMatches } from './image-name.js';
import { parsePolicyJson, policyInputError, readPolicyFile, zodReason } from './input.js';
import { purlMatchesPackage, tryParsePurl, type MatchablePackage } from './purl-match.js';

const MODULE = 'vex';

/** The four OpenVEX statuses; CycloneDX analysis states are mapped onto them. */
export const VEX_STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
export type VexStatus = (typeof VEX_STATUSES)[number];

/** Something a statement designates: a package (by purl) or an image, or an id we cannot resolve. */
export type VexTarget =
  | { kind: 'package'; purl: string; /** Our own SBOM bom-refs may pin the file path too. */ path?: string }
  | { kind: 'image'; name: string; digest?: string }
  | { kind: 'unresolved'; id: string };

export interface VexProduct {
  target: VexTarget;
  /** Packages inside the product the statement is limited to; empty = the whole product. */
  subcomponents: VexTarget[];
}

export interface VexStatement {
  /** The vulnerability as the document names it (for messages). */
  vulnerability: string;
  /** Every id the statement is about (name, `@id`, aliases; ids found in URLs), upper-cased. */
  ids: string[];
  products: VexProduct[];
  status: VexStatus;
  /** The document's own word for the status when it differs (CycloneDX `false_positive`, `resolved`). */
  rawStatus?: string;
  justification?: string;
  impactStatement?: string;
  actionStatement?: string;
  statusNotes?: string;
  timestamp?: string;
}

export interface VexDocument {
  format: 'openvex' | 'cyclonedx';
  /** File the document was read from. */
  source: string;
  id?: string;
  author?: string;
  timestamp?: string;
  statements: VexStatement[];
}

/** Why a finding is suppressed by VEX. */
export interface VexSuppression {
  status: 'not_affected' | 'fixed';
  statement: VexStatement;
  document: VexDocument;
  /** Human-readable: status, justification and the document's own words. */
  reason: string;
}

/** The image the findings were found in, for image products. */
export interface VexImage {
  name: string;
  /** Manifest and index digests of the scanned image, when known. */
  digests: string[];
}

// ---------------------------------------------------------------------------------------------
// Vulnerability ids

const ID_IN_TEXT = /\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|USN-\d+-\d+|DSA-\d+-\d+|DLA-\d+-\d+|RHSA-\d{4}:\d+)\b/gi;

/**
 * The ids a VEX string stands for: an id-looking string as it is, and for URLs (Ubuntu lists
 * `https://www.cve.org/CVERecord?id=CVE-...` as aliases) the well-known ids found inside them.
 */
export function vexIds(value: string): string[] {
  const text = value.trim();
  if (text === '') return [];
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return [text.toUpperCase()];
  return [...new Set([...text.matchAll(ID_IN_TEXT)].map((m) => (m[1] ?? '').toUpperCase()))];
}

// ---------------------------------------------------------------------------------------------
// Targets

function imageTargetFromOciPurl(purl: string): VexTarget | undefined {
  const p = tryParsePurl(purl);
  if (p?.type !== 'oci') return undefined;
  const q = (p.qualifiers ?? {}) as Record<string, string>;
  const name = q.repository_url ?? p.name;
  return p.version ? { kind: 'image', name, digest: p.version } : { kind: 'image', name };
}

/** Classifies a product/subcomponent id: purl, OCI purl, image reference, or unresolved (URLs, CPEs). */
export function targetFromId(id: string): VexTarget {
  const value = id.trim();
  if (value.startsWith('pkg:oci/')) return imageTargetFromOciPurl(value) ?? { kind: 'unresolved', id: value };
  if (value.startsWith('pkg:')) {
    // Our SBOMs give duplicate purls a `purl|path` bom-ref; a VEX may point at one of those.
    const bar = value.indexOf('|');
    if (bar > 0 && tryParsePurl(value.slice(0, bar))) return { kind: 'package', purl: value.slice(0, bar), path: value.slice(bar + 1).split('|')[0] ?? '' };
    return tryParsePurl(value) ? { kind: 'package', purl: value } : { kind: 'unresolved', id: value };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[^/]+:\d+\//.test(value)) return { kind: 'unresolved', id: value };
  const at = value.indexOf('@');
  if (at > 0) return { kind: 'image', name: value.slice(0, at), digest: value.slice(at + 1) };
  return value === '' ? { kind: 'unresolved', id: value } : { kind: 'image', name: value };
}

function targetMatchesPackage(target: VexTarget, pkg: MatchablePackage & { path?: string }): boolean {
  if (target.kind !== 'package') return false;
  if (target.path !== undefined && pkg.path !== undefined && target.path !== pkg.path) return false;
  return purlMatchesPackage(target.purl, pkg);
}

function targetMatchesImage(target: VexTarget, image: VexImage): boolean {
  if (target.kind !== 'image') return false;
  if (!imageNameMatches(target.name, image.name)) return false;
  // A product pinned to a digest speaks about that build only; when the scan knows no digest the
  // name has to do.
  if (target.digest !== undefined && image.digests.length > 0) return image.digests.includes(target.digest);
  return true;
}

function productMatches(product: VexProduct, pkg: MatchablePackage & { path?: string }, image: VexImage): boolean {
  if (product.subcomponents.length === 0) return targetMatchesPackage(product.target, pkg) || targetMatchesImage(product.target, image);
  const container = targetMatchesImage(product.target, image) || targetMatchesPackage(product.target, pkg);
  return container && product.subcomponents.some((s) => targetMatchesPackage(s, pkg));
}

// ---------------------------------------------------------------------------------------------
// OpenVEX

const openVexTarget = z.union([
  z.string(),
  z.looseObject({
    '@id': z.string().optional(),
    identifiers: z.looseObject({ purl: z.string().optional() }).optional(),
  }),
]);
const openVexProduct = z.union([
  z.string(),
  z.looseObject({
    '@id': z.string().optional(),
    identifiers: z.looseObject({ purl: z.string().optional() }).optional(),
    subcomponents: z.array(openVexTarget).optional(),
  }),
]);
const openVexSchema = z.looseObject({
  '@context': z.string().startsWith('https://openvex.dev/ns', 'not an OpenVEX context'),
  '@id': z.string().optional(),
  author: z.string().optional(),
  timestamp: z.string().optional(),
  statements: z.array(
    z.looseObject({
      vulnerability: z.union([
        z.string().min(1),
        z.looseObject({ name: z.string().optional(), '@id': z.string().optional(), aliases: z.array(z.string()).optional() }),
      ]),
      products: z.array(openVexProduct).optional(),
      status: z.enum(VEX_STATUSES, { message: `status must be one of ${VEX_STATUSES.join(', ')}` }),
      justification: z.string().optional(),
      impact_statement: z.string().optional(),
      action_statement: z.string().optional(),
      status_notes: z.string().optional(),
      timestamp: z.string().optional(),
    }),
  ),
});

function openVexTargetOf(value: z.infer<typeof openVexTarget>): VexTarget {
  if (typeof value === 'string') return targetFromId(value);
  const purl = value.identifiers?.purl;
  if (purl !== undefined) return targetFromId(purl);
  return targetFromId(value['@id'] ?? '');
}

function fromOpenVex(data: z.infer<typeof openVexSchema>, file: string): VexDocument {
  const statements = data.statements.map((s, i): VexStatement => {
    const v = s.vulnerability;
    const names = typeof v === 'string' ? [v] : [v.name, v['@id'], ...(v.aliases ?? [])].filter((x): x is string => x !== undefined);
    const ids = [...new Set(names.flatMap(vexIds))];
    if (ids.length === 0) throw policyInputError(MODULE, file, `at statements[${i}].vulnerability: no name, @id or aliases`);
    const products = (s.products ?? []).map((p): VexProduct => {
      if (typeof p === 'string') return { target: targetFromId(p), subcomponents: [] };
      return { target: openVexTargetOf(p), subcomponents: (p.subcomponents ?? []).map(openVexTargetOf) };
    });
    const statement: VexStatement = {
      vulnerability: typeof v === 'string' ? v : (v.name ?? v['@id'] ?? ids[0] ?? ''),
      ids,
      products,
      status: s.status,
    };
    if (s.justification !== undefined) statement.justification = s.justification;
    if (s.impact_statement !== undefined) statement.impactStatement = s.impact_statement;
    if (s.action_statement !== undefined) statement.actionStatement = s.action_statement;
    if (s.status_notes !== undefined) statement.statusNotes = s.status_notes;
    if (s.timestamp !== undefined) statement.timestamp = s.timestamp;
    return statement;
  });
  const doc: VexDocument = { format: 'openvex', source: file, statements };
  if (data['@id'] !== undefined) doc.id = data['@id'];
  if (data.author !== undefined) doc.author = data.author;
  if (data.timestamp !== undefined) doc.timestamp = data.timestamp;
  return doc;
}

// ---------------------------------------------------------------------------------------------
// CycloneDX VEX

interface CdxComponentLike {
  'bom-ref'?: string;
  type?: string;
  name?: string;
  version?: string;
  purl?: string;
  components?: CdxComponentLike[];
}
const cdxComponent: z.ZodType<CdxComponentLike> = z.lazy(() =>
  z.looseObject({
    'bom-ref': z.string().optional(),
    type: z.string().optional(),
    name: z.string().optional(),
    version: z.string().optional(),
    purl: z.string().optional(),
    components: z.array(cdxComponent).optional(),
  }),
);

const CDX_STATES = ['resolved', 'resolved_with_pedigree', 'exploitable', 'in_triage', 'false_positive', 'not_affected'] as const;
const cdxVexSchema = z.looseObject({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.string(),
  serialNumber: z.string().optional(),
  metadata: z.looseObject({ timestamp: z.string().optional(), component: cdxComponent.optional() }).optional(),
  components: z.array(cdxComponent).optional(),
  vulnerabilities: z
    .array(
      z.looseObject({
        id: z.string().optional(),
        references: z.array(z.looseObject({ id: z.string() })).optional(),
        analysis: z
          .looseObject({
            state: z.enum(CDX_STATES, { message: `analysis.state must be one of ${CDX_STATES.join(', ')}` }).optional(),
            justification: z.string().optional(),
            response: z.array(z.string()).optional(),
            detail: z.string().optional(),
          })
          .optional(),
        affects: z
          .array(
            z.looseObject({
              ref: z.string(),
              versions: z.array(z.looseObject({ version: z.string().optional(), range: z.string().optional(), status: z.string().optional() })).optional(),
            }),
          )
          .optional(),
        updated: z.string().optional(),
        published: z.string().optional(),
      }),
    )
    .optional(),
});

const CDX_TO_STATUS: Record<(typeof CDX_STATES)[number], VexStatus> = {
  not_affected: 'not_affected',
  false_positive: 'not_affected',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: 'affected',
  in_triage: 'under_investigation',
};

function cdxTargetOf(component: CdxComponentLike): VexTarget | undefined {
  if (component.purl !== undefined) return targetFromId(component.purl);
  if (component.type === 'container' && component.name !== undefined) {
    const digest = component.version?.startsWith('sha256:') ? component.version : undefined;
    return digest ? { kind: 'image', name: component.name, digest } : { kind: 'image', name: component.name };
  }
  return undefined;
}

function fromCycloneDx(data: z.infer<typeof cdxVexSchema>, file: string): VexDocument {
  const byRef = new Map<string, CdxComponentLike>();
  const visit = (c: CdxComponentLike): void => {
    if (c['bom-ref'] !== undefined) byRef.set(c['bom-ref'], c);
    for (const child of c.components ?? []) visit(child);
  };
  if (data.metadata?.component) visit(data.metadata.component);
  for (const c of data.components ?? []) visit(c);

  const statements: VexStatement[] = [];
  for (const [i, v] of (data.vulnerabilities ?? []).entries()) {
    const state = v.analysis?.state;
    if (state === undefined) continue;
    const ids = [...new Set([v.id, ...(v.references ?? []).map((r) => r.id)].filter((x): x is string => x !== undefined).flatMap(vexIds))];
    if (ids.length === 0) throw policyInputError(MODULE, file, `at vulnerabilities[${i}]: an analysed vulnerability needs an id`);
    const products: VexProduct[] = [];
    for (const affect of v.affects ?? []) {
      // A BOM-Link (`urn:cdx:serial/version#ref`) points into another BOM; its fragment is the ref.
      const hash = affect.ref.startsWith('urn:cdx:') ? affect.ref.indexOf('#') : -1;
      const ref = hash >= 0 ? decodeURIComponent(affect.ref.slice(hash + 1)) : affect.ref;
      const component = byRef.get(ref);
      let target = component ? cdxTargetOf(component) : undefined;
      target ??= targetFromId(ref);
      const versions = affect.versions ?? [];
      if (versions.length > 0 && target.kind === 'package') {
        // Listed versions narrow the statement to those exact versions; ranges (vers:) are not
        // evaluated, so a range-only entry never suppresses (the safe side for a gate).
        for (const entry of versions) {
          if (entry.version === undefined) continue;
          const p = tryParsePurl(target.purl);
          if (!p) continue;
          const pinned = new PackageURL(p.type, p.namespace, p.name, entry.version, p.qualifiers, undefined).toString();
          products.push({ target: { ...target, purl: pinned }, subcomponents: [] });
        }
      } else {
        products.push({ target, subcomponents: [] });
      }
    }
    const statement: VexStatement = { vulnerability: v.id ?? ids[0] ?? '', ids, products, status: CDX_TO_STATUS[state] };
    if (CDX_TO_STATUS[state] !== state) statement.rawStatus = state;
    if (v.analysis?.justification !== undefined) statement.justification = v.analysis.justification;
    if (v.analysis?.detail !== undefined) statement.impactStatement = v.analysis.detail;
    if (v.analysis?.response !== undefined && v.analysis.response.length > 0) statement.actionStatement = v.analysis.response.join(', ');
    const when = v.updated ?? v.published;
    if (when !== undefined) statement.timestamp = when;
    statements.push(statement);
  }
  const doc: VexDocument = { format: 'cyclonedx', source: file, statements };
  if (data.serialNumber !== undefined) doc.id = data.serialNumber;
  if (data.metadata?.timestamp !== undefined) doc.timestamp = data.metadata.timestamp;
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Parses a VEX document (JSON text), telling OpenVEX (`@context` under https://openvex.dev/ns) from
 * CycloneDX (`bomFormat: CycloneDX`). Throws E_INPUT naming `file` and the problem for invalid JSON,
 * unknown formats and wrong shapes (unknown status, statement without vulnerability, ...). A document
 * with no statements (or a BOM without analysed vulnerabilities) yields `statements: []`.
 */
export function parseVex(text: string, file: string): VexDocument {
  const data = parsePolicyJson(MODULE, file, text);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw policyInputError(MODULE, file, 'the document must be a JSON object');
  const record = data as Record<string, unknown>;
  if (typeof record['@context'] === 'string') {
    const parsed = openVexSchema.safeParse(data);
    if (!parsed.success) throw policyInputError(MODULE, file, `invalid OpenVEX document ${zodReason(parsed.error)}`);
    return fromOpenVex(parsed.data, file);
  }
  if (record.bomFormat === 'CycloneDX') {
    const parsed = cdxVexSchema.safeParse(data);
    if (!parsed.success) throw policyInputError(MODULE, file, `invalid CycloneDX VEX document ${zodReason(parsed.error)}`);
    return fromCycloneDx(parsed.data, file);
  }
  throw policyInputError(MODULE, file, 'not a VEX document: expected an OpenVEX @context or a CycloneDX bomFormat');
}

/** Reads and parses a VEX file; see {@link parseVex}. A missing file is E_INPUT. */
export function loadVex(file: string): VexDocument {
  return parseVex(readPolicyFile(MODULE, file), file);
}

/** `VEX <status> (<justification>): <the document's words> (by <author>)`, parts present only when given. */
function describe(statement: VexStatement, document: VexDocument): string {
  const status = statement.rawStatus ?? statement.status;
  const words = statement.impactStatement ?? statement.statusNotes ?? statement.actionStatement;
  return `VEX ${status}${statement.justification ? ` (${statement.justification})` : ''}${words ? `: ${words}` : ''}${document.author ? ` (by ${document.author})` : ''}`;
}

/**
 * The VEX verdict on one finding: the latest statement (across all documents) that names one of the
 * finding's ids and designates its package or image. Returns a suppression when that statement is
 * `not_affected` or `fixed`, undefined otherwise (no statement, or the latest says `affected` /
 * `under_investigation`).
 */
export function vexSuppression(documents: readonly VexDocument[], finding: Pick<Finding, 'id' | 'aliases' | 'package'>, image: VexImage): VexSuppression | undefined {
  const ids = new Set([finding.id, ...finding.aliases].map((x) => x.toUpperCase()));
  let best: { statement: VexStatement; document: VexDocument; when: number; order: number } | undefined;
  let order = 0;
  for (const document of documents) {
    for (const statement of document.statements) {
      order += 1;
      if (!statement.ids.some((id) => ids.has(id))) continue;
      if (!statement.products.some((p) => productMatches(p, finding.package, image))) continue;
      const stamp = Date.parse(statement.timestamp ?? document.timestamp ?? '');
      const when = Number.isNaN(stamp) ? Number.NEGATIVE_INFINITY : stamp;
      if (best === undefined || when > best.when || (when === best.when && order > best.order)) best = { statement, document, when, order };
    }
  }
  if (best === undefined) return undefined;
  const { statement, document } = best;
  if (statement.status !== 'not_affected' && statement.status !== 'fixed') return undefined;
  return { status: statement.status, statement, document, reason: describe(statement, document) };
}
