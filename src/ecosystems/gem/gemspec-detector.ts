import { PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput } from '../../detectors/types.js';
import type { PackageRecord } from '../../domain/package.js';

/**
 * Installed gem specifications are Ruby source written by RubyGems (`s.name = "rack".freeze`).
 * There is no Ruby interpreter to evaluate them, and evaluating image content would be unsafe
 * anyway, so the few assignments that matter are read with patterns for the forms RubyGems and
 * hand-written specs use: double- and single-quoted strings, `%q{}`-style literals (any of the
 * `{}`, `()`, `[]`, `<>` delimiters), with an optional `.freeze`, and `Gem::Version.new(...)`.
 */

/** A Ruby string literal at the start of `src`, unescaped, or undefined. */
export function rubyStringLiteral(src: string): string | undefined {
  const s = src.trimStart();
  let m = /^"((?:[^"\\]|\\.)*)"/.exec(s);
  if (m !== null) return (m[1] ?? '').replace(/\\(.)/g, '$1');
  m = /^'((?:[^'\\]|\\.)*)'/.exec(s);
  if (m !== null) return (m[1] ?? '').replace(/\\([\\'])/g, '$1');
  m = /^%[qQ]?(?:\{([^}]*)\}|\(([^)]*)\)|\[([^\]]*)\]|<([^>]*)>)/.exec(s);
  if (m !== null) return m[1] ?? m[2] ?? m[3] ?? m[4] ?? '';
  return undefined;
}

/** The value of `<var>.<attr> = <literal>` (first match), or undefined. */
function assigned(lines: string[], attr: string): string | undefined {
  const re = new RegExp(`^\\s*\\w+\\.${attr}\\s*=\\s*(.*)$`);
  for (const line of lines) {
    const m = re.exec(line);
    if (m === null) continue;
    let expr = (m[1] ?? '').trim();
    const ctor = /^(?:::)?Gem::Version\.(?:new|create)\s*\(?\s*(.*)$/.exec(expr);
    if (ctor !== null) expr = ctor[1] ?? '';
    const value = rubyStringLiteral(expr);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Every string literal in `s.licenses = [...]` / `s.license = "..."`. */
function licenses(lines: string[]): string[] {
  for (const line of lines) {
    const m = /^\s*\w+\.licenses?\s*=\s*(.*)$/.exec(line);
    if (m === null) continue;
    const found: string[] = [];
    for (const lit of (m[1] ?? '').matchAll(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'/g)) found.push(lit[1] ?? lit[2] ?? '');
    if (found.length > 0) return found;
  }
  return [];
}

/** `name-1.2.3` or `name-1.2.3-x86_64-linux` from a spec's file name (versions start with a digit). */
function fromFileName(path: string): { name: string; version: string } | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/\.gemspec$/, '');
  const m = /^(.+?)-(\d[0-9A-Za-z.]*)(?:-[^-]+(?:-[^-]+)*)?$/.exec(base);
  if (m === null) return undefined;
  return { name: m[1] ?? '', version: m[2] ?? '' };
}

/**
 * Reads one installed gem specification. Name and version come from the `s.name`/`s.version`
 * assignments, else from the `# stub: <name> <version> <platform>` line RubyGems writes, else
 * from the file name; `attributes.identifiedBy` tells which. Returns a warning and no record
 * when none gives both. Throws (E_INPUT, "gemspec: ...") for binary garbage.
 */
export function parseGemspec(path: string, bytes: Buffer): DetectorOutput {
  const text = bytes.toString('utf8');
  const lines = text.split(/\r?\n/);
  // A line cut off by truncation could yield a wrong value ("2.2.2" of "2.2.22"): only whole lines count.
  if (!text.endsWith('\n')) lines.pop();
  // RubyGems separates the extension list of its `# stub:` lines with NUL bytes; NULs anywhere
  // else mean the file is not Ruby source.
  if (lines.some((l) => l.includes('\0') && !l.startsWith('# stub:'))) {
    throw new PortcullisError('E_INPUT', `gemspec: ${path} is binary, not a gem specification`, { path });
  }
  let name = assigned(lines, 'name');
  let version = assigned(lines, 'version');
  let identifiedBy = 'gemspec';
  if (name === undefined || version === undefined || name === '' || version === '') {
    const stub = lines.map((l) => /^# stub: (\S+) (\d\S*)/.exec(l)).find((m) => m !== null);
    const byName = fromFileName(path);
    if (stub) {
      name = stub[1] ?? '';
      version = stub[2] ?? '';
      identifiedBy = 'stub';
    } else if (byName) {
      ({ name, version } = byName);
      identifiedBy = 'filename';
    } else {
      return { warnings: [{ code: 'malformed-record', message: `gemspec: ${path} names no gem and version`, path }] };
    }
  }
  const attributes: Record<string, string> = { identifiedBy };
  const platform = assigned(lines, 'platform');
  if (platform !== undefined && platform !== 'ruby') attributes['platform'] = platform;
  if (/(^|\/)specifications\/default\//.test(path)) attributes['defaultGem'] = 'true';
  if (path.startsWith('usr/share/rubygems-integration/')) attributes['distroPackaged'] = 'debian';
  const rec: PackageRecord = { ecosystem: 'gem', name, version, path, attributes };
  const lic = licenses(lines);
  if (lic.length > 0) rec.license = lic.length === 1 ? (lic[0] ?? '') : lic.join(', ');
  return { packages: [rec] };
}

const GEMSPEC_PATH = /(^|\/)specifications\/(default\/)?[^/]+\.gemspec$/;

/**
 * Installed gems: the specifications RubyGems keeps for each installed gem
 * (`<gem home>/specifications/<name>-<version>.gemspec`, default gems under `specifications/default/`,
 * Debian's ruby-* packages under `usr/share/rubygems-integration/*\/specifications/`).
 */
export const gemspecDetector: Detector = {
  id: 'gemspec',
  version: 1,
  maxBytes: 4 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => GEMSPEC_PATH.test(file.path),
  parse: (file) => parseGemspec(file.path, file.bytes),
};
