/**
 * The one world every UI test runs against (start it once in a `before()`): a real Docker
 * Distribution registry notifying a real `portcullis serve` (SQLite, the embedded scanner and the
 * dummy backend, so findings have two "found by"), a vulnerability DB built from the real feeds in
 * test/data plus a harness-written OSV feed whose texts carry the XSS corpus, users made with the
 * CLI, and real test images pushed, all scanned before it is handed out.
 *
 * What it holds:
 * - `team/app`: `1.0` and `1.0-again` (the minbase image, one digest), `2.0` (the lang image plus a
 *   hand-made top layer that upgrades libexpat1, so comparing 1.0 -> 2.0 shows a fixed advisory,
 *   the lang image's own findings introduced and the XSS advisories unchanged);
 * - `team/multi:latest`: an OCI index of two one-layer Debian 12 images, linux/amd64 (tar and
 *   libexpat1) and linux/arm64 (tar only), built here from the test images' real dpkg records.
 * - The XSS advisories (`PORTCULLIS-XSS-01`...) affect Debian's `tar` (1.34+dfsg-1.2+deb12u1 in
 *   every image): each payload of test/data/xss/owasp-filter-evasion.txt is an advisory's summary
 *   or a line of its details; their references are `javascript:`, `data:` and attribute-breaking
 *   URLs. The dummy backend also reports PORTCULLIS-XSS-01 on tar (found by both) and one advisory
 *   of its own whose description and link are payloads.
 *
 * Cheap on purpose (CI has 2 cores): the prepared test images' layers are pushed as they are (no
 * image is built), blobs a repository already holds are not uploaded again, and the layers of 1.0
 * and 2.0 are shared, so the scanner reads them once.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as z from 'zod';
import { importFeeds } from '../../src/vulndb/index.js';
import { testImages, type TestImage } from '../harness/images.js';
import { freePort, pushImage, putBlob, putManifest, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { layerTar, sha256 } from '../harness/tiny-image.js';
import { runCli } from './run-cli.js';
import { startServe, type ServeProcess } from './serve.js';
import { sharedData } from './shared-data.js';

/** A local user made with `portcullis user add`. */
export interface UiUser {
  name: string;
  password: string;
  role: 'admin' | 'viewer';
}

/** One platform image of an index. */
export interface UiPlatformImage {
  /** `os/architecture`. */
  platform: string;
  digest: string;
}

/** The images pushed, by repository. */
export interface UiImages {
  /** Every repository pushed, sorted. */
  repositories: string[];
  app: {
    repository: 'team/app';
    /** Tag -> manifest digest (`1.0` and `1.0-again` share one). */
    tags: Record<'1.0' | '1.0-again' | '2.0', string>;
    /** The package `2.0`'s top layer upgrades, and the advisory that upgrade fixes. */
    upgraded: { package: string; from: string; to: string; advisoryId: string };
  };
  multi: {
    repository: 'team/multi';
    tag: 'latest';
    /** The OCI index's digest. */
    digest: string;
    /** Its two platform manifests, amd64 first. */
    children: UiPlatformImage[];
  };
}

/** One harness advisory carrying payloads of the XSS corpus. */
export interface XssAdvisory {
  id: string;
  /** The OSV summary: one payload (the service's `title`). */
  summary: string;
  /** The OSV details: payloads joined by "\n" (the service's `description`, byte for byte). */
  details: string;
  references: string[];
}

/** The running world. */
export interface UiWorld {
  /** The service, `http://127.0.0.1:PORT`. */
  url: string;
  admin: UiUser;
  viewer: UiUser;
  /** A bearer token of scope admin, for API answers to compare pages with. */
  adminToken: string;
  images: UiImages;
  /** The package every XSS advisory affects, as the images hold it. */
  xssPackage: { ecosystem: 'deb'; name: string; version: string };
  xssAdvisoryIds: string[];
  xssAdvisories: XssAdvisory[];
  /**
   * The advisory only the dummy backend reports (on the same tar package): description = the
   * corpus's first payload, link = `data:text/html,<script>...`; the dummy also reports
   * xssAdvisoryIds[0] (link `javascript:...`), so that finding is found by embedded and dummy.
   */
  dummyXssAdvisoryId: string;
  /** Every payload of the corpus, in file order. */
  xssPayloads: string[];
  /** GET `path` on the service with the admin token; the JSON body, or a thrown error for a non-2xx answer. */
  api(path: string): Promise<unknown>;
  /** The service's stderr (JSON log lines) so far, for failure messages. */
  serviceLog(): string;
  /** Stops the service and the registry and removes every file the world made. */
  close(): Promise<void>;
}

