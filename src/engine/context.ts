/**
 * What the engine runs with, handed in by whoever runs it (the CLI, the service): where it logs,
 * when it stops, what time it is, which registry credentials it may use and which image
 * transports it may open. The engine never reaches for the host on its own: a service context
 * says "registry only, the configured credentials only", and nothing in the engine can widen that.
 *
 * This module depends on the domain only, so every engine folder (image, inventory, matching,
 * vulndb) can take a context without an import cycle.
 */
import { pino, type Logger } from 'pino';
import * as z from 'zod';
import { PortcullisError } from '../domain/errors.js';

/** How an image is reached; `oci` covers both an OCI layout directory and an `oci-archive:` file. */
export const IMAGE_TRANSPORTS = ['registry', 'oci', 'docker-archive', 'dir'] as const;
export type ImageTransport = (typeof IMAGE_TRANSPORTS)[number];

/** A user name and password, or a token, for a registry (the shape of image/registry's credentials). */
export interface RegistrySecret {
  username: string;
  password: string;
  identityToken?: string;
  registryToken?: string;
}

/**
 * Where registry credentials come from:
 * - `host`: the CLI's way: `given` (flags) first, then PORTCULLIS_REGISTRY_USERNAME/PASSWORD of
 *   `env` (default process.env), then the docker config (`dockerConfigPath`, default
 *   $DOCKER_CONFIG/config.json or ~/.docker/config.json) and its credential helpers;
 * - `given`: these credentials and nothing else (a service's configured registry account);
 * - `none`: anonymous; neither the environment nor a docker config is read.
 */
export type CredentialSource =
  | { kind: 'host'; given?: RegistrySecret; env?: NodeJS.ProcessEnv; dockerConfigPath?: string }
  | { kind: 'given'; credentials: RegistrySecret }
  | { kind: 'none' };

export interface EngineContext {
  logger: Logger;
  signal?: AbortSignal;
  now(): Date;
  credentials: CredentialSource;
  allowedTransports: readonly ImageTransport[];
}

/**
 * Fields of logged objects that can hold a secret. Engine code never logs them on purpose; the
 * redaction is the second line, for an object logged whole by mistake.
 */
export const REDACTED_LOG_PATHS = [
  'password',
  'token',
  'authorization',
  'registryToken',
  'identityToken',
  '*.password',
  '*.token',
  '*.authorization',
  '*.Authorization',
  '*.registryToken',
  '*.identityToken',
  'headers.authorization',
  'credentials.password',
  'credentials.registryToken',
  'credentials.identityToken',
];

/** The log format the CLI writes: `json` lines only when asked (PORTCULLIS_LOG_FORMAT=json). */
export function cliLogFormat(env: NodeJS.ProcessEnv = process.env): 'json' | 'pretty' {
  return env['PORTCULLIS_LOG_FORMAT']?.toLowerCase() === 'json' ? 'json' : 'pretty';
}

export interface DefaultEngineContextOptions {
  /** `--verbose`: debug instead of warn. */
  verbose?: boolean;
  /** `--quiet`: errors only (it wins over verbose: quiet promises nothing but errors on standard error). */
  quiet?: boolean;
  signal?: AbortSignal;
  credentials?: CredentialSource;
  /** Default process.env (PORTCULLIS_LOG_FORMAT). */
  env?: NodeJS.ProcessEnv;
  /** Where log lines go; default standard error. */
  destination?: pino.DestinationStream;
}

/**
 * The CLI's context: every transport, the host's credentials, logs on standard error at `warn`
 * (`debug` with --verbose, `error` with --quiet). Lines are JSON with PORTCULLIS_LOG_FORMAT=json; otherwise one short
 * human line each (`portcullis: debug: msg key=value`), so the CLI's standard error reads as before.
 */
export function defaultEngineContext(options: DefaultEngineContextOptions = {}): EngineContext {
  const level = options.quiet === true ? 'error' : options.verbose === true ? 'debug' : 'warn';
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  const json = cliLogFormat(options.env) === 'json';
  const logger = json ? pino({ level, base: { name: 'portcullis' }, redact: REDACTED_LOG_PATHS }, destination) : pino({ level, base: null, timestamp: false, redact: REDACTED_LOG_PATHS }, humanLines(destination));
  return {
    logger,
    ...(options.signal ? { signal: options.signal } : {}),
    now: () => new Date(),
    credentials: options.credentials ?? { kind: 'host' },
    allowedTransports: IMAGE_TRANSPORTS,
  };
}

