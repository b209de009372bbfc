#!/usr/bin/env node
// Runs the whole suite with Node's own test runner (node 20 has no glob support in --test, so the
// file list is collected here). Integration tests under test/ need the real images and servers the
// harness prepares; `--unit` runs only the tests beside the code in src/.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

// The tests get a TMPDIR of their own, which must be empty again when they end: a test that leaves
// a temp folder behind (even when it fails) fails the run. Only tsx's compile cache may stay.
const testTmp = mkdtempSync(join(tmpdir(), 'portcullis-test-run-'));
// Open to every user like /tmp itself (sticky): harness servers run as other users (initdb as postgres).
chmodSync(testTmp, 0o1777);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, PORTCULLIS_TEST_ROOT: root, TMPDIR: testTmp } },
);
const leftovers = readdirSync(testTmp).filter((name) => !/^tsx-/.test(name));
rmSync(testTmp, { recursive: true, force: true });
if (leftovers.length > 0) {
  console.error(`test hygiene: the tests left ${leftovers.length} entr${leftovers.length === 1 ? 'y' : 'ies'} in TMPDIR (remove them in after()/t.after, also on failure): ${leftovers.join(', ')}`);
  process.exit(result.status || 1);
}
process.exit(result.status ?? 1);