const ADMIN: UiUser = { name: 'ui-admin', password: 'ui-admin-password-1', role: 'admin' };
const VIEWER: UiUser = { name: 'ui-viewer', password: 'ui-viewer-password-2', role: 'viewer' };
const NOTIFICATION_TOKEN = 'registry-notifies-portcullis-ui-world';
/** How long pushing and scanning every image may take on a busy 2-core machine. */
const SCAN_DEADLINE_MS = 300_000;

const XSS_PACKAGE = { ecosystem: 'deb', name: 'tar', version: '1.34+dfsg-1.2+deb12u1' } as const;
const UPGRADE = { package: 'libexpat1', source: 'expat', from: '2.5.0-1+deb12u2', to: '2.5.0-1+deb12u3', advisoryId: 'PORTCULLIS-UI-FIXED-1' } as const;
const XSS_ADVISORY_COUNT = 8;
const DUMMY_XSS_ADVISORY_ID = 'PORTCULLIS-DUMMY-XSS-1';
/** CVSS v3.1 vectors giving the XSS advisories a mix of severities (Critical 9.8, High 7.5, Medium 5.3, Low 3.1). */
const VECTORS = [
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N',
  'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N',
];
/** Links a feed could carry that must never become live links. */
const HOSTILE_REFERENCES = [
  'javascript:window.__pwned=1',
  'data:text/html,<script>window.__pwned=1</script>',
  'https://xss.invalid/"onmouseover="window.__pwned=1',
  "https://xss.invalid/'><script>window.__pwned=1</script>",
  'JaVaScRiPt:window.__pwned=1',
  'vbscript:msgbox("XSS")',
];

/** The payloads of test/data/xss/owasp-filter-evasion.txt, one a line. */
export function xssCorpus(): string[] {
  return readFileSync(sharedData('xss', 'owasp-filter-evasion.txt'), 'utf8').split('\n').filter((line) => line !== '');
}

/** Spreads the corpus over the advisories: each takes one payload as summary, an equal share as details. */
function xssAdvisories(payloads: string[]): XssAdvisory[] {
  const summaries = payloads.slice(0, XSS_ADVISORY_COUNT);
  const rest = payloads.slice(XSS_ADVISORY_COUNT);
  const share = Math.ceil(rest.length / XSS_ADVISORY_COUNT);
  return summaries.map((summary, i) => ({
    id: `PORTCULLIS-XSS-${String(i + 1).padStart(2, '0')}`,
    summary,
    details: rest.slice(i * share, (i + 1) * share).join('\n'),
    references: [HOSTILE_REFERENCES[i % HOSTILE_REFERENCES.length] ?? '', `https://security-tracker.debian.org/tracker/source-package/${XSS_PACKAGE.name}`],
  }));
}

/** An OSV record (Debian 12 ecosystem) as a feed would publish it. */
function osvRecord(fields: { id: string; summary: string; details: string; references: string[]; source: string; fixed?: string; vector: string }): string {
  const events: Record<string, string>[] = [{ introduced: '0' }];
  if (fields.fixed !== undefined) events.push({ fixed: fields.fixed });
  return JSON.stringify(
    {
      schema_version: '1.6.0',
      id: fields.id,
      published: '2026-01-15T00:00:00Z',
      modified: '2026-01-15T00:00:00Z',
      summary: fields.summary,
      details: fields.details,
      severity: [{ type: 'CVSS_V3', score: fields.vector }],
      affected: [{ package: { ecosystem: 'Debian:12', name: fields.source }, ranges: [{ type: 'ECOSYSTEM', events }] }],
      references: fields.references.map((url) => ({ type: 'WEB', url })),
    },
    null,
    2,
  );
}

