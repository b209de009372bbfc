import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { commandLine, mountsUnder, removeLeftoverTree, removeTree, run, tryLock, withFileLock } from './build-tools.js';

const buildTools = fileURLToPath(new URL('./build-tools.ts', import.meta.url));

/** A fresh folder removed when the test ends, pass or fail (a test that removes it itself leaves nothing to do). */
function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-build-tools-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('run', () => {
  test('returns stdout of a successful command', () => {
    assert.equal(run('sh', ['-c', 'printf "a\\nb"']), 'a\nb');
  });

  test('a failing command throws with its command line, exit status and stderr', () => {
    assert.throws(
      () => run('sh', ['-c', 'echo "boom on stderr" >&2; exit 3'], { label: 'step' }),
      (err: Error) => {
        assert.match(err.message, /^step: command failed, exit status 3:/);
        assert.ok(err.message.includes(commandLine('sh', ['-c', 'echo "boom on stderr" >&2; exit 3'])));
        assert.match(err.message, /boom on stderr/);
        return true;
      },
    );
  });

  test('a missing program is reported, not swallowed', () => {
    assert.throws(() => run('portcullis-no-such-tool', []), /could not run/);
  });
});

describe('locks', () => {
  test('a lock held by a process is released when that process is killed', async (t) => {
    const dir = scratch(t);
    const lock = join(dir, 'x.lock');
    try {
      // A child takes the lock the way prepare.ts does, says so, then hangs until killed.
      const script = `import { withFileLock } from ${JSON.stringify(buildTools)};
        await withFileLock(${JSON.stringify(lock)}, 5, () => {}, async () => { process.stdout.write('locked\\n'); await new Promise(() => setInterval(() => {}, 1000)); });`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      assert.equal(chunk.toString(), 'locked\n');
      assert.equal(tryLock(lock), undefined, 'the lock is held by the child');
      await assert.rejects(withFileLock(lock, 0, () => {}, async () => 'never'), /could not lock/);
      child.kill('SIGKILL');
      await once(child, 'exit');
      const release = tryLock(lock);
      assert.ok(release, 'no stale lock after the holder died');
      release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('withFileLock returns what the locked function returns and releases the lock', async (t) => {
    const dir = scratch(t);
    try {
      const lock = join(dir, 'y.lock');
      assert.equal(await withFileLock(lock, 5, () => {}, async () => 42), 42);
      const release = tryLock(lock);
      assert.ok(release);
      release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('removeTree', () => {
  test('refuses to delete a tree with a mount below it, deletes it once unmounted', (t) => {
    const dir = scratch(t);
    const mnt = join(dir, 'rootfs', 'dev');
    mkdirSync(mnt, { recursive: true });
    const mounted = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt], { encoding: 'utf8' });
    assert.equal(mounted.status, 0, `mount tmpfs (the harness runs as root): ${mounted.stderr}`);
    try {
      writeFileSync(join(mnt, 'keep'), 'x');
      assert.deepEqual(mountsUnder(dir), [mnt]);
      assert.throws(() => removeTree(dir), /refusing to delete .* still mounted/);
      assert.ok(existsSync(join(mnt, 'keep')));
    } finally {
      spawnSync('umount', [mnt]);
    }
    removeTree(dir);
    assert.equal(existsSync(dir), false);
  });

  test('removeLeftoverTree unmounts what a killed build left mounted, then deletes the tree', (t) => {
    const dir = scratch(t);
    const proc = join(dir, 'rootfs', 'proc');
    mkdirSync(proc, { recursive: true });
    const mounted = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', proc], { encoding: 'utf8' });
    assert.equal(mounted.status, 0, `mount tmpfs (the harness runs as root): ${mounted.stderr}`);
    try {
      removeLeftoverTree(dir);
      assert.deepEqual(mountsUnder(dir), []);
      assert.equal(existsSync(dir), false);
    } finally {
      if (mountsUnder(dir).length > 0) spawnSync('umount', ['-l', proc]);
    }
  });

  test('does nothing for a missing path', () => {
    removeTree(join(tmpdir(), 'portcullis-does-not-exist-' + process.pid));
  });
});
