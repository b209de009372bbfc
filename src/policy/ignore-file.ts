/**
 * Ignore files, in the two forms Trivy made common:
 *
 * Text (`.portcullisignore`, `.trivyignore`): one vulnerability id per line, `#` starts a comment
 * (whole line or after whitespace), an optional `exp:YYYY-MM-DD` after the id limits the entry in
 * time. Comment lines just above an id become its statement (shown with `--show-suppressed`).
 *
 * ```
 * # openssl in the base image, no TLS server here
 * CVE-2024-0727
 * CVE-2023-5678 exp:2025-06-30
 * ```
 *
 * YAML (`.portcullisignore.yaml`, `.trivyignore.yaml`):
 *
 * ```yaml
 * vulnerabilities:
 *   - id: CVE-2022-40897          # or ids: [CVE-..., GHSA-...]
 *     paths: ["usr/local/lib/python3.11/site-packages/*"]   # optional, globs: * ? **
 *     purls: ["pkg:deb/debian/libssl3"]                    # optional, see purl-match.ts
 *     expired_at: 2025-09-01                               # optional (alias: expires)
 *     statement: Accept the risk                           # optional
 * ```
 *
 * Trivy's other sections (`misconfigurations`, `secrets`, `licenses`) are accepted and ignored so one
 * file can serve both tools. An entry applies through the whole of its expiry day (UTC) and no longer
 * after it. Ids match the finding's id or any alias, case-insensitively.
 */
import * as z from 'zod';
import type { Finding } from '../domain/finding.js';
import { parsePolicyYaml, policyInputError, readPolicyFile, zodReason } from './input.js';
import { purlMatchesPackage } from './purl-match.js';

const MODULE = 'ignore-file';

/** One ignore entry. */
export interface IgnoreRule {
  /** Upper-cased vulnerability ids. */
  ids: string[];
  /** When present, the rule only applies to packages matching one of these purls. */
  purls?: string[];
  /** When present, the rule only applies to packages read from a path matching one of these globs. */
  paths?: string[];
  /** The expiry day as written (`YYYY-MM-DD`); the rule applies through the end of that UTC day. */
  expires?: string;
  statement?: string;
  /** 1-based line of the entry (text form) for messages. */
  line?: number;
}

/** A parsed ignore file; `rules` is [] for an empty file. */
export interface IgnoreList {
  source: string;
  format: 'text' | 'yaml';
  rules: IgnoreRule[];
}

