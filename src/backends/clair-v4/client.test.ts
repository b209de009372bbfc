/**
 * Clair cannot run here, so these tests run the client against a local node:http server on
 * 127.0.0.1 that answers with the real recorded bodies: the IndexReport of
 * api-samples/clair-v4/indexreport-bionic.json (its `state`/`success` rewritten in copies to stand
 * for the in-progress states) and the VulnerabilityReport of api-samples/quay/vulnerabilityreport.json.
 * Error bodies follow the `{code, message}` Error schema of Clair's openapi document.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { isPortcullisError } from '../../domain/errors.js';
import { sharedData } from '../../../test/support/shared-data.js';
import { ClairError, ClairV4Client, clairPskToken } from './client.js';
import { vulnerabilityReportToFindings } from './convert.js';
import type { ClairManifest } from './schemas.js';

const INDEX_REPORT = readFileSync(sharedData('api-samples', 'clair-v4', 'indexreport-bionic.json'), 'utf8');
const VULN_REPORT = readFileSync(sharedData('api-samples', 'quay', 'vulnerabilityreport.json'), 'utf8');
const inProgress = (state: string): string => JSON.stringify({ ...(JSON.parse(INDEX_REPORT) as object), state, success: false });

const MANIFEST: ClairManifest = {
  hash: 'sha256:4fd9553ca70c7ed6cbb466573fed2d03b0a8dd2c2eba9febf2ce30f8d537ba17',
  layers: [
    { hash: 'sha256:e623cf60cbc41de800d3ca5284181bd9168fc0be44b2fbfc05ba78cefcf315b1', uri: 'http://127.0.0.1:5000/v2/ubi8/ubi-minimal/blobs/sha256:e623cf60cbc41de800d3ca5284181bd9168fc0be44b2fbfc05ba78cefcf315b1', headers: { Authorization: ['Bearer registry-token'] } },
    { hash: 'sha256:bf37973863bc7ec2cc3e205b757acfa6e3fcef098621b34848275960bf2aa8cb', uri: 'http://127.0.0.1:5000/v2/ubi8/ubi-minimal/blobs/sha256:bf37973863bc7ec2cc3e205b757acfa6e3fcef098621b34848275960bf2aa8cb', headers: {} },
  ],
};

interface Reply {
  status: number;
  body: string;
}
interface Seen {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A scripted fake Clair: each route answers from its queue (the last reply repeats). */
class FakeClair {
  server: Server = createServer((req, res) => this.#handle(req, res));
  seen: Seen[] = [];
  routes = new Map<string, Reply[]>();
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
  script(route: string, replies: Reply[]): void {
    this.routes.set(route, replies);
  }
  #handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
      const route = `${req.method} ${req.url}`;
      const queue = this.routes.get(route);
      const reply = queue && queue.length > 1 ? queue.shift() : queue?.[0];
      const r = reply ?? { status: 404, body: JSON.stringify({ code: 'not-found', message: `no route ${route}` }) };
      res.writeHead(r.status, { 'Content-Type': 'application/json', Server: 'clair' });
      res.end(r.body);
    });
  }
}

const INDEX = 'POST /indexer/api/v1/index_report';
const GET_INDEX = `GET /indexer/api/v1/index_report/${encodeURIComponent(MANIFEST.hash)}`;
const GET_VULNS = `GET /matcher/api/v1/vulnerability_report/${encodeURIComponent(MANIFEST.hash)}`;

