import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { PortcullisError } from '../domain/errors.js';

/**
 * Writes a whole output file or nothing: the content goes to a temp file beside the target and is
 * renamed over it, so a failure never leaves a partial report behind. `-` means stdout.
 */
export async function writeOutput(target: string | undefined, content: string): Promise<void> {
  if (target === undefined || target === '-') {
    await new Promise<void>((resolve, reject) => process.stdout.write(content, (err) => (err ? reject(err) : resolve())));
    return;
  }
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new PortcullisError('E_INPUT', `output: cannot write ${target}: ${err instanceof Error ? err.message : String(err)}`, { target });
  }
}
