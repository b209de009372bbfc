/**
 * The configuration of the registry service (`portcullis serve` / `portcullis worker`): one YAML
 * file plus environment overrides, validated once at start so a bad value stops the service with
 * the key and the reason instead of failing later in a worker.
 *
 * Key names are part of the interface (README "Service configuration"): the `security:` section is
 * Portus's own (`clair.server`, `clair.health_port`, `clair.timeout`, `zypper.server`,
 * `dummy.server`), so a Portus `config.yml` section can be pasted in unchanged.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { distance } from 'fastest-levenshtein';
import * as z from 'zod';
import { PortcullisError } from '../domain/errors.js';
import { parsePolicyYaml, readPolicyFile } from '../policy/input.js';
import { parseDurationText } from '../util/duration.js';

/** `HOST:PORT` (IPv6 hosts in brackets), port 0-65535 (0 = any free port). */
const listenSchema = z.string().refine((s) => parseListen(s) !== undefined, { message: 'expected HOST:PORT, e.g. 127.0.0.1:8080' });

/** "" (never / none) or a duration such as 30s, 10m, 6h, 7d. */
const intervalSchema = z.string().refine((s) => s === '' || parseDurationText(s) !== undefined, { message: 'expected a duration such as 30s, 10m, 6h or 7d, or "" for never' });

/** "" (none) or an http(s) URL. */
const optionalHttpUrl = z.string().refine((s) => s === '' || isHttpUrl(s), { message: 'expected an http:// or https:// URL, or ""' });

const portSchema = z.number().int().min(1).max(65535);

const configSchema = z.strictObject({
  http: z.strictObject({
    listen: listenSchema,
    /** Mark the session cookie `Secure` even on plain-HTTP requests (a TLS proxy in front that does not say so). */
    secure_cookies: z.boolean(),
  }),
  /** Sign-in of the web UI (local users, sessions) and who may read without credentials. */
  auth: z.strictObject({
    /** Read-scope routes answer without credentials (a read-only public instance); everything else still needs them. */
    anonymous_read: z.boolean(),
    session: z.strictObject({
      /** A session unused this long is over. */
      idle: z.string().refine((s) => parseDurationText(s) !== undefined, { message: 'expected a duration such as 30m or 12h' }),
      /** A session is over this long after sign-in, used or not. */
      absolute: z.string().refine((s) => parseDurationText(s) !== undefined, { message: 'expected a duration such as 12h or 7d' }),
    }),
  }),
  database: z.strictObject({
    /** "" = SQLite file in the data directory; a file path (SQLite); or a postgres:// URL. */
    url: z.string().refine((s) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^postgres(ql)?:\/\//i.test(s), {
      message: 'expected "", a SQLite file path, or a postgres:// URL',
    }),
  }),
  registry: z.strictObject({
    /** The registry the service watches ("" = none: on-demand scans only). */
    url: optionalHttpUrl,
    username: z.string(),
    password: z.string(),
    /** The registry's notification endpoint sends `Authorization: Bearer <this>`. */
    notification_token: z.string(),
    catalog_sync: z.strictObject({
      interval: intervalSchema,
      /** Portus's strategies: initial (only into an empty store), on-start, update (no deletes), update-delete. */
      strategy: z.enum(['initial', 'on-start', 'update', 'update-delete']),
    }),
  }),
  security: z.strictObject({
    embedded: z.strictObject({ enabled: z.boolean() }),
    clair: z.strictObject({ server: optionalHttpUrl, health_port: portSchema, timeout: z.number().int().min(1) }),
    /**
     * Clair v4 (Quay's scanner): "" server = off; matcher "" = combined mode (the matcher on
     * `server`); psk = Clair's `auth.psk` (base64 key, issuer), "" key = no auth; timeout in s.
     */
    clair_v4: z.strictObject({
      server: optionalHttpUrl,
      matcher: optionalHttpUrl,
      psk: z.strictObject({ key: z.string().refine((s) => s === '' || isBase64(s), { message: 'expected the base64 key of Clair\'s auth.psk.key, or ""' }), issuer: z.string() }),
      timeout: z.number().int().min(1),
    }),
    zypper: z.strictObject({ server: optionalHttpUrl }),
    /** "" = off; `builtin`, `pending`, or `fixture:<file>` (see src/backends/dummy). */
    dummy: z.strictObject({
      server: z.string().refine((s) => s === '' || s === 'builtin' || s === 'pending' || /^fixture:.+/.test(s), { message: 'expected "", "builtin", "pending" or "fixture:/path/to/fixture.json"' }),
    }),
    /** Harbor pluggable-scanner adapters used as backends (src/backends/harbor), each stored as `harbor-<name>`. */
    harbor: z.array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'expected a short lower-case name (a-z, 0-9, -)' }),
        url: z.string().refine(isHttpUrl, { message: 'expected an http:// or https:// URL' }),
        /** The Authorization header value the adapter was set up with (`Bearer xyz`, `Basic ...`); "" = none. */
        auth: z.string().refine((s) => s === '' || /^(Bearer|Basic) \S+$/.test(s), { message: 'expected "Bearer <token>", "Basic <base64>" or ""' }).default(''),
        /** Seconds one scan may take, polling included. */
        timeout: z.number().int().min(1).default(900),
      }),
    ),
  }),
  /** Portcullis as a Harbor pluggable scanner (the adapter API under `base`). */
  harbor_scanner: z.strictObject({
    enabled: z.boolean(),
    /** Path prefix of the adapter API: Harbor registers `http://host:port<base>`. */
    base: z.string().regex(/^(\/[A-Za-z0-9._~-]+)+$/, { message: 'expected a path such as /harbor' }),
    /** Registries a scan request may name besides `registry.url` (base URLs, `https://harbor.example.com`). */
    allowed_registries: z.array(z.string().refine(isHttpUrl, { message: 'expected an http:// or https:// URL' })),
  }),
  feeds: z.strictObject({ update_interval: intervalSchema }),
  workers: z.strictObject({
    /** Scans at once per process. */
    concurrency: z.number().int().min(1).max(64),
    /** How long a claimed job stays a worker's without a heartbeat; a killed worker's jobs are claimed again after it. */
    lease: z.string().refine((s) => parseDurationText(s) !== undefined, { message: 'expected a duration such as 30s or 2m' }),
  }),
  webhooks: z.array(
    z.strictObject({
      url: z.string().refine(isHttpUrl, { message: 'expected an http:// or https:// URL' }),
      secret: z.string().min(1, { message: 'a webhook needs a secret to sign its bodies with' }),
    }),
  ),
});