/** A context that logs nothing (library use and tests that do not look at logs). */
export function silentEngineContext(overrides: Partial<EngineContext> = {}): EngineContext {
  return { logger: pino({ level: 'silent' }), now: () => new Date(), credentials: { kind: 'host' }, allowedTransports: IMAGE_TRANSPORTS, ...overrides };
}

export interface ServiceEngineContextOptions {
  /** The service's logger (Fastify's or the worker's pino). */
  logger: Logger;
  /** Bound to every line: the job id, image digest and backend. */
  bindings: { job?: string | number; digest?: string; backend?: string };
  /** The service's configured registry credentials; anonymous when absent. */
  credentials?: RegistrySecret;
  signal?: AbortSignal;
  now?: () => Date;
}

/**
 * The context of engine work done on a service's behalf: registry references only (a `dir:` or
 * `oci:` path would let a caller read the service host's files), the configured credentials only
 * (never the host's docker config or environment), the service's logger with the job bound.
 */
export function serviceEngineContext(options: ServiceEngineContextOptions): EngineContext {
  return {
    logger: options.logger.child(options.bindings),
    ...(options.signal ? { signal: options.signal } : {}),
    now: options.now ?? (() => new Date()),
    credentials: options.credentials ? { kind: 'given', credentials: options.credentials } : { kind: 'none' },
    allowedTransports: ['registry'],
  };
}

/** E_FORBIDDEN naming the transport when the context does not allow it; checked before any file or host is touched. */
export function assertTransportAllowed(context: Pick<EngineContext, 'allowedTransports'>, transport: ImageTransport, reference: string): void {
  if (context.allowedTransports.includes(transport)) return;
  throw new PortcullisError('E_FORBIDDEN', `image: the ${transport} transport is not allowed here (allowed: ${context.allowedTransports.join(', ') || 'none'}); refusing ${transport === 'registry' ? reference : `${transport}: references`}`, {
    transport,
    allowed: [...context.allowedTransports],
  });
}

/** Where a docker config can never be (the `none`/`given` sources must not read one). */
const NO_DOCKER_CONFIG = '/nonexistent/portcullis-engine/config.json';

/**
 * The credential lookup of a source as the registry client takes it (flags, environment, docker
 * config). `given` and `none` get an empty environment and a docker config path that cannot exist.
 */
export function credentialLookup(source: CredentialSource): { credentials?: RegistrySecret; env?: NodeJS.ProcessEnv; dockerConfigPath?: string } {
  switch (source.kind) {
    case 'host':
      return { ...(source.given ? { credentials: source.given } : {}), ...(source.env ? { env: source.env } : {}), ...(source.dockerConfigPath ? { dockerConfigPath: source.dockerConfigPath } : {}) };
    case 'given':
      return { credentials: source.credentials, env: {}, dockerConfigPath: NO_DOCKER_CONFIG };
    case 'none':
      return { env: {}, dockerConfigPath: NO_DOCKER_CONFIG };
  }
}

const LOG_LINE = z.record(z.string(), z.unknown());

/** A pino stream writing `portcullis: <level>: <msg> key=value ...` lines (the CLI's human standard error). */
function humanLines(destination: pino.DestinationStream): pino.DestinationStream {
  const LEVELS: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };
  return {
    write(line: string): void {
      let parsed: z.ZodSafeParseResult<Record<string, unknown>>;
      try {
        parsed = LOG_LINE.safeParse(JSON.parse(line));
      } catch {
        parsed = LOG_LINE.safeParse(undefined);
      }
      if (!parsed.success) {
        destination.write(line);
        return;
      }
      const { level, msg, ...fields } = parsed.data;
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      destination.write(`portcullis: ${typeof level === 'number' ? (LEVELS[level] ?? 'log') : 'log'}: ${typeof msg === 'string' ? msg : ''}${extra ? ` ${extra}` : ''}\n`);
    },
  };
}
