/**
 * The Clair v4 backend's protocol paths that the end-to-end test (test/integration/service-clair-v4.test.ts)
 * does not reach, against a local server scripted per test: an index that is still running when
 * the POST answers (polled to its end), the ETag remembered for the next If-None-Match, a matcher
 * on its own address (health probes it too), Clair's 404 and 422, and the PSK JWT check the
 * notifier webhook relies on.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { isPortcullisError } from '../../domain/errors.js';
import type { ScanTarget } from '../types.js';
import { ClairV4Backend, packageFindings } from './backend.js';
import { clairPskToken, CLAIR_NOTIFIER_ISSUER, pskTokenProblem } from './client.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const LAYER = `sha256:${'b'.repeat(64)}`;
const PSK = { key: Buffer.from('unit test key').toString('base64'), issuer: 'portcullis' };

type Handler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

const servers: { close(): void; closeAllConnections(): void }[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function serve(handler: Handler): Promise<{ url: string; seen: { method: string; path: string; ifNoneMatch: string | undefined; authorization: string | undefined }[] }> {
  const seen: { method: string; path: string; ifNoneMatch: string | undefined; authorization: string | undefined }[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? '');
    seen.push({ method: req.method ?? '', path, ifNoneMatch: req.headers['if-none-match'], authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => handler(req, res, path));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
};

const target: ScanTarget = {
  repository: 'team/app',
  digest: DIGEST,
  tags: ['1.0'],
  registry: {
    reference: `registry.invalid/team/app@${DIGEST}`,
    imageOptions: {},
    layers: () => Promise.resolve([{ digest: LAYER, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 1, url: `http://registry.invalid/v2/team/app/blobs/${LAYER}` }]),
    authorization: () => Promise.resolve('Bearer pull-token'),
  },
};

const emptyReport = { manifest_hash: DIGEST, packages: {}, distributions: {}, repository: {}, environments: {}, vulnerabilities: {}, package_vulnerabilities: {}, enrichments: {} };

describe('ClairV4Backend', () => {
  test('an index still running when the POST answers is polled to IndexFinished; its ETag is sent as If-None-Match next time', async () => {
    let polls = 0;
    const clair = await serve((req, res, path) => {
      if (req.method === 'POST') {
        if (req.headers['if-none-match'] === '"s1"') return void res.writeHead(412).end();
        return json(res, 201, { manifest_hash: DIGEST, state: 'CheckManifest', err: '' }, { etag: '"s1"' });
      }
      if (path === `/indexer/api/v1/index_report/${DIGEST}`) return json(res, 200, { manifest_hash: DIGEST, state: ++polls < 3 ? 'FetchLayers' : 'IndexFinished', success: polls >= 3, err: '' });
      if (path === `/matcher/api/v1/vulnerability_report/${DIGEST}`) return json(res, 200, emptyReport);
      json(res, 404, { code: 'not-found', message: path });
    });
    const backend = new ClairV4Backend({ server: clair.url, psk: PSK, timeoutMs: 10_000, pollIntervalMs: 10 });
    assert.deepEqual(await backend.scan(target, new AbortController().signal), { packageCount: 0, packages: [] });
    assert.equal(polls, 3);
    assert.equal(await backend.indexStateOf(DIGEST), '"s1"');
    const posted = clair.seen.find((r) => r.method === 'POST');
    assert.ok(posted?.authorization !== undefined && pskTokenProblem(posted.authorization.replace(/^Bearer /, ''), PSK, [PSK.issuer], Math.floor(Date.now() / 1000)) === undefined, 'every request carries a PSK JWT');

    await backend.scan(target, new AbortController().signal);
    assert.deepEqual(clair.seen.filter((r) => r.method === 'POST').map((r) => r.ifNoneMatch), [undefined, '"s1"']);
    assert.equal(polls, 3, 'a 412 goes straight to the report');
  });

  test('a 412 followed by a 404 report (Clair lost its index at the same state): indexed again once without If-None-Match', async () => {
    let indexed = false;
    const clair = await serve((req, res, path) => {
      if (req.method === 'POST') {
        if (req.headers['if-none-match'] === '"s1"') return void res.writeHead(412).end();
        indexed = true;
        return json(res, 201, { manifest_hash: DIGEST, state: 'IndexFinished', success: true, err: '' }, { etag: '"s1"' });
      }
      if (path === `/matcher/api/v1/vulnerability_report/${DIGEST}` && indexed) return json(res, 200, emptyReport);
      json(res, 404, { code: 'not-found', message: path });
    });
    const states = new Map([[DIGEST, '"s1"']]);
    const backend = new ClairV4Backend({ server: clair.url, timeoutMs: 5_000, indexStates: { get: (d) => Promise.resolve(states.get(d)), set: (d, s) => Promise.resolve(void states.set(d, s)) } });
    assert.deepEqual(await backend.scan(target, new AbortController().signal), { packageCount: 0, packages: [] });
    assert.deepEqual(clair.seen.map((r) => `${r.method} ${r.ifNoneMatch ?? '-'} ${r.path}`), [
      'POST "s1" /indexer/api/v1/index_report',
      `GET - /matcher/api/v1/vulnerability_report/${DIGEST}`,
      'POST - /indexer/api/v1/index_report',
      `GET - /matcher/api/v1/vulnerability_report/${DIGEST}`,
    ]);
  });

  test("Clair's 422 is E_UNSUPPORTED; a report Clair does not have (404) is E_NOT_FOUND; an image without layers is not sent", async () => {
    const refusing = await serve((_req, res) => json(res, 422, { code: 'unsupported', message: 'layer format' }));
    await assert.rejects(new ClairV4Backend({ server: refusing.url, timeoutMs: 5_000 }).scan(target, new AbortController().signal), (err: unknown) => isPortcullisError(err, 'E_UNSUPPORTED') && /answered 422 \(unsupported: layer format\)/.test(err.message));
    const forgetful = await serve((req, res) => (req.method === 'POST' ? json(res, 201, { manifest_hash: DIGEST, state: 'IndexFinished', success: true, err: '' }) : json(res, 404, { code: 'not-found', message: 'no report' })));
    await assert.rejects(new ClairV4Backend({ server: forgetful.url, timeoutMs: 5_000 }).scan(target, new AbortController().signal), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
    const noLayers: ScanTarget = { ...target, registry: { ...target.registry, layers: () => Promise.resolve([]) } };
    await assert.rejects(new ClairV4Backend({ server: forgetful.url, timeoutMs: 5_000 }).scan(noLayers, new AbortController().signal), (err: unknown) => isPortcullisError(err, 'E_UNSUPPORTED'));
  });

  test('a matcher on its own address: the report is asked there, and health probes both', async () => {
    const matcher = await serve((_req, res, path) => (path === '/matcher/api/v1/internal/update_operation' ? json(res, 200, {}) : json(res, 200, emptyReport)));
    const indexer = await serve((req, res, path) => (path === '/indexer/api/v1/index_state' ? json(res, 200, { state: 's9' }) : json(res, 201, { manifest_hash: DIGEST, state: 'IndexFinished', success: true, err: '' })));
    const backend = new ClairV4Backend({ server: indexer.url, matcher: matcher.url, timeoutMs: 5_000 });
    await backend.scan(target, new AbortController().signal);
    assert.deepEqual(matcher.seen.map((r) => r.path), [`/matcher/api/v1/vulnerability_report/${DIGEST}`]);
    assert.deepEqual(await backend.health(), { ok: true, detail: 'clair-v4 is reachable (indexer state s9; matcher answers)' });
    const down = new ClairV4Backend({ server: indexer.url, matcher: 'http://127.0.0.1:1', timeoutMs: 5_000 });
    const health = await down.health();
    assert.equal(health.ok, false);
    assert.match(health.detail, /^clair-v4 is not reachable: clair-v4: cannot reach http:\/\/127\.0\.0\.1:1\/matcher\/api\/v1\/internal\/update_operation/);
  });

  test("packageFindings keeps Clair's severity word and groups by package", () => {
    const packages = packageFindings([
      { id: 'CVE-1', aliases: ['DSA-1-1'], package: { ecosystem: 'deb', name: 'zlib1g', version: '1', purl: 'pkg:deb/debian/zlib1g@1', path: 'var/lib/dpkg/status', layer: LAYER, layerIndex: 0 }, state: 'fixed', fixedVersions: ['2'], severity: 'High', severitySource: 'debian', ratings: [{ source: 'debian', type: 'vendor', value: 'high', normalized: 'High' }], namespace: 'debian:12', feed: { id: 'clair:debian' }, links: ['https://example.invalid/CVE-1'], why: { package: '', advisory: '', rule: '' }, evidence: { package: { file: 'var/lib/dpkg/status', layer: LAYER, layerIndex: 0 }, matches: [] } },
      { id: 'CVE-2', aliases: [], package: { ecosystem: 'deb', name: 'zlib1g', version: '1', purl: 'pkg:deb/debian/zlib1g@1', path: 'var/lib/dpkg/status', layer: LAYER, layerIndex: 0 }, state: 'unfixed', fixedVersions: [], severity: 'Low', severitySource: 'debian', ratings: [{ source: 'debian', type: 'vendor', value: 'unimportant', normalized: 'Low' }], namespace: 'debian:12', feed: { id: 'clair:debian' }, links: [], why: { package: '', advisory: '', rule: '' }, evidence: { package: { file: 'var/lib/dpkg/status', layer: LAYER, layerIndex: 0 }, matches: [] } },
    ]);
    assert.deepEqual(packages, [
      {
        name: 'zlib1g',
        version: '1',
        namespace: 'debian:12',
        addedBy: LAYER,
        vulnerabilities: [
          { id: 'CVE-1', severity: 'High', backendSeverity: 'high', fixedBy: '2', link: 'https://example.invalid/CVE-1', namespace: 'debian:12', metadata: { aliases: ['DSA-1-1'] } },
          { id: 'CVE-2', severity: 'Low', backendSeverity: 'unimportant', namespace: 'debian:12' },
        ],
      },
    ]);
  });
});

describe('pskTokenProblem (the notifier webhook check)', () => {
  const now = 1_800_000_000;
  test('accepts what Clair signs; refuses another key, another issuer, an expired token, and no JWT', () => {
    const notifier = clairPskToken({ key: PSK.key, issuer: CLAIR_NOTIFIER_ISSUER }, now);
    assert.equal(pskTokenProblem(notifier, PSK, [CLAIR_NOTIFIER_ISSUER], now), undefined);
    assert.equal(pskTokenProblem(notifier, { key: Buffer.from('other').toString('base64') }, [CLAIR_NOTIFIER_ISSUER], now), 'bad signature');
    assert.equal(pskTokenProblem(notifier, PSK, ['quay'], now), 'issuer "clair-notifier" is not accepted');
    assert.equal(pskTokenProblem(notifier, PSK, [CLAIR_NOTIFIER_ISSUER], now + 3600), 'expired');
    assert.equal(pskTokenProblem('not-a-jwt', PSK, [CLAIR_NOTIFIER_ISSUER], now), 'not a JWT');
    const [, claims = ''] = notifier.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${claims}.`;
    assert.equal(pskTokenProblem(none, PSK, [CLAIR_NOTIFIER_ISSUER], now), 'bad signature');
  });
});