/** Writes the harness's OSV feed: the XSS advisories (half fixable, in a version no image has) and the one 2.0's upgrade fixes. */
function writeHarnessFeed(dir: string, advisories: XssAdvisory[]): void {
  mkdirSync(dir, { recursive: true });
  advisories.forEach((a, i) => {
    const fixed = i % 2 === 0 ? '1.34+dfsg-1.2+deb12u2' : undefined;
    writeFileSync(join(dir, `${a.id}.json`), osvRecord({ ...a, source: XSS_PACKAGE.name, vector: VECTORS[i % VECTORS.length] ?? '', ...(fixed !== undefined ? { fixed } : {}) }));
  });
  writeFileSync(
    join(dir, `${UPGRADE.advisoryId}.json`),
    osvRecord({
      id: UPGRADE.advisoryId,
      summary: `${UPGRADE.source}: made-up advisory of the UI test world, fixed by the upgrade layer of team/app:2.0`,
      details: `Written by test/support/ui-world.ts so that comparing team/app 1.0 with 2.0 shows a fixed finding. ${UPGRADE.package} ${UPGRADE.from} is affected, ${UPGRADE.to} is not.`,
      references: ['https://security-tracker.debian.org/tracker/source-package/expat'],
      source: UPGRADE.source,
      fixed: UPGRADE.to,
      vector: VECTORS[1] ?? '',
    }),
  );
}

/** The dummy backend's fixture: one XSS advisory the embedded scanner also finds, and one only it reports. */
function writeDummyFixture(file: string, payloads: string[], sharedId: string): void {
  const fixture = {
    packageCount: 1,
    packages: [
      {
        name: XSS_PACKAGE.name,
        version: XSS_PACKAGE.version,
        namespace: 'debian:12',
        vulnerabilities: [
          { id: sharedId, severity: 'Medium', link: HOSTILE_REFERENCES[0] },
          { id: DUMMY_XSS_ADVISORY_ID, severity: 'Low', description: payloads[0] ?? '', link: HOSTILE_REFERENCES[1] },
        ],
      },
    ],
  };
  writeFileSync(file, JSON.stringify(fixture, null, 2));
}

// ---- images -------------------------------------------------------------------------------

const descriptorSchema = z.object({ mediaType: z.string(), digest: z.string(), size: z.number() });
const manifestSchema = z.object({ schemaVersion: z.literal(2), mediaType: z.string().optional(), config: descriptorSchema, layers: z.array(descriptorSchema) });
const configSchema = z.looseObject({ rootfs: z.object({ type: z.string(), diff_ids: z.array(z.string()) }), history: z.array(z.looseObject({})).optional() });

function layoutBlob(image: TestImage, digest: string): Buffer {
  return readFileSync(join(image.ociLayout, 'blobs', ...digest.split(':')));
}

/** One dpkg status stanza of a real image's database, by package name. */
function dpkgStanza(status: string, name: string): string {
  const stanza = status.split(/\n\n+/).find((s) => s.startsWith(`Package: ${name}\n`));
  if (stanza === undefined) throw new Error(`ui world: the image's dpkg status has no ${name}`);
  return stanza;
}

