/**
 * The caches of an opened DB (parsed advisories by JSON size, statements per name) change how fast
 * answers come, never what they are: the same lookups against a DB that caches nothing, one with
 * tiny bounds (evicting on every call) and one with the default bounds give the same statements.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedData } from '../../test/support/shared-data.js';
import { walkFiles as walk } from '../../test/support/files.js';
import type { Ecosystem } from '../domain/package.js';
import { osvFeed } from '../feeds/osv/index.js';
import { rubysecFeed } from '../feeds/rubysec/index.js';
import type { FeedFile } from '../feeds/types.js';
import { buildVulnDb, openVulnDb, type AffectedMatch, type VulnDb } from './index.js';

function filesUnder(...parts: string[]): FeedFile[] {
  const root = sharedData('feeds', ...parts);
  return walk(root).map((f) => ({ name: f.slice(root.length + 1), bytes: readFileSync(f) }));
}

/** What a lookup answered, comparable across DB handles. */
const answer = (matches: AffectedMatch[]): string[] => matches.map((m) => `${m.advisory.feed} ${m.advisory.id} ${JSON.stringify(m.affected)}`);

let dir: string;
let path: string;
/** Every (ecosystem, namespace) of the samples with every package name it holds, plus a name it does not. */
let lookups: { ecosystem: Ecosystem; namespace: string; names: string[] }[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-vulndb-cache-'));
  path = join(dir, 'samples.db');
  const osv = filesUnder('osv');
  const rubysec = filesUnder('rubysec');
  await buildVulnDb(path, [
    { feed: osvFeed, files: osv, source: 'test', fetchedAt: '2026-11-01T00:00:00.000Z' },
    { feed: rubysecFeed, files: rubysec, source: 'test', fetchedAt: '2026-11-01T00:00:00.000Z' },
  ]);
  const byNamespace = new Map<string, { ecosystem: Ecosystem; namespace: string; names: Set<string> }>();
  for (const a of [...osvFeed.parse(osv).advisories, ...rubysecFeed.parse(rubysec).advisories]) {
    for (const p of a.affected) {
      const key = `${p.ecosystem}\u0000${p.namespace}`;
      const entry = byNamespace.get(key) ?? { ecosystem: p.ecosystem, namespace: p.namespace, names: new Set(['no-such-package']) };
      entry.names.add(p.packageName);
      byNamespace.set(key, entry);
    }
  }
  lookups = [...byNamespace.values()].map((l) => ({ ecosystem: l.ecosystem, namespace: l.namespace, names: [...l.names] }));
});
// Guarded: when before() failed the value was never set, and a TypeError here would hide that failure.
after(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Asks every namespace for its names: all at once, then in slices of 7 (overlapping calls), twice over. */
function ask(db: VulnDb): string[][] {
  const out: string[][] = [];
  for (let round = 0; round < 2; round++) {
    for (const l of lookups) {
      out.push(answer(db.affectedFor(l.ecosystem, l.namespace, l.names)));
      for (let i = 0; i < l.names.length; i += 7) out.push(answer(db.affectedFor(l.ecosystem, l.namespace, l.names.slice(i, i + 14))));
    }
  }
  return out;
}

describe('vulndb: caches change nothing but speed', () => {
  test('no cache, tiny caches (evicting on every call) and the default caches answer alike', () => {
    const none = openVulnDb(path, { cacheChars: 0, cacheNames: 0 });
    const tiny = openVulnDb(path, { cacheChars: 20_000, cacheNames: 10 });
    const normal = openVulnDb(path);
    try {
      const reference = ask(none);
      // The samples hold thousands of statements: a lookup that lost some would show here.
      assert.ok(reference.flat().length > 10_000, `${reference.flat().length} statements asked`);
      assert.deepEqual(ask(tiny), reference);
      assert.deepEqual(ask(normal), reference);
    } finally {
      none.close();
      tiny.close();
      normal.close();
    }
  });

  test('a cached statement comes back as the same object (its memo slot survives); without a cache, as a new one', () => {
    const normal = openVulnDb(path);
    const none = openVulnDb(path, { cacheChars: 0, cacheNames: 0 });
    try {
      // osv/AlmaLinux/almalinux8/ALSA-2019_4269.json names oci-systemd-hook.
      const first = normal.affectedFor('rpm', 'almalinux:8', ['oci-systemd-hook']);
      assert.ok(first.length > 0);
      const memo = { derived: true };
      (first[0] as AffectedMatch).memo = memo;
      const again = normal.affectedFor('rpm', 'almalinux:8', ['podman', 'oci-systemd-hook']);
      assert.ok(first.every((m) => again.includes(m)));
      assert.equal(again.find((m) => m === first[0])?.memo, memo);
      const uncached = none.affectedFor('rpm', 'almalinux:8', ['oci-systemd-hook']);
      assert.equal(uncached.length, first.length);
      assert.ok(!none.affectedFor('rpm', 'almalinux:8', ['oci-systemd-hook']).some((m) => uncached.includes(m)));
    } finally {
      normal.close();
      none.close();
    }
  });
});
