import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in test/support/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Root of the shared real test data (`../shared/data` beside the repo, or $PORTCULLIS_SHARED_DATA). */
export const sharedDataRoot = process.env.PORTCULLIS_SHARED_DATA ?? join(repoRoot, '..', 'shared', 'data');

/** Absolute path of a file under shared/data; throws when it is missing so a test can never pass vacuously. */
export function sharedData(...parts: string[]): string {
  const path = join(sharedDataRoot, ...parts);
  if (!existsSync(path)) throw new Error(`shared test data missing: ${path}`);
  return path;
}
