/**
 * Parses the module-info text embedded in Go binaries (what `go version -m` prints), a line format
 * of tab-separated fields:
 *
 *   path   <main package path>
 *   mod    <module path> <version> [<sum>]
 *   dep    <module path> <version> [<sum>]
 *   =>     <replacement path> <version> [<sum>]     (replaces the module on the line before)
 *   build  <key>=<value>                             (value Go-quoted when it holds spaces)
 *
 * Unlike Go's strict parser, a bad line is skipped with a problem noted, so one odd line does not
 * hide every other module of the binary.
 */

/** One module as the binary records it. */
export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: GoModule;
}

/** The parsed module info. `main` is absent for binaries built outside module mode. */
export interface GoModInfo {
  /** The main package's import path (`path` line). */
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  /** Build settings in order (`-ldflags`, `GOOS`, `vcs.revision`, ...), values unquoted. */
  settings: [string, string][];
  /** Lines that could not be understood, with the reason. */
  problems: string[];
}

/** Parses module-info text. Returns an empty result (no main, no deps) for ''. Never throws. */
export function parseModInfo(text: string): GoModInfo {
  const info: GoModInfo = { deps: [], settings: [], problems: [] };
  let last: GoModule | undefined;
  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const tab = line.indexOf('\t');
    const verb = tab === -1 ? line : line.slice(0, tab);
    const rest = tab === -1 ? '' : line.slice(tab + 1);
    const where = `line ${index + 1}`;
    switch (verb) {
      case 'go':
        break;
      case 'path':
        info.path = rest;
        break;
      case 'mod':
      case 'dep': {
        const mod = parseModuleFields(rest);
        if (mod === undefined) {
          info.problems.push(`${where}: ${verb} line without a module path`);
          last = undefined;
          break;
        }
        if (verb === 'mod') info.main = mod;
        else info.deps.push(mod);
        last = mod;
        break;
      }
      case '=>': {
        const mod = parseModuleFields(rest);
        if (mod === undefined || last === undefined || last.replace !== undefined) {
          info.problems.push(`${where}: replacement without a module to replace`);
          break;
        }
        last.replace = mod;
        break;
      }
      case 'build': {
        const setting = parseBuildSetting(rest);
        if (setting === undefined) info.problems.push(`${where}: build line without key=value`);
        else info.settings.push(setting);
        break;
      }
      default:
        info.problems.push(`${where}: unknown line kind ${JSON.stringify(verb.slice(0, 20))}`);
    }
  }
  return info;
}

function parseModuleFields(rest: string): GoModule | undefined {
  const [path = '', version = '', sum = ''] = rest.split('\t');
  if (path === '') return undefined;
  const mod: GoModule = { path, version };
  if (sum !== '') mod.sum = sum;
  return mod;
}

function parseBuildSetting(kv: string): [string, string] | undefined {
  if (kv === '' || kv[0] === '=') return undefined;
  let key: string;
  let rawValue: string;
  if (kv[0] === '"' || kv[0] === '`') {
    const quoted = quotedPrefix(kv);
    if (quoted === undefined || kv[quoted.length] !== '=') return undefined;
    key = unquoteGo(quoted) ?? quoted;
    rawValue = kv.slice(quoted.length + 1);
  } else {
    const eq = kv.indexOf('=');
    if (eq === -1) return undefined;
    key = kv.slice(0, eq);
    rawValue = kv.slice(eq + 1);
  }
  const value = rawValue.startsWith('"') || rawValue.startsWith('`') ? (unquoteGo(rawValue) ?? rawValue) : rawValue;
  return [key, value];
}

/** The leading quoted string of `s` (with its quotes), or undefined when it is not closed. */
function quotedPrefix(s: string): string | undefined {
  const q = s[0];
  for (let i = 1; i < s.length; i++) {
    if (q === '"' && s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === q) return s.slice(0, i + 1);
  }
  return undefined;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/**
 * Undoes Go's strconv.Quote for a whole string ("..." with Go escapes, or a raw `...`).
 * Returns undefined when `s` is not exactly one well-formed quoted string.
 */
export function unquoteGo(s: string): string | undefined {
  if (s.length < 2) return undefined;
  if (s[0] === '`') return s.endsWith('`') && s.indexOf('`', 1) === s.length - 1 ? s.slice(1, -1) : undefined;
  if (s[0] !== '"' || !s.endsWith('"')) return undefined;
  const body = s.slice(1, -1);
  const bytes: number[] = [];
  const pushText = (t: string): void => {
    for (const b of Buffer.from(t, 'utf8')) bytes.push(b);
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c === '"') return undefined;
    if (c !== '\\') {
      const cp = body.codePointAt(i) ?? 0;
      const ch = String.fromCodePoint(cp);
      pushText(ch);
      i += ch.length - 1;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      pushText(simple);
      i += 1;
      continue;
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const hex = body.slice(i + 2, i + 2 + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) return undefined;
      const n = parseInt(hex, 16);
      if (e === 'x') bytes.push(n);
      else if (n > 0x10ffff) return undefined;
      else pushText(String.fromCodePoint(n));
      i += 1 + hexLen;
      continue;
    }
    const oct = body.slice(i + 1, i + 4);
    if (/^[0-7]{3}$/.test(oct)) {
      const n = parseInt(oct, 8);
      if (n > 255) return undefined;
      bytes.push(n);
      i += 3;
      continue;
    }
    return undefined;
  }
  return Buffer.from(bytes).toString('utf8');
}
