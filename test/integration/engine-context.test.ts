/**
 * The engine context end to end, every part real: a Docker Distribution registry (Basic auth, and
 * token auth with its token server) holding the real `lang` test image pushed by skopeo, the
 * real-data vulnerability DB, and a real `portcullis serve` process.
 *
 * - The engine's structured logs of a real scan, captured from a plain pino stream (no redaction
 *   configured, so a secret would show): image resolved, every layer read then from the cache,
 *   match done, DB opened; and never the registry password, a token or an Authorization header.
 * - The service refuses local-path references (`dir:`, `oci:`) before touching anything.
 * - The registry refusing the service's credentials answers the API caller 502 E_REGISTRY with the
 *   registry's status, never the caller's own 401.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import * as z from 'zod';
import { serviceEngineContext } from '../../src/engine/context.js';
import { buildRealDb, type RealDb } from '../../src/matching/test-support/real-data.js';
import { scanReference } from '../../src/services/image-scan.js';
import { testImages } from '../harness/images.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { runCli } from '../support/run-cli.js';
import { startServe, type ServeProcess } from '../support/serve.js';

const LogLine = z.looseObject({ msg: z.string(), level: z.number() });
type LogLine = z.infer<typeof LogLine>;

/** A pino logger at debug writing to an array of parsed lines. */
function capturingLogger(): { logger: pino.Logger; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const logger = pino(
    { level: 'debug', base: { service: 'test' } },
    {
      write(line: string) {
        raw.push(line);
        lines.push(LogLine.parse(JSON.parse(line)));
      },
    },
  );
  return { logger, lines, raw };
}

const platform = { os: 'linux', architecture: 'amd64' } as const;