/** The rule that ignores a finding, and why. */
export interface IgnoreMatch {
  rule: IgnoreRule;
  /** Human-readable reason: the statement, or the id and file line. */
  reason: string;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Checks `YYYY-MM-DD` is a real calendar day. */
function validDay(text: string): boolean {
  const m = DAY.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** True while `now` is on or before the expiry day (UTC). Rules without expiry never expire. */
export function ruleActive(rule: IgnoreRule, now: Date): boolean {
  if (rule.expires === undefined) return true;
  const endOfDay = Date.parse(`${rule.expires}T23:59:59.999Z`);
  return now.getTime() <= endOfDay;
}

/** Parses the text form. Throws E_INPUT naming file and line for a malformed `exp:` or stray words. */
export function parseIgnoreText(text: string, file: string): IgnoreList {
  const rules: IgnoreRule[] = [];
  let comments: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '') {
      comments = [];
      continue;
    }
    if (trimmed.startsWith('#')) {
      comments.push(trimmed.replace(/^#+\s?/, ''));
      continue;
    }
    const hash = trimmed.search(/\s#/);
    const body = hash >= 0 ? trimmed.slice(0, hash).trim() : trimmed;
    const inline = hash >= 0 ? trimmed.slice(hash).replace(/^\s*#+\s?/, '') : undefined;
    const [id, ...rest] = body.split(/\s+/);
    if (id === undefined || id === '') continue;
    const rule: IgnoreRule = { ids: [id.toUpperCase()], line: lineNo };
    for (const word of rest) {
      if (!word.startsWith('exp:')) {
        throw policyInputError(MODULE, file, `line ${lineNo}: unexpected ${JSON.stringify(word)} after the id (only exp:YYYY-MM-DD may follow)`);
      }
      const day = word.slice(4);
      if (!validDay(day)) throw policyInputError(MODULE, file, `line ${lineNo}: invalid expiry date ${JSON.stringify(day)} (expected exp:YYYY-MM-DD)`);
      rule.expires = day;
    }
    const statement = inline ?? (comments.length > 0 ? comments.join(' ') : undefined);
    if (statement) rule.statement = statement;
    rules.push(rule);
  }
  return { source: file, format: 'text', rules };
}

const dayField = z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v.trim()))
  .refine(validDay, { message: 'expected a date YYYY-MM-DD' });

const stringList = z.array(z.string().min(1, 'must not be empty'));

const yamlSchema = z.strictObject(
  {
    vulnerabilities: z
      .array(
        z.strictObject({
          id: z.string().min(1).optional(),
          ids: stringList.min(1).optional(),
          purls: stringList.optional(),
          paths: stringList.optional(),
          expired_at: dayField.optional(),
          expires: dayField.optional(),
          statement: z.string().optional(),
        }),
      )
      .nullish(),
    misconfigurations: z.unknown().optional(),
    secrets: z.unknown().optional(),
    licenses: z.unknown().optional(),
  },
);

/** Parses the YAML form. Throws E_INPUT naming file and the entry at fault. Empty file: no rules. */
export function parseIgnoreYaml(text: string, file: string): IgnoreList {
  const data = parsePolicyYaml(MODULE, file, text);
  if (data === null || data === undefined) return { source: file, format: 'yaml', rules: [] };
  const parsed = yamlSchema.safeParse(data);
  if (!parsed.success) throw policyInputError(MODULE, file, zodReason(parsed.error));
  const rules = (parsed.data.vulnerabilities ?? []).map((entry, i): IgnoreRule => {
    const ids = [...(entry.id !== undefined ? [entry.id] : []), ...(entry.ids ?? [])].map((x) => x.trim().toUpperCase());
    if (ids.length === 0) throw policyInputError(MODULE, file, `at vulnerabilities[${i}]: an entry needs 'id' or 'ids'`);
    const rule: IgnoreRule = { ids };
    if (entry.purls) rule.purls = entry.purls;
    if (entry.paths) rule.paths = entry.paths.map((p) => p.replace(/^\/+/, ''));
    const expires = entry.expired_at ?? entry.expires;
    if (expires !== undefined) rule.expires = expires;
    if (entry.statement !== undefined) rule.statement = entry.statement;
    return rule;
  });
  return { source: file, format: 'yaml', rules };
}

/**
 * Parses an ignore file, choosing the form by name (`.yaml`/`.yml` -> YAML) or, for other names, by
 * content (a document whose first meaningful line is `vulnerabilities:` is YAML).
 */
export function parseIgnoreFile(text: string, file: string): IgnoreList {
  if (/\.ya?ml$/i.test(file)) return parseIgnoreYaml(text, file);
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (first !== undefined && /^(vulnerabilities|misconfigurations|secrets|licenses)\s*:/.test(first.trim())) return parseIgnoreYaml(text, file);
  return parseIgnoreText(text, file);
}

/** Reads and parses an ignore file; see {@link parseIgnoreFile}. A missing file is E_INPUT. */
export function loadIgnoreFile(file: string): IgnoreList {
  return parseIgnoreFile(readPolicyFile(MODULE, file), file);
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i += 1;
      if (glob[i + 1] === '/') i += 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/**
 * The first active rule (in file order) that names one of the finding's ids and whose purls/paths,
 * when given, match its package. Returns undefined when none does. `now` decides expiry.
 */
export function ignoreMatch(list: IgnoreList, finding: Pick<Finding, 'id' | 'aliases' | 'package'>, now: Date): IgnoreMatch | undefined {
  const ids = new Set([finding.id, ...finding.aliases].map((x) => x.toUpperCase()));
  for (const rule of list.rules) {
    if (!rule.ids.some((id) => ids.has(id))) continue;
    if (!ruleActive(rule, now)) continue;
    if (rule.purls && !rule.purls.some((p) => purlMatchesPackage(p, finding.package))) continue;
    if (rule.paths && !rule.paths.some((g) => globToRegExp(g).test(finding.package.path.replace(/^\/+/, '')))) continue;
    const where = rule.line !== undefined ? `${list.source}:${rule.line}` : list.source;
    const until = rule.expires ? ` (until ${rule.expires})` : '';
    return { rule, reason: `${rule.statement ?? `ignored by ${where}`}${until}` };
  }
  return undefined;
}
