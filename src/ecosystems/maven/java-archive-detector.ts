import { isPortcullisError, PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput } from '../../detectors/types.js';
import type { PackageRecord } from '../../domain/package.js';
import { listZipEntries, readZipEntry, type ZipEntry } from './zip.js';

type Warning = NonNullable<DetectorOutput['warnings']>[number];

/** File extensions of Java archives (jar, web/enterprise archives, Jenkins plugins, JBoss par/sar). */
const ARCHIVE_EXT = /\.(jar|war|ear|par|sar|jpi|hpi)$/i;

/** Limits on what one outer archive may cost, nested archives included. */
export interface ArchiveLimits {
  /** Nesting levels followed below the outer archive (a war's WEB-INF/lib jars are level 1). */
  maxDepth: number;
  /** Bytes of nested archives opened plus metadata inflated, summed over the whole scan. */
  maxTotalBytes: number;
  /** Archives opened, the outer one included (stops overlapping-entry zip bombs). */
  maxArchives: number;
  /** Largest pom.properties or MANIFEST.MF read. */
  maxMetadataBytes: number;
}

/** Defaults: deep enough for ear > war > jar > shaded jar, small enough to bound memory and time. */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxDepth: 4,
  maxTotalBytes: 512 * 1024 * 1024,
  maxArchives: 10_000,
  maxMetadataBytes: 1024 * 1024,
};

/** Parses a Java .properties text (the subset pom.properties uses: `k=v`, `k: v`, comments, escapes). */
export function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // A line ending in an odd number of backslashes continues on the next one.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + (lines[++i] ?? '').trimStart();
    }
    const m = /^((?:[^\\:=\s]|\\.)*)\s*[:=\s]\s*(.*)$/.exec(line);
    const key = unescapeProperty(m ? (m[1] ?? '') : line);
    const value = unescapeProperty(m ? (m[2] ?? '') : '');
    if (key !== '' && !props.has(key)) props.set(key, value);
  }
  return props;
}

function unescapeProperty(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

/** Parses a JAR manifest's main section (`Key: value`, 72-byte lines continued with one space). */
export function parseManifest(text: string): Map<string, string> {
  const attrs = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') break; // end of the main section; per-entry sections follow
    if (line.startsWith(' ') && last !== undefined) {
      attrs.set(last, (attrs.get(last) ?? '') + line.slice(1));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim();
    attrs.set(last, line.slice(colon + 1).trim());
  }
  return attrs;
}

/** `name-1.2.3.jar` -> name and version (the version starts at the first `-<digit>`). */
export function archiveNameVersion(fileName: string): { artifactId: string; version?: string } {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1).replace(ARCHIVE_EXT, '');
  const m = /^(.+?)-(\d.*)$/.exec(base);
  if (m === null) return { artifactId: base };
  return { artifactId: m[1] ?? base, version: m[2] ?? '' };
}

interface ScanState {
  imagePath: string;
  limits: ArchiveLimits;
  budget: number;
  archives: number;
  records: PackageRecord[];
  warnings: Warning[];
  limitHit: boolean;
  depthWarned: boolean;
}

function record(state: ScanState, g: string, a: string, version: string, identifiedBy: string, location: string, extra: Record<string, string> = {}): void {
  const attributes: Record<string, string> = { identifiedBy, artifactId: a, ...extra };
  if (g !== '') attributes['groupId'] = g;
  if (location !== state.imagePath) attributes['location'] = location;
  state.records.push({ ecosystem: 'maven', name: g === '' ? a : `${g}:${a}`, version, path: state.imagePath, attributes });
}

function limitWarning(state: ScanState, message: string): void {
  if (state.limitHit) return; // one warning per outer archive is enough
  state.limitHit = true;
  state.warnings.push({ code: 'archive-limit', message: `java-archive: ${message}; the rest of ${state.imagePath} was not examined`, path: state.imagePath });
}

/** Reads a small metadata entry within the per-entry and total budgets, or undefined (with a warning). */
function readMetadata(state: ScanState, bytes: Buffer, entry: ZipEntry, location: string): string | undefined {
  if (state.budget <= 0) {
    limitWarning(state, `the ${state.limits.maxTotalBytes}-byte budget is spent`);
    return undefined;
  }
  try {
    const data = readZipEntry(bytes, entry, Math.min(state.limits.maxMetadataBytes, state.budget));
    state.budget -= data.length;
    return data.toString('utf8');
  } catch (err) {
    if (!isPortcullisError(err)) throw err;
    state.warnings.push({ code: 'malformed-record', message: `java-archive: ${location}!/${entry.name}: ${err.message}`, path: state.imagePath });
    return undefined;
  }
}

const POM_PROPERTIES = /(^|\/)META-INF\/maven\/([^/]+)\/([^/]+)\/pom\.properties$/;

