/**
 * The Clair v2 stand-in (test/harness/clair-v2.ts) in a process of its own, as a real Clair runs
 * beside the service: its layer downloads and hashing then do not share the measuring process's
 * one JS thread with the scanner being measured. Prints `CLAIR <url> <healthPort>` once it
 * listens; stops on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startFakeClairV2 } from '../../test/harness/clair-v2.js';

const here = fileURLToPath(import.meta.url);

export interface ClairProcess {
  url: string;
  healthPort: number;
  stop(): Promise<void>;
}

/** Starts the stand-in in a child process and waits until it listens. */
export async function startClairProcess(): Promise<ClairProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', here, 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  let out = '';
  const line = await new Promise<RegExpExecArray>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^CLAIR (\S+) (\d+)$/m.exec(out);
      if (m) resolve(m);
    });
    void exited.then(() => reject(new Error(`the Clair stand-in exited before listening: ${out}`)));
  });
  return {
    url: line[1] ?? '',
    healthPort: Number(line[2]),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === here && process.argv[2] === 'serve') {
  const clair = await startFakeClairV2();
  process.stdout.write(`CLAIR ${clair.url} ${clair.healthPort}\n`);
  process.once('SIGTERM', () => void clair.stop().then(() => process.exit(0)));
}
