/**
 * Measuring helpers shared by the benchmark runner and its worker: child processes (one per
 * measurement, so a measurement's peak memory and JIT state are its own), external reference
 * commands, and small statistics.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot } from '../../test/harness/images.js';
import type { WorkerTask } from '../worker.js';

/** Marker of the worker's result line on its stdout (everything else it prints is log). */
export const RESULT_MARKER = 'BENCH-RESULT ';

/**
 * Peak resident set size of this process in KiB: VmHWM from /proc/self/status (the kernel's own
 * high-water mark), else `process.resourceUsage().maxRSS` on systems without procfs.
 */
export function peakRssKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1] !== undefined) return Number(m[1]);
  } catch {
    // No procfs: fall through.
  }
  return process.resourceUsage().maxRSS;
}

/** Milliseconds `fn` takes, with its result. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

/** Median of a non-empty list (the lower middle for even lengths); NaN for []. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] as number;
}

/**
 * Runs one worker task in a fresh `node --import tsx bench/worker.ts` process and returns what the
 * worker reported. Throws with the worker's stderr when it fails or reports nothing.
 */
export function runWorker<T>(task: WorkerTask, options: { nodeArgs?: string[]; timeoutMs?: number } = {}): T {
  const r = spawnSync(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', join(repoRoot, 'bench', 'worker.ts'), JSON.stringify(task)], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: options.timeoutMs ?? 20 * 60 * 1000,
  });
  const line = (r.stdout ?? '')
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARKER));
  if (r.status !== 0 || line === undefined) {
    throw new Error(`bench: worker task ${task.kind} failed (exit ${String(r.status)}${r.signal ? `, ${r.signal}` : ''}): ${(r.stderr ?? '').slice(-4000)}`);
  }
  return JSON.parse(line.slice(RESULT_MARKER.length)) as T;
}

/** Result of an external command run by {@link timeCommand}. */
export interface CommandTiming {
  ms: number;
  /** Peak RSS in KiB from GNU time, when /usr/bin/time is installed. */
  peakRssKiB?: number;
  /** User + system CPU time in ms from GNU time (less disturbed by other load than wall time), when installed. */
  cpuMs?: number;
  stderr: string;
}

const GNU_TIME = '/usr/bin/time';
const RSS_MARK = 'BENCH-MAXRSS=';
const CPU_MARK = 'BENCH-CPU=';

/**
 * Runs a command with stdout sent to `stdoutTo` (default /dev/null) and measures its wall time;
 * under GNU time when present, to learn its peak RSS too. Throws when it exits non-zero.
 */
export function timeCommand(cmd: string, args: string[], options: { stdoutTo?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): CommandTiming {
  const out = openSync(options.stdoutTo ?? '/dev/null', 'w');
  const useTime = existsSync(GNU_TIME);
  const [file, argv] = useTime ? [GNU_TIME, ['-f', `${RSS_MARK}%M ${CPU_MARK}%U+%S`, cmd, ...args]] : [cmd, args];
  try {
    const t = performance.now();
    const r = spawnSync(file, argv, { stdio: ['ignore', out, 'pipe'], encoding: 'utf8', cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
    const ms = performance.now() - t;
    const stderr = r.stderr ?? '';
    if (r.status !== 0) throw new Error(`bench: ${cmd} ${args.join(' ')} exited ${String(r.status)}: ${stderr.slice(-2000)}`);
    const m = new RegExp(`${RSS_MARK}(\\d+)`).exec(stderr);
    const cpu = new RegExp(`${CPU_MARK}([\\d.]+)\\+([\\d.]+)`).exec(stderr);
    return {
      ms,
      ...(m?.[1] !== undefined ? { peakRssKiB: Number(m[1]) } : {}),
      ...(cpu?.[1] !== undefined && cpu[2] !== undefined ? { cpuMs: (Number(cpu[1]) + Number(cpu[2])) * 1000 } : {}),
      stderr: stderr.replace(new RegExp(`${RSS_MARK}\\d+( ${CPU_MARK}[\\d.+]+)?\\n?`), ''),
    };
  } finally {
    closeSync(out);
  }
}

/** Reads a file once so that the next timed read of it comes from the page cache for every contender. */
export function warmPageCache(file: string): void {
  spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });
}

/** Whether a command is on PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