describe('engine logs of a real scan through a registry with credentials', () => {
  const { lang } = testImages().images;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-engine-logs-'));
  const registries: RunningRegistry[] = [];
  let realDb: RealDb;

  before(async () => {
    realDb = await buildRealDb();
    for (const auth of ['basic', 'token'] as const) {
      const registry = await startRegistry({ auth, password: `s3cret-${auth}-Pa55word` });
      registries.push(registry);
      await pushImage(lang.ociReference, `${registry.host}/team/lang:1`, { username: registry.username ?? '', password: registry.password ?? '' });
    }
  });
  after(async () => {
    await Promise.all(registries.map((r) => r.stop()));
    realDb?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const auth of ['basic', 'token'] as const) {
    test(`${auth} auth: image resolved, each layer read then from the cache, match done, DB opened; no secret in any line`, async () => {
      const registry = registries.find((r) => r.auth === auth);
      assert.ok(registry);
      const password = registry.password ?? '';
      const { logger, lines, raw } = capturingLogger();
      const context = serviceEngineContext({ logger, bindings: { job: 'test-job', digest: lang.manifestDigest, backend: 'embedded' }, credentials: { username: registry.username ?? '', password } });
      const scan = () => scanReference({ reference: `${registry.host}/team/lang:1`, image: { platform, insecure: true }, dbPath: realDb.db.path, cache: join(dir, `cache-${auth}`), context });

      const [first] = await scan();
      assert.ok(first && first.report.findings.length > 0, 'lang has findings in the real-data DB');
      const named = (msg: string): LogLine[] => lines.filter((l) => l.msg === msg);

      const resolved = named('image resolved');
      assert.equal(resolved.length, 1);
      assert.equal(resolved[0]?.['digest'], lang.manifestDigest);
      assert.equal(resolved[0]?.['reference'], `${registry.host}/team/lang:1`);
      assert.deepEqual(resolved[0]?.['platform'], { os: 'linux', architecture: 'amd64' });
      // The service context's bindings are on every engine line.
      assert.ok(lines.every((l) => l['backend'] === 'embedded' && l['job'] === 'test-job'));

      const layerDigests = lang.layers.map((l) => l.digest).sort();
      const read = named('layer read');
      assert.deepEqual(read.map((l) => l['digest']).sort(), layerDigests);
      for (const line of read) assert.ok(typeof line['bytes'] === 'number' && typeof line['ms'] === 'number', JSON.stringify(line));
      const match = named('match done');
      assert.equal(match.length, 1);
      assert.equal(match[0]?.['findings'], first.report.findings.length);
      assert.equal(match[0]?.['packages'], first.report.packageCount);
      assert.equal(named('vulnerability DB opened').length, 1);

      lines.length = 0;
      await scan();
      assert.deepEqual(named('layer from cache').map((l) => l['digest']).sort(), layerDigests, 'the second scan reads every layer from the cache');
      assert.equal(named('layer read').length, 0);

      const everything = raw.join('');
      const basic = Buffer.from(`${registry.username ?? ''}:${password}`).toString('base64');
      for (const secret of [password, basic, 'Basic ', 'Bearer ', registry.identityToken ?? password]) assert.ok(!everything.includes(secret), `a log line holds ${secret.slice(0, 6)}...`);
      assert.ok(!/authorization/i.test(everything), 'no Authorization header in any line');
      assert.ok(lines.some((l) => l.msg === 'registry: credentials resolved' && l['credentials'] === 'options'), 'the credential source is logged (by name only)');
    });
  }
});

describe('the service and its registry: local paths refused, upstream refusals are 502', () => {
  const { minbase } = testImages().images;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-upstream-'));
  const wrongPassword = 'not-the-registry-password-7f3a';
  let registry: RunningRegistry;
  let serve: ServeProcess | undefined;
  let scanToken = '';

  const post = async (image: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${serve?.url ?? ''}/api/v1/scans`, { method: 'POST', body: JSON.stringify({ image }), headers: { 'content-type': 'application/json', authorization: `Bearer ${scanToken}` } });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), upstream: z.object({ service: z.string(), status: z.number().optional() }).optional() }) });

  before(async () => {
    registry = await startRegistry({ auth: 'basic' });
    await pushImage(minbase.ociReference, `${registry.host}/team/minbase:1`, { username: registry.username ?? '', password: registry.password ?? '' });
    const env = {
      HOME: dir,
      PORTCULLIS_DATA_DIR: join(dir, 'data'),
      PORTCULLIS_DB: join(dir, 'no-db-needed.db'),
      PORTCULLIS_CACHE_DIR: join(dir, 'cache'),
      PORTCULLIS_REGISTRY_URL: registry.url,
      PORTCULLIS_REGISTRY_USERNAME: registry.username ?? '',
      // The service's configured credentials are wrong: the registry answers it 401.
      PORTCULLIS_REGISTRY_PASSWORD: wrongPassword,
    };
    const created = await runCli(['token', 'create', 'ci-scan', '--scope', 'scan'], { env });
    assert.equal(created.code, 0, created.stderr);
    scanToken = created.stdout.trim();
    serve = await startServe([], env);
  });
  after(async () => {
    await serve?.stop('SIGKILL');
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the registry refusing the service\'s credentials: 502 E_REGISTRY with the registry\'s 401, not the caller\'s 401', async () => {
    const answer = await post('team/minbase:1');
    assert.equal(answer.status, 502, JSON.stringify(answer.body));
    const body = ErrorBody.parse(answer.body);
    assert.equal(body.error.code, 'E_REGISTRY');
    assert.deepEqual(body.error.upstream, { service: 'registry', status: 401 });
    assert.match(body.error.message, /refused the service's own credentials/);
    assert.ok(!(serve?.stderr() ?? '').includes(wrongPassword), 'the configured password never reaches the log');
  });

  for (const [image, transport] of [
    ['dir:/etc', 'dir'],
    [`oci:${minbase.ociReference.replace(/^oci:/, '')}`, 'oci'],
    ['oci-archive:/etc/passwd', 'oci'],
    ['docker-archive:/etc/passwd', 'docker-archive'],
  ] as const) {
    test(`a local-path reference (${image.slice(0, image.indexOf(':'))}:) is refused: 403 E_FORBIDDEN naming the transport, nothing queued`, async () => {
      const answer = await post(image);
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
      const body = ErrorBody.parse(answer.body);
      assert.equal(body.error.code, 'E_FORBIDDEN');
      assert.match(body.error.message, new RegExp(`the ${transport} transport is not allowed`));
      const queue = z.record(z.string(), z.number()).parse(await (await fetch(`${serve?.url ?? ''}/api/v1/queue`, { headers: { authorization: `Bearer ${scanToken}` } })).json());
      assert.equal(Object.values(queue).reduce((a, b) => a + b, 0), 0, `nothing was queued: ${JSON.stringify(queue)}`);
    });
  }
});
