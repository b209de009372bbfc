import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { walkFiles } from './files.js';
import { repoRoot } from './shared-data.js';

const dataRoot = join(repoRoot, 'test', 'data');
const OWN_FILES = new Set(['MANIFEST.tsv', 'README.md']);

test('every file in test/data has its provenance in MANIFEST.tsv, and every line names a file', () => {
  const lines = readFileSync(join(dataRoot, 'MANIFEST.tsv'), 'utf8').split('\n').filter((l) => l !== '');
  assert.deepEqual(lines[0]?.split('\t'), ['path', 'origin', 'licence', 'note']);
  const listed = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const cols = line.split('\t');
    assert.equal(cols.length, 4, `MANIFEST.tsv: 4 columns expected: ${line}`);
    assert.ok(cols[1] !== '', `MANIFEST.tsv: ${cols[0]} has no origin`);
    assert.ok(!listed.has(cols[0] ?? ''), `MANIFEST.tsv: ${cols[0]} listed twice`);
    listed.set(cols[0] ?? '', cols);
  }
  const files = walkFiles(dataRoot).map((f) => relative(dataRoot, f)).filter((f) => !OWN_FILES.has(f));
  assert.ok(files.length > 100, `test/data holds ${files.length} files`);
  assert.deepEqual(files.filter((f) => !listed.has(f)), [], 'files without a MANIFEST.tsv line');
  assert.deepEqual([...listed.keys()].filter((f) => !files.includes(f)), [], 'MANIFEST.tsv lines without a file');
});
