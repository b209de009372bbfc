/**
 * The Harbor-adapter backend against a small local stand-in of an adapter (the error paths; the
 * real path, against Portcullis's own adapter route and a real registry, is in
 * test/integration/harbor-adapter.test.ts). The stand-in records what it was sent and answers
 * per behaviour: a good adapter (302 twice, then the report), and every bad answer the backend
 * must turn into a typed failure.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isPortcullisError } from '../../domain/errors.js';
import type { ScanTarget } from '../types.js';
import { HarborAdapterBackend } from './backend.js';
import { HARBOR_MEDIA_TYPES } from './protocol.js';

const DIGEST = `sha256:${'b'.repeat(64)}`;

type Behaviour = 'good' | 'v10-only' | 'no-vulnerability-capability' | 'scan-500' | 'report-500' | 'report-404' | 'non-json' | 'wrong-shape' | 'other-digest' | 'hang' | 'endless-302' | 'metadata-500';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

function metadata(behaviour: Behaviour): unknown {
  const produces = behaviour === 'v10-only' ? [HARBOR_MEDIA_TYPES.vulnReportV10] : [HARBOR_MEDIA_TYPES.vulnReportV10, HARBOR_MEDIA_TYPES.vulnReportV11];
  const capabilities =
    behaviour === 'no-vulnerability-capability'
      ? [{ type: 'sbom', consumes_mime_types: ['application/vnd.oci.image.manifest.v1+json'], produces_mime_types: [HARBOR_MEDIA_TYPES.sbomReport] }]
      : [{ consumes_mime_types: ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'], produces_mime_types: produces }];
  return { scanner: { name: 'Trivy', vendor: 'Aqua Security', version: '0.50.1' }, capabilities, properties: { 'harbor.scanner-adapter/scanner-type': 'os-package-vulnerability' } };
}

function report(digest: string): unknown {
  return {
    generated_at: '2026-12-07T05:00:00Z',
    artifact: { repository: 'team/app', digest, mime_type: 'application/vnd.oci.image.manifest.v1+json' },
    scanner: { name: 'Trivy', vendor: 'Aqua Security', version: '0.50.1' },
    severity: 'High',
    vulnerabilities: [
      { id: 'CVE-2024-0727', package: 'openssl', version: '3.0.11-1~deb12u2', fix_version: '3.0.13-1~deb12u1', severity: 'Medium', links: ['https://avd.aquasec.com/nvd/cve-2024-0727'], preferred_cvss: { score_v3: 5.5, vector_v3: 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H' }, cwe_ids: ['CWE-476'] },
      { id: 'CVE-2023-5678', package: 'openssl', version: '3.0.11-1~deb12u2', severity: 'High', description: 'DH keys' },
      { id: 'CVE-2023-5678', package: 'openssl', version: '3.0.11-1~deb12u2', severity: 'High', description: 'the same, at a second path' },
      { id: 'CVE-2011-3374', package: 'apt', version: '2.6.1', severity: 'Negligible' },
    ],
  };
}

function standIn(): { server: Server; seen: Seen[]; behaviour: Behaviour } {
  const state = { server: undefined as unknown as Server, seen: [] as Seen[], behaviour: 'good' as Behaviour };
  let polls = 0;
  const json = (res: ServerResponse, status: number, type: string, body: unknown): void => {
    res.writeHead(status, { 'content-type': type });
    res.end(JSON.stringify(body));
  };
  state.server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://adapter.invalid').pathname;
      state.seen.push({ method: req.method ?? '', path, headers: req.headers, body });
      const b = state.behaviour;
      if (path === '/api/v1/metadata') {
        if (b === 'metadata-500') return json(res, 500, HARBOR_MEDIA_TYPES.error, { error: { message: 'trivy db not downloaded' } });
        return json(res, 200, HARBOR_MEDIA_TYPES.metadataV10, metadata(b));
      }
      if (path === '/api/v1/scan' && req.method === 'POST') {
        if (b === 'scan-500') return json(res, 500, HARBOR_MEDIA_TYPES.error, { error: { message: 'queue full' } });
        polls = 0;
        return json(res, 202, HARBOR_MEDIA_TYPES.scanResponse, { id: 'job-1' });
      }
      if (path === '/api/v1/scan/job-1/report') {
        polls++;
        if (b === 'hang') return; // never answers
        if (b === 'endless-302' || polls <= 2) {
          res.writeHead(302, { 'refresh-after': '1' });
          res.end();
          return;
        }
        if (b === 'report-500') return json(res, 500, HARBOR_MEDIA_TYPES.error, { error: { message: 'pulling the image failed: unauthorized' } });
        if (b === 'report-404') return json(res, 404, HARBOR_MEDIA_TYPES.error, { error: { message: 'not found' } });
        if (b === 'non-json') {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html>proxy error</html>');
          return;
        }
        if (b === 'wrong-shape') return json(res, 200, HARBOR_MEDIA_TYPES.vulnReportV11, { vulnerabilities: [{ id: 1 }] });
        return json(res, 200, req.headers.accept ?? '', report(b === 'other-digest' ? `sha256:${'c'.repeat(64)}` : DIGEST));
      }
      json(res, 404, HARBOR_MEDIA_TYPES.error, { error: { message: 'no such route' } });
    });
  });
  return state;
}

const target: ScanTarget = {
  repository: 'team/app',
  digest: DIGEST,
  tags: ['1.0'],
  registry: {
    reference: `registry.test:5000/team/app@${DIGEST}`,
    imageOptions: { insecure: true },
    layers: () => Promise.resolve([{ digest: `sha256:${'d'.repeat(64)}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10, url: `http://registry.test:5000/v2/team/app/blobs/sha256:${'d'.repeat(64)}` }]),
    authorization: () => Promise.resolve('Bearer pull-token'),
  },
};

describe('Harbor adapter backend against a stand-in adapter', () => {
  const adapter = standIn();
  let url = '';
  const backend = (timeoutMs = 5_000): HarborAdapterBackend => new HarborAdapterBackend({ name: 'trivy', url, auth: 'Bearer adapter-secret', timeoutMs, requestTimeoutMs: Math.min(timeoutMs, 1_000), maxPollWaitMs: 20 });

  before(async () => {
    adapter.server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => adapter.server.once('listening', resolve));
    url = `http://127.0.0.1:${(adapter.server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    adapter.server.closeAllConnections();
    await new Promise<void>((resolve) => adapter.server.close(() => resolve()));
  });

  test('a good adapter: scan request as the spec says, 302s honoured, per-package findings of the v1.1 report', async () => {
    adapter.behaviour = 'good';
    adapter.seen.length = 0;
    const out = await backend().scan(target, new AbortController().signal);
    const post = adapter.seen.find((s) => s.method === 'POST');
    assert.equal(post?.headers['content-type'], HARBOR_MEDIA_TYPES.scanRequestV10);
    assert.equal(post?.headers.authorization, 'Bearer adapter-secret');
    assert.deepEqual(JSON.parse(post?.body ?? '{}'), {
      registry: { url: 'http://registry.test:5000', authorization: 'Bearer pull-token' },
      artifact: { repository: 'team/app', digest: DIGEST, tag: '1.0', mime_type: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const gets = adapter.seen.filter((s) => s.path.endsWith('/report'));
    assert.equal(gets.length, 3, 'asked again after each 302');
    assert.ok(gets.every((g) => g.headers.accept === HARBOR_MEDIA_TYPES.vulnReportV11), 'v1.1 preferred');
    assert.deepEqual(
      out.packages.map((p) => `${p.name}@${p.version}: ${p.vulnerabilities.map((v) => `${v.id}/${v.severity}/${v.fixedBy ?? '-'}`).join(' ')}`),
      ['apt@2.6.1: CVE-2011-3374/Negligible/-', 'openssl@3.0.11-1~deb12u2: CVE-2024-0727/Medium/3.0.13-1~deb12u1 CVE-2023-5678/High/-'],
    );
    const cve = out.packages[1]?.vulnerabilities[0];
    assert.equal(cve?.link, 'https://avd.aquasec.com/nvd/cve-2024-0727');
    assert.deepEqual(cve?.metadata, { preferred_cvss: { score_v3: 5.5, vector_v3: 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H' }, cwe_ids: ['CWE-476'] });
  });

  test('an adapter that makes only v1.0 reports is asked for v1.0; health names the scanner', async () => {
    adapter.behaviour = 'v10-only';
    adapter.seen.length = 0;
    await backend().scan(target, new AbortController().signal);
    assert.ok(adapter.seen.filter((s) => s.path.endsWith('/report')).every((g) => g.headers.accept === HARBOR_MEDIA_TYPES.vulnReportV10));
    assert.deepEqual(await backend().health(), { ok: true, detail: `Trivy 0.50.1 (Aqua Security): ${HARBOR_MEDIA_TYPES.vulnReportV10}` });
    adapter.behaviour = 'metadata-500';
    const sick = await backend().health();
    assert.equal(sick.ok, false);
    assert.match(sick.detail, /harbor-trivy: GET \/metadata answered 500: trivy db not downloaded/);
    assert.ok(!sick.detail.includes('adapter-secret'));
  });

  const failures: [Behaviour, string, RegExp][] = [
    ['no-vulnerability-capability', 'E_UNSUPPORTED', /makes no vulnerability report Portcullis reads/],
    ['scan-500', 'E_INTERNAL', /POST \/scan answered 500: queue full/],
    ['report-500', 'E_INTERNAL', /GET \/scan\/job-1\/report answered 500: pulling the image failed: unauthorized/],
    ['report-404', 'E_INTERNAL', /answered 404: the adapter no longer knows the scan request/],
    ['non-json', 'E_INTERNAL', /answered 200 with a body that is not JSON: <html>proxy error<\/html>/],
    ['wrong-shape', 'E_INTERNAL', /unexpected answer: at vulnerabilities\[0\]\.id/],
    ['other-digest', 'E_INTERNAL', new RegExp(`a report for sha256:c{64}, not ${DIGEST}`)],
    ['hang', 'E_UNREACHABLE', /no complete answer within 1 s|no report for/],
    ['endless-302', 'E_UNREACHABLE', /harbor-trivy: no report for sha256:b{64} within 1\.5 s/],
  ];
  for (const [behaviour, code, message] of failures) {
    test(`${behaviour}: the scan fails with ${code}, never an empty result`, async () => {
      adapter.behaviour = behaviour;
      await assert.rejects(backend(1_500).scan(target, new AbortController().signal), (err: unknown) => {
        assert.ok(isPortcullisError(err, code as 'E_INTERNAL'), `${String(err)}`);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('adapter-secret') && !err.message.includes('pull-token'), 'no secret in the reason');
        return true;
      });
    });
  }

  test('the job aborted mid-poll: its reason, not a backend failure', async () => {
    adapter.behaviour = 'endless-302';
    const job = new AbortController();
    const reason = new Error('worker stopping');
    setTimeout(() => job.abort(reason), 50);
    await assert.rejects(backend(60_000).scan(target, job.signal), (err: unknown) => err === reason);
  });
});