/** The validated service configuration, every key present. */
export type ServiceConfig = z.infer<typeof configSchema>;

/** What a configuration with no file and no environment gives: the embedded defaults. */
export const DEFAULT_SERVICE_CONFIG: ServiceConfig = {
  http: { listen: '127.0.0.1:8080', secure_cookies: false },
  auth: { anonymous_read: false, session: { idle: '12h', absolute: '7d' } },
  database: { url: '' },
  registry: { url: '', username: '', password: '', notification_token: '', catalog_sync: { interval: '10m', strategy: 'initial' } },
  security: {
    embedded: { enabled: true },
    clair: { server: '', health_port: 6061, timeout: 900 },
    clair_v4: { server: '', matcher: '', psk: { key: '', issuer: '' }, timeout: 900 },
    zypper: { server: '' },
    dummy: { server: '' },
    harbor: [],
  },
  harbor_scanner: { enabled: true, base: '/harbor', allowed_registries: [] },
  feeds: { update_interval: '' },
  workers: { concurrency: 2, lease: '60s' },
  webhooks: [],
};

/** The prefix of every environment override (`security.clair.server` -> `PORTCULLIS_SECURITY_CLAIR_SERVER`). */
export const ENV_PREFIX = 'PORTCULLIS';

/** Where a configuration value came from, for error messages. */
type Origin = { kind: 'file'; file: string } | { kind: 'env'; name: string };

/**
 * Loads the service configuration: the defaults, overlaid by `file` (YAML; optional), overlaid by
 * environment variables. Throws E_CONFIG naming the key, where it came from, and the reason:
 * an unknown key, a value of the wrong type, a malformed URL, duration or address.
 *
 * Environment overrides follow Portus's cconfig: `PORTCULLIS_` + the key path upper-cased and
 * joined by `_`; only keys the configuration has are read (other `PORTCULLIS_*` variables belong
 * to the CLI). Unlike cconfig, a value is typed by the key it sets, not by its look: "true"/"false"
 * (any case) for a boolean key, an integer for a numeric key, and the text itself for a string key,
 * so a password of digits stays a string.
 */
export function loadServiceConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): ServiceConfig {
  const env = options.env ?? process.env;
  let merged: unknown = structuredClone(DEFAULT_SERVICE_CONFIG);
  const origins = new Map<string, Origin>();
  if (options.file !== undefined) {
    const doc = readConfigFile(options.file);
    merged = overlay(merged, doc, [], options.file, origins);
  }
  for (const [path, value] of envOverrides(env)) {
    setPath(merged as Record<string, unknown>, path, value);
    origins.set(path.join('.'), { kind: 'env', name: envName(path) });
  }
  const parsed = configSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  throw configError(parsed.error, origins, options.file);
}

/** The environment variable that overrides the key at `path`. */
export function envName(path: readonly string[]): string {
  return [ENV_PREFIX, ...path].join('_').toUpperCase();
}

/** `HOST:PORT` -> its parts; undefined when malformed. */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * The service's data directory (app database, per-service state): `$PORTCULLIS_DATA_DIR`, else
 * `$XDG_DATA_HOME/portcullis` (when absolute, as the XDG spec says), else `~/.local/share/portcullis`.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.PORTCULLIS_DATA_DIR;
  if (explicit !== undefined && explicit.trim() !== '') return explicit;
  const xdg = env.XDG_DATA_HOME;
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.local', 'share');
  return join(base, 'portcullis');
}

