/**
 * Parser of the secdb format shared by Alpine (secdb.alpinelinux.org, one document per release and
 * repository) and Wolfi (packages.wolfi.dev/os/security.json):
 *
 *   { distroversion: 'v3.10', reponame: 'main', packages: [ { pkg: { name, secfixes: { '<fixed version>': ['CVE-…', …] } } } ] }
 *
 * Package names are origin (source) package names. A fixed version `X` means "affected below X"
 * (introduced 0, fixed X, apk scheme); the version `0` means "never affected" (not_affected). Lines
 * are free text in practice: `CVE-2019-5060 TALOS-2019-0844`, `CVE-2018-14468 (FrameRelay)`,
 * `XSA-207`, `CVE_2019-2426`; see `idsOfLine`.
 */
import * as z from 'zod';
import type { Advisory, AffectedPackage, VersionRange } from '../../domain/advisory.js';
import type { AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { parseYaml, unique } from '../text.js';

const secfixesSchema = z.record(
  z.string(),
  z
    .array(z.union([z.string(), z.number(), z.null()]))
    .nullish()
    .transform((v) => (v ?? []).filter((x): x is string | number => x !== null).map(String)),
);

const packageSchema = z.object({
  pkg: z.object({
    name: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1)),
    secfixes: secfixesSchema.nullish(),
  }),
});

const documentSchema = z.object({
  distroversion: z.union([z.string(), z.number()]).transform(String).nullish(),
  reponame: z.string().nullish(),
  urlprefix: z.string().nullish(),
  // Each package is validated on its own below, so one bad entry does not sink the document.
  packages: z.array(z.unknown()).nullish(),
});

/** Ids named on one secfixes line: the CVEs it fixes, and the other ids (XSA-, TALOS-, GHSA-...) it names. */
export interface LineIds {
  cves: string[];
  others: string[];
}

const CVE_TOKEN = /^CVE[-_](\d{4})-(\d{4,})(?:-\d+)?$/i;
const OTHER_TOKEN = /^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+$/;

/**
 * Reads the ids on one secfixes line. Parenthesized remarks are dropped, `CVE_` typos and
 * `CVE-2017-17434-1` style variant suffixes are folded onto the CVE, `.patch` file names are
 * reduced to their id, words that are no id (`XPTI`) and placeholders (`CVE-????-?????`) are ignored.
 */
export function idsOfLine(line: string): LineIds {
  const cves: string[] = [];
  const others: string[] = [];
  for (const raw of line.replace(/\([^)]*\)?/g, ' ').split(/[\s,;]+/)) {
    const token = raw.replace(/\.(patch|diff)$/i, '').replace(/[.:]+$/, '');
    if (token === '') continue;
    const cve = CVE_TOKEN.exec(token);
    if (cve !== null) cves.push(`CVE-${cve[1]}-${cve[2]}`);
    else if (OTHER_TOKEN.test(token) && !/^CVE-/i.test(token)) others.push(token);
  }
  return { cves: unique(cves), others: unique(others) };
}

/** How a secdb flavour names its namespace from a document. Undefined: the document cannot be placed. */
export type NamespaceOf = (doc: { distroversion?: string | null; reponame?: string | null; urlprefix?: string | null }) => string | undefined;

/** `v3.10` -> `alpine:3.10`, `edge` -> `alpine:edge`; undefined without a release. */
export const alpineNamespace: NamespaceOf = (doc) => {
  const v = doc.distroversion?.trim();
  if (v === undefined || v === '') return undefined;
  const m = /^v?(\d+\.\d+)$/.exec(v);
  if (m !== null) return `alpine:${m[1]}`;
  return v === 'edge' ? 'alpine:edge' : undefined;
};

/** Wolfi is a rolling distribution: one namespace. */
export const wolfiNamespace: NamespaceOf = () => 'wolfi:rolling';

interface Accumulator {
  advisories: Map<string, Advisory>;
  /** `${advisory id}\u0000${namespace}\u0000${package}\u0000${state}` -> affected entry. */
  affected: Map<string, AffectedPackage>;
}

