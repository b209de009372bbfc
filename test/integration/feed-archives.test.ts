import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeZeroZip } from '../../src/test-support/zip-builder.js';
import { runCli } from '../support/run-cli.js';

describe('portcullis db import refuses zip bombs from a feed mirror', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-feed-zip-'));
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a 2 MiB zip holding one 2 GiB entry: exit 2, one line naming the entry, no DB written', async () => {
    const zip = join(work, 'all.zip');
    await writeZeroZip(zip, [{ name: 'osv/GO-2024-0001.json', bytes: 2 * 1024 ** 3 }]);
    const db = join(work, 'vuln.db');
    const res = await runCli(['db', 'import', '--db', db, zip]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /^portcullis: vulndb: .*all\.zip!\/osv\/GO-2024-0001\.json: declares 2147483648 bytes, over the 1073741824-byte entry limit \[E_TOO_LARGE\]\n$/);
    assert.equal(existsSync(db), false);
  });
});
