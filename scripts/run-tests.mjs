#!/usr/bin/env node
// Runs the whole suite with Node's own test runner (node 20 has no glob support in --test, so the
// file list is collected here). Integration tests under test/ need the real images and servers the
// harness prepares; `--unit` runs only the tests beside the code in src/.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function collect(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(collect(full));
    else if (name.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out;
}

let files = collect(join(root, 'src'));
if (!unitOnly) files = files.concat(collect(join(root, 'test')));
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
files.sort();

if (!unitOnly && filters.every((f) => !f.startsWith('src/'))) {
  // Build the real test images once per run (cached by recipe under .cache/test-images).
  const prep = spawnSync(process.execPath, ['--import', 'tsx', 'test/harness/prepare.ts'], { cwd: root, stdio: 'inherit' });
  if (prep.status !== 0) {
    console.error('test harness: preparing test images failed');
    process.exit(prep.status ?? 1);
  }
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, PORTCULLIS_TEST_ROOT: root } },
);
process.exit(result.status ?? 1);
