import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './shared-data.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Spawns `portcullis ARGS` from source (a real process: real exit code, real streams). `user` runs
 * it as another uid/gid (root only), e.g. to see a permission error that root would not get;
 * `built` runs bin/portcullis.js (the bundle `npm run build` made) instead, as a user's shell would.
 */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; user?: { uid: number; gid: number }; built?: boolean } = {},
): Promise<CliResult> {
  const entry = options.built ? [join(repoRoot, 'bin', 'portcullis.js')] : ['--import', 'tsx', join(repoRoot, 'test', 'support', 'cli.ts')];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