function addStatement(acc: Accumulator, feedId: string, id: string, aliases: string[], namespace: string, packageName: string, fixed: string, reference: ((id: string) => string) | undefined): void {
  let advisory = acc.advisories.get(id);
  if (advisory === undefined) {
    advisory = { id, aliases: [], feed: feedId, severities: [], references: reference ? [reference(id)] : [], affected: [] };
    acc.advisories.set(id, advisory);
  }
  for (const alias of aliases) if (alias !== id && !advisory.aliases.includes(alias)) advisory.aliases.push(alias);

  const notAffected = fixed === '0';
  const key = `${id}\u0000${namespace}\u0000${packageName}\u0000${notAffected ? 'n' : 'f'}`;
  let entry = acc.affected.get(key);
  if (entry === undefined) {
    entry = {
      ecosystem: 'apk',
      namespace,
      packageName,
      nameKind: 'source',
      scheme: 'apk',
      state: notAffected ? 'not_affected' : 'fixed',
      ranges: [],
      versions: [],
    };
    acc.affected.set(key, entry);
    advisory.affected.push(entry);
  }
  // The same statement can come twice (an excerpt imported beside its full document): keep one.
  if (!notAffected && !entry.ranges.some((r) => r.events.some((e) => 'fixed' in e && e.fixed === fixed))) {
    const range: VersionRange = { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] };
    entry.ranges.push(range);
  }
}

export interface SecdbParseOptions {
  feedId: string;
  namespaceOf: NamespaceOf;
  /** Link to the distribution's page for an id, when it has one. */
  reference?: (id: string) => string;
  /** Prefix of skip reasons (`alpine-secdb`, `wolfi-secdb`). */
  label: string;
}

/**
 * Parses secdb documents (JSON or YAML by file name) into one advisory per vulnerability id, each
 * with one affected entry per namespace, package and state. A file that does not decode or cannot
 * be placed in a namespace, a package entry that fails validation, and a line naming no id are
 * skipped and counted. A fixed version with an empty (null) id list says nothing and is ignored.
 * An empty document (`packages: null`, as for v3.3 community) yields nothing.
 */
export function parseSecdbFiles(files: FeedFile[], options: SecdbParseOptions): AdvisoryParseResult {
  const acc: Accumulator = { advisories: new Map(), affected: new Map() };
  const skipped: SkippedRecord[] = [];
  for (const file of files) {
    let value: unknown;
    try {
      const text = file.bytes.toString('utf8');
      value = /\.ya?ml$/i.test(file.name) ? parseYaml(text) : JSON.parse(text);
    } catch (err) {
      skipped.push({ record: file.name, reason: `${options.label}: cannot decode: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
      continue;
    }
    const doc = documentSchema.safeParse(value);
    if (!doc.success) {
      skipped.push({ record: file.name, reason: `${options.label}: not a secdb document: ${doc.error.issues[0]?.message ?? 'invalid'}` });
      continue;
    }
    const namespace = options.namespaceOf(doc.data);
    if (namespace === undefined) {
      skipped.push({ record: file.name, reason: `${options.label}: no usable distroversion (${JSON.stringify(doc.data.distroversion ?? null)})` });
      continue;
    }
    (doc.data.packages ?? []).forEach((entry, index) => {
      const pkg = packageSchema.safeParse(entry);
      if (!pkg.success) {
        skipped.push({ record: `${file.name}#packages[${index}]`, reason: `${options.label}: ${pkg.error.issues[0]?.path.join('.') ?? ''}: ${pkg.error.issues[0]?.message ?? 'invalid'}` });
        return;
      }
      const name = pkg.data.pkg.name;
      for (const [fixed, lines] of Object.entries(pkg.data.pkg.secfixes ?? {})) {
        const version = fixed.trim();
        for (const line of lines) {
          const { cves, others } = idsOfLine(line);
          if (cves.length === 0 && others.length === 0) {
            skipped.push({ record: `${file.name}#${name}@${version}`, reason: `${options.label}: no vulnerability id in ${JSON.stringify(line)}` });
            continue;
          }
          if (cves.length > 0) for (const cve of cves) addStatement(acc, options.feedId, cve, others, namespace, name, version, options.reference);
          else addStatement(acc, options.feedId, others[0] as string, others.slice(1), namespace, name, version, options.reference);
        }
      }
    });
  }
  return { advisories: [...acc.advisories.values()], skipped };
}
