import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in test/support/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Root of the real test data: `test/data` in this repository (the files of the shared corpus the
 * tests read, with their provenance in test/data/MANIFEST.tsv), or $PORTCULLIS_SHARED_DATA to use a
 * full copy of the corpus instead.
 */
export const sharedDataRoot = process.env.PORTCULLIS_SHARED_DATA ?? join(repoRoot, 'test', 'data');

/** Absolute path of a file under the test data root; throws when it is missing so a test can never pass vacuously. */
export function sharedData(...parts: string[]): string {
  const path = join(sharedDataRoot, ...parts);
  if (!existsSync(path)) throw new Error(`test data missing: ${path} (see test/data/README.md)`);
  return path;
}
