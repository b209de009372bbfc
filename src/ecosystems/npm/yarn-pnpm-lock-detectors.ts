import { parse as parseYaml } from 'yaml';
import { PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput, FileInfo } from '../../detectors/types.js';
import type { PackageRecord } from '../../domain/package.js';

type Warning = NonNullable<DetectorOutput['warnings']>[number];

interface Locked {
  name: string;
  version: string;
  dev?: boolean;
  alias?: string;
}

/** One record per name@version (peer-dependency variants and multiple ranges collapse). */
function records(found: Locked[], path: string): PackageRecord[] {
  const byId = new Map<string, Locked>();
  for (const f of found) {
    const id = `${f.name}@${f.version}`;
    const seen = byId.get(id);
    if (seen === undefined) byId.set(id, { ...f });
    else seen.dev = seen.dev === true && f.dev === true;
  }
  return [...byId.values()].map((f) => {
    const attributes: Record<string, string> = {};
    if (f.dev === true) attributes['dev'] = 'true';
    if (f.alias !== undefined) attributes['alias'] = f.alias;
    return { ecosystem: 'npm', name: f.name, version: f.version, path, attributes };
  });
}

/** Splits `name@rest` where name may be scoped (`@s/n@rest`). */
function splitAt(spec: string): [string, string] | undefined {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return [spec.slice(0, at), spec.slice(at + 1)];
}

function output(found: Locked[], warnings: Warning[], path: string): DetectorOutput {
  const out: DetectorOutput = {};
  const recs = records(found, path);
  if (recs.length > 0) out.packages = recs;
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/\\(.)/g, '$1') : t;
}

/** Classic (v1) yarn.lock: `"a@^1", a@~1.2:` headers followed by indented `version "1.2.3"` lines. */
function parseYarnClassic(path: string, text: string): DetectorOutput {
  const found: Locked[] = [];
  const warnings: Warning[] = [];
  let current: { name: string; alias?: string } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    if (!line.startsWith(' ')) {
      current = undefined;
      const first = unquote(line.replace(/:$/, '').split(/,\s*/)[0] ?? '');
      const parts = splitAt(first);
      if (!line.endsWith(':') || parts === undefined) {
        warnings.push({ code: 'malformed-record', message: `yarn-lock: cannot read entry header ${JSON.stringify(line.slice(0, 80))}`, path });
        continue;
      }
      const [name, range] = parts;
      // `alias@npm:real@^1.0.0` installs `real`.
      const alias = range.startsWith('npm:') ? splitAt(range.slice(4)) : undefined;
      current = alias !== undefined ? { name: alias[0], alias: name } : { name };
      continue;
    }
    const m = /^ {2}version:?\s+(.+)$/.exec(line);
    if (m !== null && current !== undefined) {
      found.push({ ...current, version: unquote(m[1] ?? '') });
      current = undefined;
    }
  }
  return output(found, warnings, path);
}

/** Berry (v2+) yarn.lock: YAML whose entries carry `resolution: "name@npm:1.2.3"`. */
function parseYarnBerry(path: string, doc: Record<string, unknown>): DetectorOutput {
  const found: Locked[] = [];
  const warnings: Warning[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === '__metadata') continue;
    if (typeof value !== 'object' || value === null) {
      warnings.push({ code: 'malformed-record', message: `yarn-lock: entry ${JSON.stringify(key.slice(0, 80))} is not a mapping`, path });
      continue;
    }
    const v = value as Record<string, unknown>;
    const resolution = typeof v['resolution'] === 'string' ? v['resolution'] : '';
    const version = typeof v['version'] === 'string' ? v['version'] : typeof v['version'] === 'number' ? String(v['version']) : '';
    const parts = splitAt(resolution);
    if (parts === undefined || version === '') {
      warnings.push({ code: 'malformed-record', message: `yarn-lock: entry ${JSON.stringify(key.slice(0, 80))} has no resolution or version`, path });
      continue;
    }
    const [name, ref] = parts;
    // Workspaces, links and portals are local code; patch: entries repeat a package listed on its own.
    if (/^(workspace|link|portal|patch|file):/.test(ref)) continue;
    const keyName = splitAt(unquote(key.split(/,\s*/)[0] ?? ''))?.[0];
    const rec: Locked = { name, version };
    if (keyName !== undefined && keyName !== name) rec.alias = keyName;
    found.push(rec);
  }
  return output(found, warnings, path);
}

/**
 * Reads a yarn.lock, classic (v1 text) or berry (v2+ YAML with `__metadata`). Workspace, link,
 * portal and patch entries are skipped; aliases are reported under the real package name.
 * Returns no packages for an empty lockfile. Throws (E_INPUT, "yarn-lock: ...") for a berry
 * lockfile that is not YAML.
 */