function scanArchive(state: ScanState, bytes: Buffer, location: string, depth: number): void {
  state.archives += 1;
  const entries = listZipEntries(bytes);
  const before = state.records.length;

  // 1. Every pom.properties: the archive itself, and the artifacts shaded into it.
  for (const entry of entries) {
    const m = POM_PROPERTIES.exec(entry.name);
    if (m === null) continue;
    const text = readMetadata(state, bytes, entry, location);
    if (state.limitHit) return;
    if (text === undefined) continue;
    const props = parseProperties(text);
    const g = props.get('groupId') ?? m[2] ?? '';
    const a = props.get('artifactId') ?? m[3] ?? '';
    const v = props.get('version') ?? '';
    if (v === '' || a === '') {
      state.warnings.push({ code: 'malformed-record', message: `java-archive: ${location}!/${entry.name} has no artifactId or version`, path: state.imagePath });
      continue;
    }
    record(state, g, a, v, 'pom.properties', location, { pomProperties: entry.name });
  }

  // 2. Without Maven metadata: the manifest, then 3. the file name.
  if (state.records.length === before) identifyWithoutPom(state, bytes, entries, location);
  if (state.limitHit) return;

  // Nested archives (war WEB-INF/lib, Spring Boot BOOT-INF/lib, ear modules).
  for (const entry of entries) {
    if (!ARCHIVE_EXT.test(entry.name) || entry.name.endsWith('/')) continue;
    if (depth >= state.limits.maxDepth) {
      if (!state.depthWarned) {
        state.depthWarned = true;
        state.warnings.push({ code: 'archive-limit', message: `java-archive: archives nested deeper than ${state.limits.maxDepth} levels were not opened (first: ${location}!/${entry.name})`, path: state.imagePath });
      }
      continue;
    }
    if (state.archives >= state.limits.maxArchives) {
      limitWarning(state, `more than ${state.limits.maxArchives} nested archives`);
      return;
    }
    const nestedLocation = `${location}!/${entry.name}`;
    let nested: Buffer;
    try {
      nested = readZipEntry(bytes, entry, state.budget);
    } catch (err) {
      // Too large for what is left of the budget ends the scan; a size lie is just a bad entry.
      if (isPortcullisError(err, 'E_TOO_LARGE') && entry.uncompressedSize >= state.budget) {
        limitWarning(state, `nested archives exceed the ${state.limits.maxTotalBytes}-byte budget at ${nestedLocation}`);
        return;
      }
      if (!isPortcullisError(err)) throw err;
      state.warnings.push({ code: 'malformed-record', message: `java-archive: ${nestedLocation}: ${err.message}`, path: state.imagePath });
      continue;
    }
    // Stored entries are views, not copies, but still count: a budget of bytes examined also
    // bounds the time spent on archives whose entries overlap.
    state.budget -= nested.length;
    try {
      scanArchive(state, nested, nestedLocation, depth + 1);
    } catch (err) {
      if (!isPortcullisError(err)) throw err;
      state.warnings.push({ code: 'malformed-record', message: `java-archive: ${nestedLocation}: ${err.message}`, path: state.imagePath });
    }
    if (state.limitHit) return;
  }
}

function identifyWithoutPom(state: ScanState, bytes: Buffer, entries: ZipEntry[], location: string): void {
  const fromName = archiveNameVersion(location);
  const manifestEntry = entries.find((e) => e.name === 'META-INF/MANIFEST.MF');
  const manifestText = manifestEntry && readMetadata(state, bytes, manifestEntry, location);
  if (manifestText !== undefined) {
    const mf = parseManifest(manifestText);
    const version = mf.get('Implementation-Version') ?? mf.get('Bundle-Version') ?? mf.get('Plugin-Version') ?? mf.get('Specification-Version');
    if (version !== undefined && version !== '') {
      const g = mf.get('Implementation-Vendor-Id') ?? mf.get('Group-Id') ?? '';
      const title = mf.get('Implementation-Title');
      const symbolic = mf.get('Bundle-SymbolicName')?.split(';')[0]?.trim();
      // The file name is the most reliable artifactId; manifest titles are often prose.
      const a = fromName.version !== undefined ? fromName.artifactId : (mf.get('Short-Name') ?? (title !== undefined && !/\s/.test(title) ? title : undefined) ?? symbolic ?? fromName.artifactId);
      record(state, g, a, version, 'manifest', location);
      return;
    }
  }
  if (fromName.version !== undefined && fromName.version !== '') {
    record(state, '', fromName.artifactId, fromName.version, 'filename', location);
    return;
  }
  state.warnings.push({ code: 'unidentified-archive', message: `java-archive: ${location} has no pom.properties, manifest version or versioned file name`, path: state.imagePath });
}

/**
 * Identifies the Maven artifacts in a Java archive and in the archives nested in it. Each
 * `META-INF/maven/<g>/<a>/pom.properties` gives one record (the archive and anything shaded into
 * it); an archive with none is identified by its MANIFEST.MF (Implementation-/Bundle- fields),
 * else by its file name (`name-1.2.3.jar`). `name` is `groupId:artifactId` (just the artifactId
 * when no groupId is known); `attributes.identifiedBy` says which source was used and
 * `attributes.location` where a nested archive sits (`app.war!/WEB-INF/lib/x.jar`). One record per
 * distinct name@version. Limits that are reached give an `archive-limit` warning, never more work.
 * Throws (E_INPUT, "zip: ...") when the outer file is not a readable zip.
 */
export function scanJavaArchive(imagePath: string, bytes: Buffer, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): DetectorOutput {
  const state: ScanState = { imagePath, limits, budget: limits.maxTotalBytes, archives: 0, records: [], warnings: [], limitHit: false, depthWarned: false };
  try {
    scanArchive(state, bytes, imagePath, 0);
  } catch (err) {
    if (isPortcullisError(err)) throw new PortcullisError(err.code, `java-archive: ${imagePath}: ${err.message}`, { path: imagePath }, { cause: err });
    throw err;
  }
  const seen = new Set<string>();
  const packages = state.records.filter((r) => {
    const id = `${r.name}@${r.version}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const out: DetectorOutput = {};
  if (packages.length > 0) out.packages = packages;
  if (state.warnings.length > 0) out.warnings = state.warnings;
  return out;
}

/**
 * Java archives anywhere in the image (jar, war, ear, par, sar, Jenkins jpi/hpi), read in memory.
 * Archives over 256 MiB are skipped with a warning.
 */
export const javaArchiveDetector: Detector = {
  id: 'java-archive',
  version: 1,
  maxBytes: 256 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => ARCHIVE_EXT.test(file.path),
  parse: (file) => scanJavaArchive(file.path, file.bytes),
};