/** Which database `database.url` names: the SQLite file (default: in the data directory) or a PostgreSQL URL. */
export function resolveDatabase(config: ServiceConfig, env: NodeJS.ProcessEnv = process.env): { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string } {
  const url = config.database.url;
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  if (url === '') return { kind: 'sqlite', file: join(defaultDataDir(env), 'portcullis.sqlite') };
  return { kind: 'sqlite', file: url };
}

/** The configured intervals in milliseconds (undefined = never). */
export function intervalMs(text: string): number | undefined {
  return text === '' ? undefined : parseDurationText(text);
}

/** Standard base64 (Clair decodes `auth.psk.key` as such), padding optional. */
function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 !== 1;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function readConfigFile(file: string): unknown {
  let doc: unknown;
  try {
    doc = parsePolicyYaml('config', file, readPolicyFile('config', file));
  } catch (err) {
    if (err instanceof PortcullisError) throw new PortcullisError('E_CONFIG', err.message, { file, ...err.details }, { cause: err });
    throw err;
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new PortcullisError('E_CONFIG', `config: ${file}: expected a mapping of sections (http, database, registry, security, feeds, webhooks)`, { file });
  return doc;
}

/**
 * Overlays the file's values on the defaults key by key, so a file that sets one key keeps every
 * other default. Mappings merge; scalars and lists replace. Unknown keys are kept so the schema
 * reports them with their full path.
 */
function overlay(base: unknown, top: unknown, path: string[], file: string, origins: Map<string, Origin>): unknown {
  if (isPlainObject(base) && isPlainObject(top)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(top)) out[k] = overlay(base[k], v, [...path, k], file, origins);
    return out;
  }
  origins.set(path.join('.'), { kind: 'file', file });
  return top;
}

/** Every environment override present, as [key path, typed value]. */
function envOverrides(env: NodeJS.ProcessEnv): [string[], unknown][] {
  const out: [string[], unknown][] = [];
  for (const [path, sample] of leafPaths(DEFAULT_SERVICE_CONFIG, [])) {
    const name = envName(path);
    const raw = env[name];
    if (raw === undefined) continue;
    out.push([path, typeEnvValue(raw, sample)]);
  }
  return out;
}

/** The scalar keys of the defaults (lists such as `webhooks` are set in the file only). */
function leafPaths(value: unknown, path: string[]): [string[], unknown][] {
  if (!isPlainObject(value)) return Array.isArray(value) ? [] : [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
}

/** Types an environment value by the key it sets; a value that does not fit stays text, so the schema names the key. */
function typeEnvValue(raw: string, sample: unknown): unknown {
  if (typeof sample === 'boolean') {
    const lower = raw.trim().toLowerCase();
    return lower === 'true' ? true : lower === 'false' ? false : raw;
  }
  if (typeof sample === 'number') return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  return raw;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isPlainObject(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first schema problem as `config: <key> (<where>): <reason>`. */
function configError(error: z.ZodError, origins: Map<string, Origin>, file: string | undefined): PortcullisError {
  const issue = error.issues[0];
  if (issue === undefined) return new PortcullisError('E_CONFIG', 'config: invalid configuration');
  const base = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
  if (issue.code === 'unrecognized_keys') {
    const key = [base, issue.keys[0] ?? ''].filter((s) => s !== '').join('.');
    const where = file !== undefined ? ` in ${file}` : '';
    return new PortcullisError('E_CONFIG', `config: unknown key "${key}"${where}${suggestion(key)}`, { key, file });
  }
  const origin = findOrigin(origins, issue.path.filter((p): p is string => typeof p === 'string'));
  const where = origin === undefined ? '' : origin.kind === 'env' ? ` (from ${origin.name})` : ` (in ${origin.file})`;
  return new PortcullisError('E_CONFIG', `config: ${base}${where}: ${issue.message}`, { key: base, reason: issue.message });
}

function findOrigin(origins: Map<string, Origin>, path: string[]): Origin | undefined {
  for (let n = path.length; n > 0; n--) {
    const o = origins.get(path.slice(0, n).join('.'));
    if (o !== undefined) return o;
  }
  return undefined;
}

/** ", did you mean ..." for a key one edit or a separator away from a real one. */
function suggestion(key: string): string {
  const known = leafPaths(DEFAULT_SERVICE_CONFIG, []).map(([p]) => p.join('.')).concat(['webhooks', 'security.harbor', 'harbor_scanner.allowed_registries']);
  const norm = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
  const hit = known.find((k) => norm(k) === norm(key)) ?? known.find((k) => distance(k, key) <= 2);
  return hit === undefined ? '' : ` (did you mean "${hit}"?)`;
}