export function parseYarnLock(path: string, text: string): DetectorOutput {
  if (!/^__metadata:/m.test(text)) return parseYarnClassic(path, text);
  const doc = parseLockYaml('yarn-lock', path, text);
  return parseYarnBerry(path, doc);
}

/** Parses a YAML lockfile into its top-level mapping; E_INPUT ("<module>: ...") when it is not one. */
function parseLockYaml(module: string, path: string, text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new PortcullisError('E_INPUT', `${module}: ${path} is not valid YAML`, { path }, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null) throw new PortcullisError('E_INPUT', `${module}: ${path} is not a YAML mapping`, { path });
  return doc as Record<string, unknown>;
}

/**
 * A pnpm `packages` key to name and version, for every lockfile generation:
 * v5 `/name/1.0.0_peer@2`, v6 `/name@1.0.0(peer@2)`, v9 `name@1.0.0`; scoped names too.
 */
export function pnpmKey(key: string): { name: string; version: string } | undefined {
  const k = key.replace(/^\//, '').replace(/\(.*$/, '');
  const at = splitAt(k);
  if (at !== undefined && !at[0].includes('/', at[0].startsWith('@') ? at[0].indexOf('/') + 1 : 0)) {
    return { name: at[0], version: at[1] };
  }
  // v5: `/name/version` or `/@scope/name/version`, peers appended to the version after `_`.
  const segs = k.split('/');
  const nameLen = k.startsWith('@') ? 2 : 1;
  const name = segs.slice(0, nameLen).join('/');
  const version = (segs[nameLen] ?? '').replace(/_.*$/, '');
  if (name === '' || !/^\d/.test(version)) return undefined;
  return { name, version };
}

/**
 * Reads a pnpm-lock.yaml (lockfile v5, v6 and v9): one record per name@version in `packages`
 * (peer variants collapse), `dev: true` kept as an attribute. Tarball or git entries use their
 * `name`/`version` fields. Throws (E_INPUT, "pnpm-lock: ...") when the file is not YAML.
 */
export function parsePnpmLock(path: string, text: string): DetectorOutput {
  const doc = parseLockYaml('pnpm-lock', path, text);
  const packages = doc['packages'];
  if (packages === undefined || packages === null) return {};
  if (typeof packages !== 'object') throw new PortcullisError('E_INPUT', `pnpm-lock: ${path}: "packages" is not a mapping`, { path });
  const found: Locked[] = [];
  const warnings: Warning[] = [];
  for (const [key, value] of Object.entries(packages as Record<string, unknown>)) {
    const v = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
    const fromKey = pnpmKey(key);
    const name = typeof v['name'] === 'string' ? v['name'] : fromKey?.name;
    const version = typeof v['version'] === 'string' ? v['version'] : fromKey?.version;
    if (name === undefined || version === undefined || version === '') {
      warnings.push({ code: 'malformed-record', message: `pnpm-lock: cannot tell the package of ${JSON.stringify(key.slice(0, 80))}`, path });
      continue;
    }
    const rec: Locked = { name, version };
    if (v['dev'] === true) rec.dev = true;
    found.push(rec);
  }
  return output(found, warnings, path);
}

/**
 * Adds the project stub a yarn or pnpm lockfile stands for: these lockfiles name no project, so
 * its name, version and direct dependencies come from the package.json beside it (`npm-project-manifest`).
 */
function withProject(output: DetectorOutput, path: string): DetectorOutput {
  return { ...output, projects: [{ ecosystem: 'npm', source: 'lockfile', path }] };
}

function wantsLockfile(file: FileInfo, base: string): boolean {
  return (file.path === base || file.path.endsWith(`/${base}`)) && !`/${file.path}`.includes('/node_modules/');
}

/** yarn.lock files of applications (outside node_modules). */
export const yarnLockDetector: Detector = {
  id: 'npm-yarn-lock',
  version: 2,
  maxBytes: 64 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => wantsLockfile(file, 'yarn.lock'),
  parse: (file) => withProject(parseYarnLock(file.path, file.bytes.toString('utf8')), file.path),
};

/** pnpm-lock.yaml files of applications (outside node_modules). */
export const pnpmLockDetector: Detector = {
  id: 'npm-pnpm-lock',
  version: 2,
  maxBytes: 64 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => wantsLockfile(file, 'pnpm-lock.yaml'),
  parse: (file) => withProject(parsePnpmLock(file.path, file.bytes.toString('utf8')), file.path),
};