describe('ClairV4Client against a local fake Clair', () => {
  const clair = new FakeClair();
  const sleeps: number[] = [];
  const client = (extra: Partial<ConstructorParameters<typeof ClairV4Client>[0]> = {}): ClairV4Client =>
    new ClairV4Client({ url: clair.url, pollIntervalMs: 250, maxPollAttempts: 5, sleep: async (ms) => void sleeps.push(ms), ...extra });

  before(() => clair.start());
  after(() => clair.stop());

  test('scan: POST the manifest, poll through 404 and in-progress states, fetch the vulnerability report', async () => {
    clair.seen = [];
    sleeps.length = 0;
    clair.script(INDEX, [{ status: 201, body: inProgress('CheckManifest') }]);
    clair.script(GET_INDEX, [
      { status: 404, body: JSON.stringify({ code: 'not-found', message: 'index report not found' }) },
      { status: 200, body: inProgress('FetchLayers') },
      { status: 200, body: inProgress('ScanLayers') },
      { status: 200, body: INDEX_REPORT },
    ]);
    clair.script(GET_VULNS, [{ status: 200, body: VULN_REPORT }]);

    const { index, report } = await client({ token: 'secret' }).scan(MANIFEST);
    assert.equal(index.state, 'ScanFinished');
    assert.equal(Object.keys(index.packages).length, 129);
    assert.equal(report.manifest_hash, 'sha256:4fd9553ca70c7ed6cbb466573fed2d03b0a8dd2c2eba9febf2ce30f8d537ba17');
    assert.equal(vulnerabilityReportToFindings(report).length, 89);

    assert.deepEqual(clair.seen.map((s) => `${s.method} ${s.url}`), [INDEX, GET_INDEX, GET_INDEX, GET_INDEX, GET_INDEX, GET_VULNS]);
    assert.deepEqual(sleeps, [250, 250, 250]);
    const post = clair.seen[0];
    assert.ok(post);
    assert.deepEqual(JSON.parse(post.body), MANIFEST);
    assert.equal(post.headers['content-type'], 'application/json');
    assert.equal(post.headers.authorization, 'Bearer secret');
  });

  test('an index report already finished on POST is not polled', async () => {
    clair.seen = [];
    clair.script(INDEX, [{ status: 201, body: JSON.stringify({ ...(JSON.parse(INDEX_REPORT) as object), state: 'IndexFinished' }) }]);
    clair.script(GET_VULNS, [{ status: 200, body: VULN_REPORT }]);
    await client().scan(MANIFEST);
    assert.deepEqual(clair.seen.map((s) => `${s.method} ${s.url}`), [INDEX, GET_VULNS]);
  });

  test('polling is bounded: still running after maxPollAttempts is E_UNREACHABLE', async () => {
    clair.seen = [];
    clair.script(INDEX, [{ status: 201, body: inProgress('CheckManifest') }]);
    clair.script(GET_INDEX, [{ status: 200, body: inProgress('ScanLayers') }]);
    await assert.rejects(client({ maxPollAttempts: 3 }).scan(MANIFEST), (err: unknown) => {
      assert.ok(err instanceof ClairError && isPortcullisError(err, 'E_UNREACHABLE'));
      assert.equal(err.message, `clair-v4: index report for ${MANIFEST.hash} not finished after 3 attempts (state ScanLayers)`);
      return true;
    });
    assert.equal(clair.seen.filter((s) => `${s.method} ${s.url}` === GET_INDEX).length, 3);
  });

  test('IndexError is E_UNSUPPORTED carrying Clair err', async () => {
    clair.script(INDEX, [{ status: 201, body: inProgress('FetchLayers') }]);
    clair.script(GET_INDEX, [{ status: 200, body: JSON.stringify({ ...(JSON.parse(INDEX_REPORT) as object), state: 'IndexError', success: false, err: 'failed to fetch layers: 404 Not Found' }) }]);
    await assert.rejects(client().scan(MANIFEST), (err: unknown) => isPortcullisError(err, 'E_UNSUPPORTED') && err.message === `clair-v4: indexing ${MANIFEST.hash} failed: failed to fetch layers: 404 Not Found`);
  });

  test('Clair {code, message} errors become typed errors by status', async () => {
    const cases: [number, string][] = [
      [400, 'E_INPUT'],
      [401, 'E_AUTH'],
      [403, 'E_FORBIDDEN'],
      [404, 'E_NOT_FOUND'],
      [422, 'E_UNSUPPORTED'],
      [500, 'E_UNREACHABLE'],
    ];
    for (const [status, code] of cases) {
      clair.script(GET_VULNS, [{ status, body: JSON.stringify({ code: 'some-code', message: `failure ${status}` }) }]);
      await assert.rejects(client().getVulnerabilityReport(MANIFEST.hash), (err: unknown) => {
        assert.ok(err instanceof ClairError, String(err));
        assert.equal(err.code, code);
        assert.equal(err.status, status);
        assert.equal(err.clairCode, 'some-code');
        assert.equal(err.message, `clair-v4: GET ${clair.url}/matcher/api/v1/vulnerability_report/${encodeURIComponent(MANIFEST.hash)} answered ${status} (some-code: failure ${status})`);
        return true;
      });
    }
    clair.script(INDEX, [{ status: 400, body: JSON.stringify({ code: 'bad-request', message: 'failed to deserialize manifest' }) }]);
    await assert.rejects(client().index(MANIFEST), /clair-v4: POST .*index_report answered 400 \(bad-request: failed to deserialize manifest\)/);
  });

  test('a body that is not the documented JSON is E_UNREACHABLE', async () => {
    clair.script(GET_VULNS, [{ status: 200, body: '<html>proxy error</html>' }]);
    await assert.rejects(client().getVulnerabilityReport(MANIFEST.hash), (err: unknown) => isPortcullisError(err, 'E_UNREACHABLE') && err.message.includes('unexpected response'));
    clair.script(GET_VULNS, [{ status: 200, body: JSON.stringify({ packages: {} }) }]);
    await assert.rejects(client().getVulnerabilityReport(MANIFEST.hash), (err: unknown) => isPortcullisError(err, 'E_UNREACHABLE') && err.message.includes('manifest_hash'));
  });

  test('index_state and a separate matcher URL', async () => {
    clair.seen = [];
    clair.script('GET /indexer/api/v1/index_state', [{ status: 200, body: JSON.stringify({ state: 'aae368a064d7c5a433d0bf2c4f5554cc' }) }]);
    assert.equal(await client().indexState(), 'aae368a064d7c5a433d0bf2c4f5554cc');
    clair.script(GET_VULNS, [{ status: 200, body: VULN_REPORT }]);
    const other = new FakeClair();
    await other.start();
    try {
      await assert.rejects(new ClairV4Client({ url: clair.url, matcherUrl: other.url }).getVulnerabilityReport(MANIFEST.hash), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
      assert.equal(other.seen.length, 1);
    } finally {
      await other.stop();
    }
  });

  test('PSK auth sends an HS256 JWT Clair can verify', async () => {
    clair.seen = [];
    clair.script('GET /indexer/api/v1/index_state', [{ status: 200, body: JSON.stringify({ state: 's' }) }]);
    const key = Buffer.from('a shared secret of at least 32 bytes!!').toString('base64');
    await client({ psk: { key, issuer: 'portcullis' }, now: () => 1_767_225_600_000 }).indexState();
    const auth = clair.seen[0]?.headers.authorization ?? '';
    const [header, claims, signature] = auth.replace(/^Bearer /, '').split('.');
    assert.ok(header && claims && signature);
    assert.equal(createHmac('sha256', Buffer.from(key, 'base64')).update(`${header}.${claims}`).digest('base64url'), signature);
    assert.deepEqual(JSON.parse(Buffer.from(claims, 'base64url').toString()), { iss: 'portcullis', iat: 1_767_225_600, nbf: 1_767_225_540, exp: 1_767_225_900 });
    assert.equal(clairPskToken({ key, issuer: 'portcullis' }, 1_767_225_600), auth.replace(/^Bearer /, ''));
  });
});

describe('ClairV4Client without a Clair', () => {
  test('an unreachable server is E_UNREACHABLE', async () => {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    await assert.rejects(new ClairV4Client({ url: `http://127.0.0.1:${port}` }).indexState(), (err: unknown) => isPortcullisError(err, 'E_UNREACHABLE') && err.message === `clair-v4: cannot reach http://127.0.0.1:${port}/indexer/api/v1/index_state: ECONNREFUSED`);
  });
});
