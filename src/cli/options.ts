import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { PortcullisError } from '../domain/errors.js';
import type { CredentialSource } from '../engine/context.js';
import type { OpenImageOptions } from '../image/open-image.js';
import { parsePlatform } from '../image/platform.js';

/** Options every command that reads an image accepts. */
export interface ImageCliOptions {
  platform?: string;
  insecure?: boolean;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  cache: boolean;
  cacheDir?: string;
  concurrency?: string;
}

/** Adds the image-reading options (source, auth, platform, cache) to a command. */
export function addImageOptions(cmd: Command): Command {
  return cmd
    .option('--platform <os/arch[/variant]|all>', 'platform to read from a multi-platform image (default: this host; "all" reads every one)')
    .option('--insecure', 'allow plain HTTP and unverified TLS to the registry')
    .option('--username <user>', 'registry user name (also $PORTCULLIS_REGISTRY_USERNAME, or ~/.docker/config.json)')
    .option('--password <password>', 'registry password (prefer --password-stdin or $PORTCULLIS_REGISTRY_PASSWORD)')
    .option('--password-stdin', 'read the registry password from standard input')
    .option('--no-cache', 'do not read or write the layer cache')
    .option('--cache-dir <dir>', 'layer cache directory (default: $PORTCULLIS_CACHE_DIR or ~/.cache/portcullis)')
    .addOption(new Option('--concurrency <n>', 'layers fetched and analysed at once').default('3'));
}

/** What the image options say: how to open the image, and the registry credentials (flags, then the host's environment and docker config). */
export interface ImageAccess {
  image: OpenImageOptions;
  credentials: CredentialSource;
}

/** Turns the parsed CLI options into image-source options and the credential source of the engine context. */
export function imageOptionsFrom(opts: ImageCliOptions): ImageAccess {
  let password = opts.password;
  if (opts.passwordStdin) password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if ((opts.username === undefined) !== (password === undefined)) {
    throw new PortcullisError('E_USAGE', 'registry credentials need both --username and a password');
  }
  return {
    image: { ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}), ...(opts.insecure ? { insecure: true } : {}) },
    credentials: { kind: 'host', ...(opts.username !== undefined && password !== undefined ? { given: { username: opts.username, password } } : {}) },
  };
}

/** Parses a positive integer option. */
export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new PortcullisError('E_USAGE', `${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}
