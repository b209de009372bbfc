/**
 * clair-scanner whitelist files:
 *
 * ```yaml
 * generalwhitelist:        # approved for every image
 *   CVE-2017-6055: XML
 * images:
 *   ubuntu:                # approved only for this image, whatever its tag
 *     CVE-2017-5230: Java
 * ```
 *
 * Either section may be absent and the file may be empty (clair-scanner accepts both). Reasons are
 * free text; YAML scalars that are not strings (numbers, booleans, an empty value) are kept as their
 * text, as Go's yaml.v2 does when it decodes into `map[string]string`. Unlike clair-scanner, unknown
 * top-level keys are an error: a misspelt `generalWhiteList` would otherwise approve nothing, silently.
 */
import type { Finding } from '../domain/finding.js';
import { imageNameMatches } from './image-name.js';
import { parsePolicyYaml, policyInputError, readPolicyFile } from './input.js';

const MODULE = 'whitelist';

/** A parsed whitelist; both maps may be empty. */
export interface Whitelist {
  /** File the whitelist was read from (for messages and report provenance). */
  source: string;
  /** Vulnerability id -> reason, for every image. */
  general: Record<string, string>;
  /** Image key (as written) -> vulnerability id -> reason. */
  images: Record<string, Record<string, string>>;
}

/** Why one finding is whitelisted. */
export interface WhitelistMatch {
  /** The whitelisted id that matched (the finding's id or one of its aliases). */
  id: string;
  reason: string;
  /** `generalwhitelist` or `images.<key>`. */
  scope: string;
}

function scalarText(value: unknown): string | undefined {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function readIdMap(file: string, where: string, value: unknown): Record<string, string> {
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw policyInputError(MODULE, file, `${where} must be a mapping of vulnerability id to reason, got ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  const out: Record<string, string> = {};
  for (const [id, reason] of Object.entries(value)) {
    const text = scalarText(reason);
    if (text === undefined) {
      throw policyInputError(MODULE, file, `${where}.${id}: the reason must be text, got ${Array.isArray(reason) ? 'a list' : 'a mapping'}`);
    }
    if (id.trim() === '') throw policyInputError(MODULE, file, `${where}: empty vulnerability id`);
    out[id.trim()] = text;
  }
  return out;
}

/**
 * Parses whitelist YAML text. `file` names the source in errors. Throws E_INPUT (message naming file
 * and problem) for invalid YAML or wrong shapes. An empty document yields an empty whitelist.
 */
export function parseWhitelist(text: string, file: string): Whitelist {
  const data = parsePolicyYaml(MODULE, file, text);
  const whitelist: Whitelist = { source: file, general: {}, images: {} };
  if (data === null || data === undefined) return whitelist;
  if (!isPlainObject(data)) {
    throw policyInputError(MODULE, file, `the document must be a mapping with 'generalwhitelist' and/or 'images', got ${Array.isArray(data) ? 'a list' : typeof data}`);
  }
  for (const key of Object.keys(data)) {
    if (key !== 'generalwhitelist' && key !== 'images') {
      throw policyInputError(MODULE, file, `unknown key '${key}' (expected 'generalwhitelist' or 'images')`);
    }
  }
  whitelist.general = readIdMap(file, 'generalwhitelist', data.generalwhitelist);
  const images = data.images;
  if (images !== null && images !== undefined) {
    if (!isPlainObject(images)) {
      throw policyInputError(MODULE, file, `images must be a mapping of image name to a mapping of vulnerability id to reason, got ${Array.isArray(images) ? 'a list' : typeof images}`);
    }
    for (const [image, ids] of Object.entries(images)) {
      whitelist.images[image] = readIdMap(file, `images.${image}`, ids);
    }
  }
  return whitelist;
}

/** Reads and parses a whitelist file; see {@link parseWhitelist}. A missing file is E_INPUT. */
export function loadWhitelist(file: string): Whitelist {
  return parseWhitelist(readPolicyFile(MODULE, file), file);
}

/** The finding's id followed by its aliases: what every policy matches on. */
export function findingIds(finding: Pick<Finding, 'id' | 'aliases'>): string[] {
  return [finding.id, ...finding.aliases];
}

function lookup(map: Record<string, string>, ids: string[]): { id: string; reason: string } | undefined {
  for (const id of ids) {
    const reason = map[id];
    if (reason !== undefined) return { id, reason };
  }
  // Ids are compared case-insensitively as a second chance (`cve-2023-1234` written by hand).
  const upper = new Map(Object.entries(map).map(([k, v]) => [k.toUpperCase(), v] as const));
  for (const id of ids) {
    const reason = upper.get(id.toUpperCase());
    if (reason !== undefined) return { id, reason };
  }
  return undefined;
}

/**
 * Whether the whitelist approves `finding` when scanning `imageName`: by the finding's id or any alias
 * (so a GHSA finding whose alias is a CVE is approved by the CVE), first in `generalwhitelist`, then
 * in every `images` key that names the image (see {@link imageNameMatches}). Returns undefined when
 * nothing approves it.
 */
export function whitelistMatch(whitelist: Whitelist, finding: Pick<Finding, 'id' | 'aliases'>, imageName: string): WhitelistMatch | undefined {
  const ids = findingIds(finding);
  const general = lookup(whitelist.general, ids);
  if (general) return { ...general, scope: 'generalwhitelist' };
  for (const [key, map] of Object.entries(whitelist.images)) {
    if (!imageNameMatches(key, imageName)) continue;
    const hit = lookup(map, ids);
    if (hit) return { ...hit, scope: `images.${key}` };
  }
  return undefined;
}