/** Uploads a blob unless the repository already has it (HEAD first). */
async function ensureBlob(registry: RunningRegistry, repository: string, digest: string, read: () => Buffer): Promise<void> {
  const head = await fetch(`${registry.url}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return;
  const pushed = await putBlob(registry, repository, read());
  if (pushed !== digest) throw new Error(`ui world: uploaded ${pushed}, expected ${digest}`);
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const CREATED = '2026-01-15T00:00:00Z';

/** Pushes `team/app`: 1.0 with skopeo as a user would, 1.0-again the same manifest bytes, 2.0 = lang + an upgrade layer. */
async function pushApp(registry: RunningRegistry, minbase: TestImage, lang: TestImage): Promise<UiImages['app']> {
  const repository = 'team/app';
  await pushImage(minbase.ociReference, `${registry.host}/${repository}:1.0`);
  const minbaseManifest = layoutBlob(minbase, minbase.manifestDigest);
  await putManifest(registry, repository, '1.0-again', minbaseManifest, OCI_MANIFEST);

  const langManifest = manifestSchema.parse(JSON.parse(layoutBlob(lang, lang.manifestDigest).toString('utf8')));
  const langConfig = configSchema.parse(JSON.parse(layoutBlob(lang, langManifest.config.digest).toString('utf8')));
  const status = readFileSync(join(lang.rootfs, 'var', 'lib', 'dpkg', 'status'), 'utf8');
  const before = dpkgStanza(status, UPGRADE.package);
  if (!before.includes(`\nVersion: ${UPGRADE.from}\n`)) throw new Error(`ui world: ${UPGRADE.package} is not at ${UPGRADE.from} in the lang image`);
  const upgradedStatus = status.replace(before, before.replace(`\nVersion: ${UPGRADE.from}\n`, `\nVersion: ${UPGRADE.to}\n`));
  const tar = await layerTar([{ path: 'var/lib/dpkg/status', content: upgradedStatus }]);
  const layer = gzipSync(tar, { level: 6 });
  const layerDesc = { mediaType: OCI_LAYER, digest: sha256(layer), size: layer.length };
  const config = Buffer.from(
    JSON.stringify({
      ...langConfig,
      rootfs: { type: 'layers', diff_ids: [...langConfig.rootfs.diff_ids, sha256(tar)] },
      history: [...(langConfig.history ?? []), { created: CREATED, created_by: `hand-made layer (UI test world): /var/lib/dpkg/status with ${UPGRADE.package} upgraded ${UPGRADE.from} -> ${UPGRADE.to}` }],
    }),
  );
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length }, layers: [...langManifest.layers, layerDesc] }));
  for (const l of langManifest.layers) await ensureBlob(registry, repository, l.digest, () => layoutBlob(lang, l.digest));
  await ensureBlob(registry, repository, layerDesc.digest, () => layer);
  await ensureBlob(registry, repository, sha256(config), () => config);
  await putManifest(registry, repository, '2.0', manifest, OCI_MANIFEST);
  return { repository, tags: { '1.0': minbase.manifestDigest, '1.0-again': minbase.manifestDigest, '2.0': sha256(manifest) }, upgraded: { package: UPGRADE.package, from: UPGRADE.from, to: UPGRADE.to, advisoryId: UPGRADE.advisoryId } };
}

/** Pushes `team/multi:latest`, an OCI index of two one-layer Debian 12 images made from the minbase image's real records. */
async function pushMulti(registry: RunningRegistry, minbase: TestImage): Promise<UiImages['multi']> {
  const repository = 'team/multi';
  const osRelease = readFileSync(join(minbase.rootfs, 'usr', 'lib', 'os-release'));
  const status = readFileSync(join(minbase.rootfs, 'var', 'lib', 'dpkg', 'status'), 'utf8');
  const platforms = [
    { architecture: 'amd64', packages: [XSS_PACKAGE.name, UPGRADE.package] },
    { architecture: 'arm64', packages: [XSS_PACKAGE.name] },
  ];
  const children: (UiPlatformImage & { size: number })[] = [];
  for (const p of platforms) {
    const stanzas = p.packages.map((name) => dpkgStanza(status, name).replace(/\nArchitecture: \S+/, `\nArchitecture: ${p.architecture}`));
    const tar = await layerTar([
      { path: 'etc/os-release', content: osRelease },
      { path: 'var/lib/dpkg/status', content: `${stanzas.join('\n\n')}\n` },
    ]);
    const layer = gzipSync(tar, { level: 6 });
    const config = Buffer.from(
      JSON.stringify({
        created: CREATED,
        architecture: p.architecture,
        os: 'linux',
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
        rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
        history: [{ created: CREATED, created_by: `hand-made layer (UI test world): os-release and the dpkg records of ${p.packages.join(', ')} from the minbase test image` }],
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length }, layers: [{ mediaType: OCI_LAYER, digest: sha256(layer), size: layer.length }] }),
    );
    await ensureBlob(registry, repository, sha256(layer), () => layer);
    await ensureBlob(registry, repository, sha256(config), () => config);
    const digest = await putManifest(registry, repository, sha256(manifest), manifest, OCI_MANIFEST);
    children.push({ platform: `linux/${p.architecture}`, digest, size: manifest.length });
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c, i) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.size, platform: { os: 'linux', architecture: platforms[i]?.architecture ?? '' } })),
    }),
  );
  await putManifest(registry, repository, 'latest', index, OCI_INDEX);
  return { repository, tag: 'latest', digest: sha256(index), children: children.map(({ platform, digest }) => ({ platform, digest })) };
}

// ---- the service --------------------------------------------------------------------------

const scanStateSchema = z.object({ status: z.enum(['queued', 'scanning', 'scanned', 'failed', 'unsupported']), manifest: z.unknown() });

/** Polls `GET /api/v1/scans/{digest}` until every backend of every image manifest has scanned it. */
async function waitScanned(api: (path: string) => Promise<{ status: number; body: unknown }>, digests: string[], log: () => string): Promise<void> {
  const deadline = Date.now() + SCAN_DEADLINE_MS;
  const pending = new Set(digests);
  let last = '';
  while (pending.size > 0) {
    for (const digest of [...pending]) {
      const answer = await api(`/api/v1/scans/${digest}`);
      if (answer.status === 404) {
        last = `${digest}: not in the catalog yet`;
        continue;
      }
      if (answer.status !== 200) throw new Error(`ui world: GET /api/v1/scans/${digest} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      const state = scanStateSchema.parse(answer.body);
      if (state.status === 'scanned') pending.delete(digest);
      else if (state.status === 'failed' || state.status === 'unsupported') throw new Error(`ui world: the scan of ${digest} ended ${state.status}: ${JSON.stringify(state.manifest)}`);
      else last = `${digest}: ${state.status}`;
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) throw new Error(`ui world: not scanned within ${SCAN_DEADLINE_MS} ms (${last}); service log:\n${log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function cli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  const result = await runCli(args, { env, ...(input !== undefined ? { input } : {}) });
  if (result.code !== 0) throw new Error(`ui world: portcullis ${args.join(' ')} exited ${String(result.code)}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Builds the world (see the module comment); rejects, having cleaned up, when any part fails.
 * Takes tens of seconds: start it once per test file in `before()` and close it in `after()`.
 */
export async function startUiWorld(): Promise<UiWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-ui-world-'));
  let registry: RunningRegistry | undefined;
  let serve: ServeProcess | undefined;
  const close = async (): Promise<void> => {
    await serve?.stop('SIGTERM');
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { minbase, lang } = testImages().images;
    const payloads = xssCorpus();
    const advisories = xssAdvisories(payloads);
    const feedDir = join(dir, 'harness-feed', 'osv');
    writeHarnessFeed(feedDir, advisories);
    const dummyFixture = join(dir, 'dummy.json');
    writeDummyFixture(dummyFixture, payloads, advisories[0]?.id ?? '');
    await importFeeds([sharedData('feeds'), join(dir, 'harness-feed')], { target: join(dir, 'vuln.db') });

    const servePort = await freePort();
    registry = await startRegistry({ notificationsUrl: `http://127.0.0.1:${servePort}/v2/webhooks/events`, notificationHeaders: { Authorization: `Bearer ${NOTIFICATION_TOKEN}` } });
    const env: NodeJS.ProcessEnv = {
      HOME: dir,
      PORTCULLIS_DATA_DIR: join(dir, 'data'),
      PORTCULLIS_CACHE_DIR: join(dir, 'cache'),
      PORTCULLIS_DB: join(dir, 'vuln.db'),
      PORTCULLIS_REGISTRY_URL: registry.url,
      PORTCULLIS_REGISTRY_NOTIFICATION_TOKEN: NOTIFICATION_TOKEN,
      PORTCULLIS_SECURITY_DUMMY_SERVER: `fixture:${dummyFixture}`,
    };
    // The first command creates the app database; the next two may then run side by side.
    await cli(['user', 'add', ADMIN.name, '--admin'], env, `${ADMIN.password}\n`);
    const [, token] = await Promise.all([cli(['user', 'add', VIEWER.name], env, `${VIEWER.password}\n`), cli(['token', 'create', 'ui-tests', '--scope', 'admin'], env)]);
    const adminToken = token.trim();
    serve = await startServe(['--listen', `127.0.0.1:${servePort}`], env);
    const url = serve.url;
    const rawApi = async (path: string): Promise<{ status: number; body: unknown }> => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
    };

    const registryNow = registry;
    const [app, multi] = await Promise.all([pushApp(registryNow, minbase, lang), pushMulti(registryNow, minbase)]);
    const running = serve;
    await waitScanned(rawApi, [app.tags['1.0'], app.tags['2.0'], multi.digest], () => running.stderr());

    return {
      url,
      admin: ADMIN,
      viewer: VIEWER,
      adminToken,
      images: { repositories: [app.repository, multi.repository].sort(), app, multi },
      xssPackage: { ...XSS_PACKAGE },
      xssAdvisoryIds: advisories.map((a) => a.id),
      xssAdvisories: advisories,
      dummyXssAdvisoryId: DUMMY_XSS_ADVISORY_ID,
      xssPayloads: payloads,
      async api(path) {
        const answer = await rawApi(path);
        if (answer.status < 200 || answer.status > 299) throw new Error(`ui world: GET ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        return answer.body;
      },
      serviceLog: () => running.stderr(),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
