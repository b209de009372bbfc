import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import tarStream from 'tar-stream';
import { gzipSync } from 'node:zlib';
import { MockAgent } from 'undici';
import { sharedData } from '../../test/support/shared-data.js';
import { isPortcullisError } from '../domain/errors.js';
import { alpineSecdbFeed } from '../feeds/alpine/index.js';
import { osvEcosystemUrl, osvFeed } from '../feeds/osv/index.js';
import type { AdvisoryFeed, FeedUpstream } from '../feeds/types.js';
import { buildVulnDb } from './build.js';
import { mirroredUrl, openVulnDb, updateFeeds, type UpdateEvent, type UpdateOptions } from './index.js';
import { walkFiles as walk } from '../../test/support/files.js';


const GO_ZIP = (() => {
  const root = sharedData('feeds', 'osv', 'Go');
  const entries: Record<string, Uint8Array> = {};
  for (const f of walk(root)) entries[f.slice(root.length + 1)] = new Uint8Array(readFileSync(f));
  return Buffer.from(zipSync(entries));
})();
const SECDB = readFileSync(sharedData('feeds', 'alpine-secdb', 'v3.10', 'main.json'));

const OSV_PATH = '/osv-vulnerabilities.storage.googleapis.com/Go/all.zip';
const SECDB_PATH = '/secdb.alpinelinux.org/v3.10/main.json';

type Mode = 'ok' | 'truncate' | 'die' | '503-once' | '404' | 'redirect-away' | 'redirect-same';

/** A mirror on 127.0.0.1 serving the real sample files; each path's behaviour is set per test. */
class Mirror {
  server: Server;
  hits: string[] = [];
  modes = new Map<string, Mode>();
  /** More paths to serve as they are. */
  extra = new Map<string, Buffer>();
  private sockets = new Set<Socket>();
  private failedOnce = new Set<string>();
  otherOrigin = '';

