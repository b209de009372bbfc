import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyLayout, SAMPLE_LAYERS } from '../harness/tiny-image.js';
import { runCli } from '../support/run-cli.js';
import { sharedData } from '../support/shared-data.js';

/**
 * Clair itself cannot run here (it needs its own PostgreSQL-backed updaters and the network), so
 * this stands in for it: a local HTTP server speaking Clair v4's indexer and matcher API with
 * bodies recorded from the real Clair (api-samples). It does what Clair does with the manifest it
 * is given: fetch every layer from its URI and check the digest, which proves that `scan --clair`
 * serves the layers of a local image correctly.
 */
async function startRecordedClair(): Promise<{ url: string; fetchedLayers: string[]; authorizations: (string | undefined)[]; stop(): Promise<void> }> {
  const vulnerabilityReport = JSON.parse(await readFile(sharedData('api-samples', 'quay', 'vulnerabilityreport.json'), 'utf8')) as Record<string, unknown>;
  const fetchedLayers: string[] = [];
  const authorizations: (string | undefined)[] = [];
  let indexed: string | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        // Clair (Go's router) sees the decoded path, whether the client escaped the ':' or not.
        const url = decodeURIComponent(req.url ?? '');
        if (req.method === 'POST' && url === '/indexer/api/v1/index_report') {
          authorizations.push(req.headers.authorization);
          const manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { hash: string; layers: { hash: string; uri: string }[] };
          for (const layer of manifest.layers) {
            const blob = Buffer.from(await (await fetch(layer.uri)).arrayBuffer());
            const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
            if (digest !== layer.hash) {
              res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'bad-layer', message: `layer ${layer.hash} fetched as ${digest}` }));
              return;
            }
            fetchedLayers.push(layer.hash);
          }
          indexed = manifest.hash;
          res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ manifest_hash: manifest.hash, state: 'IndexFinished', success: true, err: '', packages: {}, distributions: {}, repository: {}, environments: {} }));
        } else if (req.method === 'GET' && indexed && url === `/indexer/api/v1/index_report/${indexed}`) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ manifest_hash: indexed, state: 'IndexFinished', success: true, err: '' }));
        } else if (req.method === 'GET' && indexed && url === `/matcher/api/v1/vulnerability_report/${indexed}`) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...vulnerabilityReport, manifest_hash: indexed }));
        } else {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'not-found', message: 'not found' }));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, fetchedLayers, authorizations, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('portcullis scan --clair (Clair v4 backend)', () => {
  let dir: string;
  let clair: Awaited<ReturnType<typeof startRecordedClair>>;
  let layerDigests: string[];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-clair-'));
    const written = await writeTinyLayout(join(dir, 'layout'), { layers: SAMPLE_LAYERS });
    layerDigests = written.layers.map((l) => l.digest);
    clair = await startRecordedClair();
  });
  after(async () => {
    await clair?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('serves the local layers to Clair, turns its report into findings and gates on them', async () => {
    const report = join(dir, 'clair-report.json');
    const res = await runCli(['scan', `oci:${join(dir, 'layout')}:latest`, '--clair', clair.url, '--ip', '127.0.0.1', '-q', '-r', report]);
    assert.equal(res.code, 1, res.stderr);
    assert.deepEqual(clair.fetchedLayers, layerDigests, 'Clair fetched every layer, in order, with the right bytes');
    const json = JSON.parse(await readFile(report, 'utf8')) as { unapproved: string[]; vulnerabilities: { vulnerability: string; featurename: string; namespace: string }[] };
    assert.ok(json.vulnerabilities.length > 0);
    assert.ok(json.unapproved.length > 0);
    const threshold = await runCli(['scan', `oci:${join(dir, 'layout')}:latest`, '--clair', clair.url, '--ip', '127.0.0.1', '-q', '-t', 'Defcon1']);
    assert.equal(threshold.code, 0, 'the same gate applies to Clair findings');
  });

  test('CLAIR_PSK signs requests with an HS256 JWT as Clair\'s PSK auth expects', async () => {
    const key = Buffer.from('portcullis-test-psk-0123456789').toString('base64');
    const res = await runCli(['scan', `oci:${join(dir, 'layout')}:latest`, '--clair', clair.url, '--ip', '127.0.0.1', '-q'], { env: { CLAIR_PSK: key, CLAIR_PSK_ISSUER: 'ci' } });
    assert.equal(res.code, 1, res.stderr);
    const auth = clair.authorizations.at(-1) ?? '';
    const [, jwt = ''] = /^Bearer (.+)$/.exec(auth) ?? [];
    const [header = '', payload = '', signature = ''] = jwt.split('.');
    const expected = createHmac('sha256', Buffer.from(key, 'base64')).update(`${header}.${payload}`).digest('base64url');
    assert.equal(signature, expected, 'signed with the pre-shared key');
    assert.equal((JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: string }).iss, 'ci');
  });

  test('CLAIR_URL works like --clair; an unreachable Clair is an error (2), not a verdict', async () => {
    const viaEnv = await runCli(['scan', `oci:${join(dir, 'layout')}:latest`, '--ip', '127.0.0.1', '-q'], { env: { CLAIR_URL: clair.url } });
    assert.equal(viaEnv.code, 1, viaEnv.stderr);
    const down = await runCli(['scan', `oci:${join(dir, 'layout')}:latest`, '--clair', 'http://127.0.0.1:1', '--ip', '127.0.0.1', '-q']);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /E_UNREACHABLE/);
  });
});
