import { createRequire } from 'node:module';
import type * as SmolToml from 'smol-toml';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput } from '../../detectors/types.js';
import type { PackageRecord } from '../../domain/package.js';

// Few images hold a Cargo.lock: the TOML parser is loaded (synchronously) on the first one, not at
// start-up with the detector registry.
let toml: typeof SmolToml | undefined;
const loadToml = (): typeof SmolToml => (toml ??= createRequire(import.meta.url)('smol-toml') as typeof SmolToml);

type Warning = NonNullable<DetectorOutput['warnings']>[number];

/**
 * Classifies a Cargo.lock `source` URL the way cargo-auditable names sources, so both cargo
 * detectors agree: `crates.io` (the default registry, git or sparse index), `registry` (another
 * registry), `git`, or `local` (no source: a workspace member or path dependency).
 */
export function cargoSourceKind(source: string | undefined): 'crates.io' | 'registry' | 'git' | 'local' | 'other' {
  if (source === undefined || source === '') return 'local';
  if (source.startsWith('git+')) return 'git';
  if (source.startsWith('registry+') || source.startsWith('sparse+')) {
    return /crates\.io-index|index\.crates\.io/.test(source) ? 'crates.io' : 'registry';
  }
  return 'other';
}

const LockPackage = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  source: z.string().optional(),
  checksum: z.string().optional(),
});

/**
 * Reads the `[[package]]` tables of a Cargo.lock (all lockfile versions share them). Returns no
 * packages for a lockfile without any. Throws (E_INPUT, "cargo-lock: ...") when the file is not
 * TOML; a package table without name or version is skipped with a warning.
 */
export function parseCargoLock(path: string, text: string): DetectorOutput {
  let doc: Record<string, unknown>;
  try {
    doc = loadToml().parse(text, { maxDepth: 64 });
  } catch (err) {
    throw new PortcullisError('E_INPUT', `cargo-lock: ${path} is not valid TOML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { path }, { cause: err });
  }
  const tables = doc['package'];
  if (tables === undefined) return {};
  if (!Array.isArray(tables)) throw new PortcullisError('E_INPUT', `cargo-lock: ${path}: "package" is not an array of tables`, { path });
  const packages: PackageRecord[] = [];
  const warnings: Warning[] = [];
  tables.forEach((table: unknown, index) => {
    const parsed = LockPackage.safeParse(table);
    if (!parsed.success) {
      warnings.push({ code: 'malformed-record', message: `cargo-lock: package #${index + 1} lacks a name or version`, path });
      return;
    }
    const p = parsed.data;
    const attributes: Record<string, string> = { source: cargoSourceKind(p.source) };
    if (p.source !== undefined) attributes['sourceUrl'] = p.source;
    if (p.checksum !== undefined) attributes['checksum'] = p.checksum;
    packages.push({ ecosystem: 'cargo', name: p.name, version: p.version, path, attributes });
  });
  const out: DetectorOutput = { packages };
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

/**
 * Cargo.lock files anywhere in the image (applications shipped with their lockfile). Every locked
 * package is reported, workspace members and path dependencies too (attribute `source: local`),
 * since the lockfile cannot tell what ended up in a binary.
 */
export const cargoLockDetector: Detector = {
  id: 'cargo-lock',
  version: 1,
  maxBytes: 32 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => file.path === 'Cargo.lock' || file.path.endsWith('/Cargo.lock'),
  parse: (file) => parseCargoLock(file.path, file.bytes.toString('utf8')),
};
