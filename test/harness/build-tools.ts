/**
 * Small process and filesystem helpers shared by the test-image builder (prepare.ts) and the
 * benchmark image generator. They exist so that every external tool runs the same loud way: a
 * failing step throws with the exact command line and the tail of its stderr, never silently.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

/** Options of {@link run}. */
export interface RunOptions {
  cwd?: string;
  /** Extra environment variables, merged over process.env. */
  env?: Record<string, string>;
  /** Bytes given to the command's stdin. */
  input?: string;
  /** When set, stdout goes straight to this file (truncated first) instead of being returned. */
  stdoutFile?: string;
  /** Label used in the error message; defaults to the command name. */
  label?: string;
}

const MAX_BUFFER = 1024 * 1024 * 1024;

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Shell-like rendering of a command line, for logs and error messages. */
export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quote).join(' ');
}

function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/**
 * Runs a command to completion and returns its stdout (empty string when stdout went to a file).
 * Throws an Error naming the command line, the exit status (or signal) and the last 60 lines of
 * stderr and stdout when it exits non-zero or cannot start.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): string {
  let outFd: number | undefined;
  const spawnOpts: SpawnSyncOptions = {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    maxBuffer: MAX_BUFFER,
    input: opts.input,
  };
  if (opts.stdoutFile !== undefined) {
    mkdirSync(dirname(opts.stdoutFile), { recursive: true });
    outFd = openSync(opts.stdoutFile, 'w');
    spawnOpts.stdio = [opts.input === undefined ? 'ignore' : 'pipe', outFd, 'pipe'];
  }
  let result;
  try {
    result = spawnSync(cmd, args, spawnOpts);
  } finally {
    if (outFd !== undefined) closeSync(outFd);
  }
  const stdout = result.stdout ? result.stdout.toString('utf8') : '';
  const stderr = result.stderr ? result.stderr.toString('utf8') : '';
  if (result.error !== undefined || result.status !== 0) {
    const label = opts.label ?? cmd;
    const how = result.error
      ? `could not run (${result.error.message})`
      : result.signal
        ? `killed by ${result.signal}`
        : `exit status ${result.status}`;
    const parts = [`${label}: command failed, ${how}:`, `  $ ${commandLine(cmd, args)}${opts.cwd ? `   (in ${opts.cwd})` : ''}`];
    if (stderr.trim() !== '') parts.push('--- stderr (tail) ---', tail(stderr, 60));
    if (stdout.trim() !== '') parts.push('--- stdout (tail) ---', tail(stdout, 60));
    throw new Error(parts.join('\n'));
  }
  return stdout;
}

/** True when an executable of that name is on PATH. */
export function haveCommand(name: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${quote(name)}`], { stdio: 'ignore' });
  return r.status === 0;
}

/** Throws one clear error listing every missing tool (and the Debian package that provides it). */
export function requireCommands(label: string, tools: Readonly<Record<string, string>>): void {
  const missing = Object.entries(tools).filter(([cmd]) => !haveCommand(cmd));
  if (missing.length === 0) return;
  const list = missing.map(([cmd, pkg]) => `${cmd} (Debian package ${pkg})`).join(', ');
  throw new Error(`${label}: missing tools: ${list}. Install them (see .ci/run) and retry.`);
}

/** A logger writing `<prefix>: message (+elapsed)` lines to stderr. */
export function stderrLogger(prefix: string): (message: string) => void {
  const start = Date.now();
  return (message: string) => {
    const secs = ((Date.now() - start) / 1000).toFixed(1);
    process.stderr.write(`${prefix}: ${message} [+${secs}s]\n`);
  };
}

/** Mount points (from /proc/self/mounts) at or below `dir`. */
export function mountsUnder(dir: string): string[] {
  const abs = resolve(dir);
  let text: string;
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((m): m is string => m !== undefined)
    // /proc/self/mounts escapes spaces and such as octal; decode so the comparison is exact.
    .map((m) => m.replace(/\\([0-7]{3})/g, (_s, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((m) => m === abs || m.startsWith(abs + sep));
}

/**
 * Deletes a build tree. Refuses (throws) when anything is mounted below it, because a chroot tree
 * with a leftover bind mount of /dev or /proc must never be removed recursively.
 * Does nothing when the path does not exist.
 */
export function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  const mounts = mountsUnder(dir);
  if (mounts.length > 0) {
    throw new Error(`test-images: refusing to delete ${dir}: still mounted below it: ${mounts.join(', ')} (unmount them first)`);
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Holds an exclusive lock on `lockFile` while `fn` runs. The lock is a kernel flock(2) taken by the
 * util-linux `flock` tool on a file descriptor this process owns, so it is released automatically
 * when this process dies: a killed build never leaves a stale lock behind.
 * Waits up to `waitSeconds`, logging once while it waits; throws when the wait times out.
 */
export async function withFileLock<T>(
  lockFile: string,
  waitSeconds: number,
  log: (message: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  mkdirSync(dirname(lockFile), { recursive: true });
  const fd = openSync(lockFile, 'a');
  try {
    // First a non-blocking try, so we only log "waiting" when someone else really holds it.
    let r = spawnSync('flock', ['-x', '-n', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    if (r.status !== 0) {
      log(`another build holds ${lockFile}; waiting up to ${waitSeconds}s for it`);
      r = spawnSync('flock', ['-x', '-w', String(waitSeconds), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
      if (r.status !== 0) {
        const why = r.error ? r.error.message : (r.stderr?.toString() ?? '').trim() || `exit status ${r.status}`;
        throw new Error(`test-images: could not lock ${lockFile} within ${waitSeconds}s: ${why}`);
      }
    }
    return await fn();
  } finally {
    closeSync(fd);
  }
}

/**
 * Deletes the leftover of a killed build: first lazily unmounts whatever is still mounted below it
 * (debootstrap mounts /proc inside its target and a SIGKILL skips its cleanup), deepest first, then
 * removes the tree. Throws, naming the mounts, when they cannot all be unmounted.
 */
export function removeLeftoverTree(dir: string): void {
  const mounts = mountsUnder(dir).sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  const left = mountsUnder(dir);
  if (left.length > 0) {
    throw new Error(`test-images: cannot unmount ${left.join(', ')} below leftover ${dir}; unmount them by hand and delete ${dir}`);
  }
  removeTree(dir);
}

/**
 * Takes the lock on `lockFile` without waiting. Returns a release function, or undefined when
 * another process holds it.
 */
export function tryLock(lockFile: string): (() => void) | undefined {
  mkdirSync(dirname(lockFile), { recursive: true });
  const fd = openSync(lockFile, 'a');
  const r = spawnSync('flock', ['-x', '-n', '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
  if (r.status !== 0) {
    closeSync(fd);
    return undefined;
  }
  return () => closeSync(fd);
}

/** Names in a directory, [] when it does not exist. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
