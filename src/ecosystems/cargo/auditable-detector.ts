import { inflateSync } from 'node:zlib';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput } from '../../detectors/types.js';
import type { PackageRecord } from '../../domain/package.js';
import { findSection, isElf, parseElf, sectionData } from '../binary/elf.js';
import { BINARY_MAX_BYTES, wantsExecutable } from '../binary/executable.js';

type Warning = NonNullable<DetectorOutput['warnings']>[number];

/** Name of the section cargo-auditable writes into ELF binaries. */
export const DEP_SECTION = '.dep-v0';
const DEP_SECTION_BYTES = Buffer.from(DEP_SECTION, 'latin1');
/**
 * Cap on the inflated JSON. cargo-auditable's own reader defaults to 8 MiB; a dependency list of
 * thousands of crates is a few hundred KiB, so anything near this is a zlib bomb.
 */
export const MAX_AUDIT_JSON_BYTES = 8 * 1024 * 1024;

const AuditPackage = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  // "crates.io", "git", "local", "registry", another string, or (newer writers) an object whose
  // `kind` names the source and whose other fields add detail (a git source's revision).
  source: z.union([z.string(), z.object({ kind: z.string() })]).optional(),
  kind: z.string().optional(),
  dependencies: z.array(z.number()).optional(),
  root: z.boolean().optional(),
});
const AuditDocument = z.object({ packages: z.array(z.unknown()) });

/**
 * Reads the dependency list cargo-auditable embeds in Rust binaries: zlib-compressed JSON in the
 * `.dep-v0` ELF section, `{"packages":[{name, version, source, kind?, dependencies?, root?}]}`.
 * Returns {} for files that are not ELF or have no such section. Throws (E_INPUT,
 * "cargo-auditable: ...") when the section cannot be inflated or is not the expected JSON.
 * Build-time crates (`kind: build`) are kept and marked, the root crate too (`role: root`).
 */
export function readAuditableBinary(path: string, bytes: Buffer): DetectorOutput {
  if (!isElf(bytes) || bytes.indexOf(DEP_SECTION_BYTES) === -1) return {};
  const elf = parseElf(bytes);
  const section = findSection(elf, DEP_SECTION);
  if (section === undefined) return {};
  const data = sectionData(elf, section);
  if (data === undefined) throw new PortcullisError('E_INPUT', `cargo-auditable: ${DEP_SECTION} section of ${path} lies outside the file`, { path });
  let json: string;
  try {
    json = inflateSync(data, { maxOutputLength: MAX_AUDIT_JSON_BYTES }).toString('utf8');
  } catch (err) {
    throw new PortcullisError('E_INPUT', `cargo-auditable: cannot inflate ${DEP_SECTION} of ${path} (corrupt, or over ${MAX_AUDIT_JSON_BYTES} bytes)`, { path }, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new PortcullisError('E_INPUT', `cargo-auditable: ${DEP_SECTION} of ${path} is not JSON`, { path }, { cause: err });
  }
  const parsed = AuditDocument.safeParse(doc);
  if (!parsed.success) throw new PortcullisError('E_INPUT', `cargo-auditable: ${DEP_SECTION} of ${path} has no "packages" list`, { path });

  const packages: PackageRecord[] = [];
  const warnings: Warning[] = [];
  parsed.data.packages.forEach((raw, index) => {
    const p = AuditPackage.safeParse(raw);
    if (!p.success) {
      warnings.push({ code: 'malformed-record', message: `cargo-auditable: package #${index + 1} lacks a name or version`, path });
      return;
    }
    const { name, version, source, kind, root } = p.data;
    const attributes: Record<string, string> = {
      source: typeof source === 'string' ? source : (source?.kind ?? 'unknown'),
      // Early writers spelled the kinds `Build`/`Runtime`.
      kind: (kind ?? 'runtime').toLowerCase(),
    };
    if (root === true) attributes['role'] = 'root';
    packages.push({ ecosystem: 'cargo', name, version, path, attributes });
  });
  const out: DetectorOutput = { packages };
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

/** Rust binaries built with `cargo auditable`: any executable, checked for the `.dep-v0` section. */
export const cargoAuditableDetector: Detector = {
  id: 'cargo-auditable',
  version: 1,
  maxBytes: BINARY_MAX_BYTES,
  oversize: 'skip',
  wants: wantsExecutable,
  parse: (file) => readAuditableBinary(file.path, file.bytes),
};
