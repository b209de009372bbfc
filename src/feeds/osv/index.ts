/**
 * The OSV feed: every OSV-format database we scan (Go, PyPI, crates.io, npm, Maven, RubyGems, NuGet,
 * AlmaLinux, Rocky Linux; Ubuntu, Debian and Alpine when imported or configured) through one parser.
 */
import type { AdvisoryFeed, FeedFile, FeedUpstream } from '../types.js';
import { head } from '../text.js';
import { DEFAULT_OSV_ECOSYSTEMS } from './ecosystems.js';
import { parseOsvFiles } from './parse.js';

export { mapOsvEcosystem, DEFAULT_OSV_ECOSYSTEMS, type OsvEcosystemMapping } from './ecosystems.js';
export { normalizeOsvRecord, parseOsvFiles, osvSource } from './parse.js';

/** Where OSV publishes one `all.zip` per ecosystem. */
export const OSV_BUCKET = 'https://osv-vulnerabilities.storage.googleapis.com';

/** The `all.zip` URL of one OSV ecosystem (`Rocky Linux` -> `.../Rocky%20Linux/all.zip`). */
export function osvEcosystemUrl(ecosystem: string, base = OSV_BUCKET): string {
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(ecosystem)}/all.zip`;
}

/** Files larger than this are recognized from their first 64 KiB only (OSV records are small). */
const MAX_SNIFF_PARSE = 16 * 1024 * 1024;

/**
 * True for an OSV record: JSON whose top level has a string `id` and a `modified` or `affected`
 * field, or YAML (`.yaml`/`.yml`) with top-level `id:` and `modified:`/`affected:` keys. Files of
 * the other formats (npm security-wg has a numeric `id` and `module_name`; ruby-advisory-db has
 * `gem:`; secdb has `packages`) are not claimed.
 */
export function isOsvFile(file: FeedFile): boolean {
  if (/\.ya?ml$/i.test(file.name)) {
    const text = head(file.bytes, 65536);
    return /^id:\s*\S/m.test(text) && /^(modified|affected):/m.test(text) && !/^gem:/m.test(text);
  }
  if (!/\.json$/i.test(file.name)) return false;
  const start = head(file.bytes, 65536);
  const trimmed = start.trimStart();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return false;
  // Cheap text test first: most foreign JSON (NVD, CSAF, VEX, KEV) never gets a full parse here.
  if (!/"id"\s*:\s*"/.test(start) || !/"(modified|affected)"\s*:/.test(start)) return false;
  if (file.bytes.length > MAX_SNIFF_PARSE) return !/"module_name"\s*:/.test(start);
  try {
    const value: unknown = JSON.parse(file.bytes.toString('utf8'));
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first !== 'object' || first === null) return false;
    const r = first as Record<string, unknown>;
    return typeof r.id === 'string' && (typeof r.modified === 'string' || Array.isArray(r.affected)) && !('module_name' in r);
  } catch {
    return false;
  }
}

/** The OSV advisory feed. Its default upstream is one `all.zip` per ecosystem of DEFAULT_OSV_ECOSYSTEMS. */
export const osvFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'osv',
  // 2: a module build of a record naming several module streams is stated once per stream.
  version: 2,
  description: 'OSV databases (Go, PyPI, crates.io, npm, Maven, RubyGems, NuGet, AlmaLinux, Rocky Linux; Ubuntu/Debian/Alpine OSV on import)',
  upstream: DEFAULT_OSV_ECOSYSTEMS.map((e): FeedUpstream => ({ url: osvEcosystemUrl(e), format: 'zip' })),
  recognizes: isOsvFile,
  parse: (files) => parseOsvFiles(files, 'osv'),
};