  constructor() {
    this.server = createServer((req, res) => this.handle(req.url ?? '/', res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(url: string, res: ServerResponse): void {
    this.hits.push(url);
    const path = url.split('?')[0] ?? '';
    const body = this.extra.get(path) ?? (path === OSV_PATH ? GO_ZIP : path === SECDB_PATH || path === '/secdb.alpinelinux.org/v3.10/moved.json' ? SECDB : undefined);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const mode = this.modes.get(path) ?? 'ok';
    switch (mode) {
      case '404':
        res.writeHead(404).end();
        return;
      case '503-once':
        if (!this.failedOnce.has(path)) {
          this.failedOnce.add(path);
          res.writeHead(503).end();
          return;
        }
        break;
      case 'redirect-away':
        res.writeHead(302, { location: `${this.otherOrigin}${path}` }).end();
        return;
      case 'redirect-same':
        res.writeHead(301, { location: '/secdb.alpinelinux.org/v3.10/moved.json' }).end();
        this.modes.set('/secdb.alpinelinux.org/v3.10/moved.json', 'ok');
        return;
      case 'truncate':
      case 'die':
        // Headers promise the whole file; half of it is sent, then the connection (or the server) dies.
        res.writeHead(200, { 'content-length': String(body.length) });
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
          res.socket?.destroy();
          if (mode === 'die') void this.close();
        });
        return;
      default:
        break;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  }
}

const upstreams: Record<string, FeedUpstream[]> = {
  osv: [{ url: osvEcosystemUrl('Go'), format: 'zip' }],
  'alpine-secdb': [{ url: 'https://secdb.alpinelinux.org/v3.10/main.json', format: 'json' }],
};
const SECDB_RECORDS = alpineSecdbFeed.parse([{ name: 'main.json', bytes: SECDB }]).advisories.length;

let dir: string;
let mirror: Mirror;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-update-'));
});
// Guarded: when before() failed the value was never set, and a TypeError here would hide that failure.
after(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function options(target: string, extra: Partial<UpdateOptions> = {}): UpdateOptions {
  return { target, registry: [osvFeed, alpineSecdbFeed], upstreams, mirror: mirror.base, retries: 2, retryDelayMs: 5, timeoutMs: 5000, ...extra };
}

describe('db update against a local mirror', () => {
  // Each test gets a fresh mirror and closes it (the "server dies" test closes it mid-download).
  beforeEach(async () => {
    mirror = new Mirror();
    await mirror.listen();
  });

  test('fetches exactly the configured URLs, unpacks the zip, builds both feeds', async (t) => {
    t.after(() => mirror.close());
    const target = join(dir, 'ok.db');
    const events: UpdateEvent[] = [];
    const summary = await updateFeeds(options(target, { onEvent: (e) => events.push(e) }));
    assert.deepEqual(summary.updated, ['osv', 'alpine-secdb']);
    assert.deepEqual(summary.failed, []);
    // Feeds are fetched concurrently: the set of requests is fixed, their order is not.
    assert.deepEqual([...mirror.hits].sort(), [OSV_PATH, SECDB_PATH].sort());
    assert.deepEqual(events.filter((e) => e.type === 'fetched').map((e) => (e.type === 'fetched' ? e.bytes : 0)), [GO_ZIP.length, SECDB.length]);
    const db = openVulnDb(target);
    try {
      assert.deepEqual(db.feeds().map((f) => [f.feed, f.recordCount, f.skipped, f.source]), [
        ['alpine-secdb', SECDB_RECORDS, 0, `${mirror.base}${SECDB_PATH}`],
        ['osv', 300, 0, `${mirror.base}${OSV_PATH}`],
      ]);
      assert.ok(db.affectedFor('golang', 'Go', ['golang.org/x/net']).some((m) => m.advisory.id === 'GO-2020-0014'));
    } finally {
      db.close();
    }
  });

  test('a 503 is retried; a 404 is not', async (t) => {
    t.after(() => mirror.close());
    mirror.modes.set(OSV_PATH, '503-once');
    mirror.modes.set(SECDB_PATH, '404');
    const events: UpdateEvent[] = [];
    const summary = await updateFeeds(options(join(dir, 'retry.db'), { onEvent: (e) => events.push(e) }));
    assert.deepEqual(summary.updated, ['osv']);
    assert.deepEqual(summary.failed.map((f) => [f.feed, f.error]), [['alpine-secdb', 'HTTP 404']]);
    assert.deepEqual([...mirror.hits].sort(), [OSV_PATH, OSV_PATH, SECDB_PATH].sort());
    assert.equal(events.filter((e) => e.type === 'retry').length, 1);
  });

  test('a download cut mid-body fails that feed only; it keeps its previous data', async (t) => {
    t.after(() => mirror.close());
    const target = join(dir, 'partial.db');
    await updateFeeds(options(target, { now: () => new Date('2026-01-01T00:00:00Z') }));
    mirror.modes.set(SECDB_PATH, 'truncate');
    mirror.hits = [];
    const summary = await updateFeeds(options(target, { now: () => new Date('2026-02-01T00:00:00Z') }));
    assert.deepEqual(summary.updated, ['osv']);
    assert.equal(summary.failed[0]?.feed, 'alpine-secdb');
    assert.match(summary.failed[0]?.error ?? '', /interrupted|truncated|terminated|closed|socket/i);
    assert.equal(mirror.hits.filter((h) => h === SECDB_PATH).length, 3, 'first try and two retries');
    assert.deepEqual(summary.build?.kept, ['alpine-secdb']);
    const db = openVulnDb(target);
    try {
      const feeds = db.feeds();
      assert.deepEqual(feeds.map((f) => [f.feed, f.fetchedAt, f.recordCount]), [
        ['alpine-secdb', '2026-01-01T00:00:00.000Z', SECDB_RECORDS],
        ['osv', '2026-02-01T00:00:00.000Z', 300],
      ]);
      assert.ok(db.affectedFor('apk', 'alpine:3.10', ['ansible']).length > 0);
    } finally {
      db.close();
    }
  });

  test('the server dying mid-download leaves the previous DB exactly as it was', async (t) => {
    t.after(() => (mirror.server.listening ? mirror.close() : undefined));
    const target = join(dir, 'died.db');
    await updateFeeds(options(target, { now: () => new Date('2026-01-01T00:00:00Z') }));
    const before = readFileSync(target);
    mirror.modes.set(OSV_PATH, 'die');
    await assert.rejects(
      updateFeeds(options(target, { now: () => new Date('2026-02-01T00:00:00Z') })),
      (err) => isPortcullisError(err, 'E_FEED') && /left as it was/.test(err.message),
    );
    assert.ok(readFileSync(target).equals(before), 'DB file untouched');
    const db = openVulnDb(target);
    try {
      assert.equal(db.builtAt, '2026-01-01T00:00:00.000Z');
      assert.ok(db.affectedFor('golang', 'Go', ['golang.org/x/net']).length > 0);
    } finally {
      db.close();
    }
  });

  test('an abort while fetching stops the update with E_CANCELLED and leaves the DB and its folder as they were', async (t) => {
    t.after(() => mirror.close());
    const folder = mkdtempSync(join(dir, 'abort-'));
    const target = join(folder, 'abort.db');
    await updateFeeds(options(target, { now: () => new Date('2026-01-01T00:00:00Z') }));
    const before = readFileSync(target);
    const controller = new AbortController();
    await assert.rejects(
      updateFeeds(options(target, { signal: controller.signal, onEvent: (e) => (e.type === 'fetched' ? controller.abort(new Error('Ctrl-C')) : undefined) })),
      (err) => isPortcullisError(err, 'E_CANCELLED') && /update.*cancelled \(Ctrl-C\)/.test(err.message),
    );
    assert.ok(readFileSync(target).equals(before), 'DB file untouched');
    assert.deepEqual(readdirSync(folder), ['abort.db']);
  });

  test('an abort between the feeds of a build removes the half-built file and keeps the target', async (t) => {
    t.after(() => mirror.close());
    const folder = mkdtempSync(join(dir, 'build-abort-'));
    const target = join(folder, 'build.db');
    const controller = new AbortController();
    const input = (feed: AdvisoryFeed, name: string, bytes: Buffer) => ({ feed, files: [{ name, bytes }], source: 'test', fetchedAt: '2026-01-01T00:00:00Z' });
    await assert.rejects(
      buildVulnDb(target, [input(alpineSecdbFeed, 'main.json', SECDB), input(osvFeed, 'osv.zip', GO_ZIP)], { signal: controller.signal, afterFeed: () => controller.abort(new Error('shutting down')) }),
      (err) => isPortcullisError(err, 'E_CANCELLED') && /vulnerability DB build/.test(err.message),
    );
    assert.deepEqual(readdirSync(folder), [], 'neither the target nor a temp file');
  });

  test('redirects are followed within the configured origin only', async (t) => {
    t.after(() => mirror.close());
    const other = new Mirror();
    await other.listen();
    t.after(() => other.close());
    // Same port, other host name: a different origin that must never be contacted.
    mirror.otherOrigin = other.base.replace('127.0.0.1', 'localhost');
    mirror.modes.set(OSV_PATH, 'redirect-away');
    mirror.modes.set(SECDB_PATH, 'redirect-same');
    const summary = await updateFeeds(options(join(dir, 'redirect.db')));
    assert.deepEqual(summary.updated, ['alpine-secdb']);
    assert.match(summary.failed[0]?.error ?? '', /redirect to http:\/\/localhost:\d+ refused/);
    assert.deepEqual(other.hits, []);
  });

  test('unknown feed ids are refused before any request', async (t) => {
    t.after(() => mirror.close());
    await assert.rejects(updateFeeds(options(join(dir, 'unknown.db'), { feeds: ['nope'] })), (err) => isPortcullisError(err, 'E_USAGE') && /unknown feed "nope"/.test(err.message));
    assert.deepEqual(mirror.hits, []);
  });

  test('--feed limits the update to that feed', async (t) => {
    t.after(() => mirror.close());
    const summary = await updateFeeds(options(join(dir, 'one.db'), { feeds: ['alpine-secdb'] }));
    assert.deepEqual(summary.updated, ['alpine-secdb']);
    assert.deepEqual(mirror.hits, [SECDB_PATH]);
  });
});

/** A tar archive of the given files. */
async function tar(files: Record<string, string>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const [name, text] of Object.entries(files)) pack.entry({ name }, text);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A valid zstd frame holding `data` in raw (stored) blocks. Nothing here compresses zstd and the
 * DB only decompresses it, so the test writes the simplest frame the format allows (RFC 8878:
 * magic, a header with a 128 KiB window, raw blocks of at most 128 KiB, the last one flagged).
 */
function zstdStored(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  const max = 128 * 1024;
  for (let i = 0; i === 0 || i < data.length; i += max) {
    const block = data.subarray(i, i + max);
    const last = i + max >= data.length ? 1 : 0;
    const header = (block.length << 3) | last; // block type 0 = raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), block);
  }
  return Buffer.concat(parts);
}

/** A feed of `{"id", "pkg"}` JSON files, to test unpacking without depending on a real format. */
const tinyFeed = (id: string, upstream: FeedUpstream[]): AdvisoryFeed => ({
  kind: 'advisories',
  id,
  version: 1,
  description: id,
  upstream,
  recognizes: (f) => f.name.endsWith('.json'),
  parse: (files) => ({
    advisories: files.map((f) => {
      const r = JSON.parse(f.bytes.toString('utf8')) as { id: string; pkg: string };
      return { id: r.id, aliases: [], feed: id, severities: [], references: [], affected: [{ ecosystem: 'npm', namespace: 'npm', packageName: r.pkg, nameKind: 'binary', scheme: 'npm', state: 'unfixed', ranges: [], versions: [] }] };
    }),
    skipped: [],
  }),
});

describe('db update: archive formats and indirect payloads', () => {
  test('tar.gz and tar.zst archives are unpacked (files the feed does not recognize dropped); indirect pointers are followed', async (t) => {
    const server = new Mirror();
    await server.listen();
    t.after(() => server.close());
    const archive = await tar({ 'a/one.json': '{"id":"T-1","pkg":"one"}', 'a/README.md': 'not data', 'b/two.json': '{"id":"T-2","pkg":"two"}' });
    server.extra.set('/feeds.example.test/x/all.tar.gz', gzipSync(archive));
    server.extra.set('/feeds.example.test/rh/latest.txt', Buffer.from('dump-2026.tar.zst\n'));
    server.extra.set('/feeds.example.test/rh/dump-2026.tar.zst', zstdStored(archive));
    const gz = tinyFeed('gz', [{ url: 'https://feeds.example.test/x/all.tar.gz', format: 'tar-gz' }]);
    const zst = tinyFeed('zst', [{ url: 'https://feeds.example.test/rh/latest.txt', format: 'tar-zst', indirect: true }]);
    const target = join(dir, 'archives.db');
    const summary = await updateFeeds({ target, registry: [gz, zst], mirror: server.base, retries: 0 });
    assert.deepEqual(summary.failed, []);
    assert.deepEqual([...server.hits].sort(), ['/feeds.example.test/x/all.tar.gz', '/feeds.example.test/rh/latest.txt', '/feeds.example.test/rh/dump-2026.tar.zst'].sort());
    // Within one feed, the pointer is read before the payload it names.
    assert.ok(server.hits.indexOf('/feeds.example.test/rh/latest.txt') < server.hits.indexOf('/feeds.example.test/rh/dump-2026.tar.zst'));
    const db = openVulnDb(target);
    try {
      assert.deepEqual(db.feeds().map((f) => [f.feed, f.recordCount, f.source]), [
        ['gz', 2, `${server.base}/feeds.example.test/x/all.tar.gz`],
        ['zst', 2, `${server.base}/feeds.example.test/rh/dump-2026.tar.zst`],
      ]);
      assert.deepEqual(db.affectedFor('npm', 'npm', ['one', 'two']).map((m) => `${m.advisory.feed}:${m.advisory.id}`).sort(), ['gz:T-1', 'gz:T-2', 'zst:T-1', 'zst:T-2']);
    } finally {
      db.close();
    }
  });

  test('a pointer naming another origin is refused', async (t) => {
    const server = new Mirror();
    await server.listen();
    t.after(() => server.close());
    server.extra.set('/feeds.example.test/rh/latest.txt', Buffer.from('https://elsewhere.example.test/dump.tar.zst\n'));
    const zst = tinyFeed('zst', [{ url: 'https://feeds.example.test/rh/latest.txt', format: 'tar-zst', indirect: true }]);
    await assert.rejects(updateFeeds({ target: join(dir, 'pointer.db'), registry: [zst], mirror: server.base, retries: 0 }), (err) => isPortcullisError(err, 'E_FEED') && /names https:\/\/elsewhere\.example\.test/.test(err.message));
    assert.deepEqual(server.hits, ['/feeds.example.test/rh/latest.txt']);
  });
});

describe('mirror URLs', () => {
  test('host and path are kept under the mirror base', () => {
    assert.equal(mirroredUrl('https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip', 'http://m.example/feeds/'), 'http://m.example/feeds/osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip');
    assert.equal(mirroredUrl('https://secdb.alpinelinux.org/v3.20/main.json', undefined), 'https://secdb.alpinelinux.org/v3.20/main.json');
  });
});

describe('db update: name resolution failures', () => {
  test('a host that does not resolve fails its feed at once, without retries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-enotfound-'));
    const agent = new MockAgent();
    agent.disableNetConnect();
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND feeds.example.test'), { code: 'ENOTFOUND' });
    agent.get('https://feeds.example.test').intercept({ path: '/v3.10/main.json' }).replyWithError(notFound).times(5);
    const events: UpdateEvent[] = [];
    const feed: AdvisoryFeed = { ...alpineSecdbFeed, upstream: [{ url: 'https://feeds.example.test/v3.10/main.json', format: 'json' }] };
    try {
      await assert.rejects(
        updateFeeds({ target: join(dir, 'x.db'), registry: [feed], dispatcher: agent, retryDelayMs: 1, onEvent: (e) => events.push(e) }),
        (err) => isPortcullisError(err, 'E_FEED') && /ENOTFOUND/.test(err.message),
      );
      assert.deepEqual(events.map((e) => e.type), ['fetch', 'failed'], 'one attempt, no retry');
    } finally {
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
