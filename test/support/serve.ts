/**
 * `portcullis serve` as a real child process for end-to-end tests: spawned from source like
 * run-cli.ts, on a free port it picks itself (`--listen 127.0.0.1:0`; the URL is read from its
 * "listening on" log line), with its own data directory; ready once /healthz answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { repoRoot } from './shared-data.js';

/** A running `portcullis serve` child process. */
export interface ServeProcess {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything written to stderr so far (the JSON log lines). */
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** How long a start may take (tsx compiles the sources on a busy machine). */
const START_TIMEOUT_MS = 60_000;

/**
 * Starts `portcullis serve --listen 127.0.0.1:0 [args]` with `env` over the current environment.
 * Rejects with the process's stderr when it exits or stays silent instead of serving.
 */
export async function startServe(args: string[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'support', 'cli.ts'), 'serve', '--listen', '127.0.0.1:0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout?.resume();
  const exited = once(child, 'exit');
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const [code] = (await exited) as [number | null];
    return code;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`)), START_TIMEOUT_MS);
      const onData = (): void => {
        const m = /listening on (http:\/\/[^\s"]+)/.exec(stderr);
        if (m?.[1] === undefined) return;
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve(m[1]);
      };
      child.stderr?.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`serve exited (${String(child.exitCode)}) before listening:\n${stderr}`));
      });
    });
    await waitForHealthy(url);
    return { url, child, stderr: () => stderr, stop };
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
}

async function waitForHealthy(url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return;
    } catch {
      // not accepting connections yet
    }
    if (Date.now() > deadline) throw new Error(`${url}/healthz did not answer 200 within ${START_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Runs `portcullis serve ARGS` expecting it to stop on its own (a start-up error); a serve that
 * starts instead is killed after `timeoutMs` and reported with code null, so a test cannot hang.
 */
export async function serveUntilExit(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'support', 'cli.ts'), 'serve', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code: signal === null ? code : null, stdout, stderr };
}
