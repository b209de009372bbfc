/**
 * The suite cleans up after itself: test files run here in a child test runner whose TMPDIR is a
 * fresh folder, which must be empty when they finish, whether they pass or their set-up fails.
 * (scripts/run-tests.mjs makes the same check over the whole suite.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './shared-data.js';

interface IsolatedRun {
  status: number | null;
  output: string;
  /** What the run left in its TMPDIR. */
  leftovers: string[];
}

/** Runs test files with node's test runner, TMPDIR set to a fresh folder (tsx's compile cache off, so only the tests write there). */
function runIsolated(files: string[], env: NodeJS.ProcessEnv = {}): IsolatedRun {
  const tmp = mkdtempSync(join(tmpdir(), 'portcullis-hygiene-'));
  try {
    // Without NODE_TEST_CONTEXT (set in this file's own process by the runner) the child is a runner of its own, not a silent subtest.
    const { NODE_TEST_CONTEXT: _ownRunner, ...inherited } = process.env;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...inherited, ...env, TMPDIR: tmp, TSX_DISABLE_CACHE: '1' },
      timeout: 5 * 60 * 1000,
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}`, leftovers: readdirSync(tmp) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe('temp folders', () => {
  test('passing tests that write temp files leave nothing in TMPDIR', () => {
    const run = runIsolated(['src/policy/whitelist.test.ts', 'src/policy/ignore-file.test.ts', 'src/matching/modules.test.ts']);
    assert.equal(run.status, 0, run.output.slice(-3000));
    assert.match(run.output, /^ℹ pass [1-9]\d*$/m, 'the files really ran');
    assert.deepEqual(run.leftovers, []);
  });

  test('a failing before() is reported as itself, and leaves nothing behind', (t) => {
    // An empty shared-data folder makes buildRealDb fail inside the suite's before() hook.
    const noData = mkdtempSync(join(tmpdir(), 'portcullis-no-shared-data-'));
    t.after(() => rmSync(noData, { recursive: true, force: true }));
    const run = runIsolated(['src/matching/real-data.test.ts'], { PORTCULLIS_SHARED_DATA: noData });
    assert.notEqual(run.status, 0, 'the suite fails');
    assert.match(run.output, /test data missing/, 'the real cause is shown');
    assert.doesNotMatch(run.output, /TypeError|dispose/, 'no second error from the after() hook');
    assert.deepEqual(run.leftovers, [], 'the half-built DB folder is removed');
  });
});
