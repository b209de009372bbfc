/**
 * Test harness: a stand-in for a Clair v4 server in combined mode (indexer, matcher, notifier on one
 * port), behaving as quay/clair's httptransport does:
 *
 * - every request must carry `Authorization: Bearer <JWT>` signed HS256 with the PSK (checked here
 *   by hand, independently of the code under test); otherwise 401 `{code, message}`;
 * - `POST /indexer/api/v1/index_report` checks the Manifest shape (`hash`, non-empty `layers`, each
 *   with `hash`, `uri`, `headers` as a map of string lists; else 400 "bogus manifest"), answers 412
 *   when `If-None-Match` names the current indexer state (Clair compares the state only), else
 *   FETCHES every layer `uri` with the given headers from the real registry, checks each blob's
 *   SHA-256 against the layer hash (a failed fetch or a mismatch is an IndexError report, as Clair's
 *   fetcher reports it) and answers 201 with the IndexReport, `ETag: "<state>"` and `Location`;
 * - `GET /matcher/api/v1/vulnerability_report/{digest}`: 404 until indexed, then the report.
 *
 * The reports' content is derived from the pushed image itself: the packages are those of the
 * dpkg status database inside the fetched layers and the distribution is the image's os-release;
 * the shape follows Clair's openapi and the recorded real report
 * (test/data/api-samples/quay/vulnerabilityreport.json, whose first vulnerability record is the
 * template of each vulnerability here). The vulnerabilities are this stand-in's own small
 * database (synthetic CVE-0000-2xxx ids on real packages of the image), which a test can update
 * with `publish()`: like Clair's notifier, that creates a notification for each indexed manifest
 * holding the package and POSTs `{notification_id, callback}` to the webhook target, signed with
 * the PSK (issuer `clair-notifier`); the notification is served in pages of `pageSize` at
 * `GET /notifier/api/v1/notification/{id}?next=` and removed by `DELETE`.
 *
 * `behaviour` makes it misbehave for bad-input tests.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { sharedData } from '../support/shared-data.js';

export type ClairV4Behaviour = 'clair' | 'never-finishes' | 'no-answer' | 'stalled-body' | 'status-500' | 'non-json' | 'wrong-shape' | 'other-digest';

/** One request the stand-in received. */
export interface ClairV4Request {
  method: string;
  path: string;
  ifNoneMatch?: string;
  status: number;
}

/** A vulnerability of the stand-in's database, on a binary package name. */
export interface StandInVulnerability {
  name: string;
  packageName: string;
  normalizedSeverity: 'Unknown' | 'Negligible' | 'Low' | 'Medium' | 'High' | 'Critical';
  /** The source's own word (Debian's urgency). */
  severity: string;
  fixedInVersion: string;
}

export interface FakeClairV4 {
  url: string;
  /** The indexer state (the ETag is it, quoted). */
  state: string;
  requests: ClairV4Request[];
  /** Layers fetched during indexing: their URI, the registry's status, and whether the bytes matched the hash. */
  layerFetches: { uri: string; status: number; digestMatches: boolean }[];
  /** Requests refused for a missing or bad PSK JWT. */
  unauthenticated: number;
  /** Notifications deleted by a client. */
  deleted: string[];
  /** Adds vulnerabilities; notifies `webhook` (signed) for the indexed manifests they affect, plus `extraManifests`. Returns the webhook's status. */
  publish(vulnerabilities: StandInVulnerability[], webhook: string, extraManifests?: string[]): Promise<{ notificationId: string; status: number; body: string }>;
  stop(): Promise<void>;
}

interface IndexedManifest {
  layers: string[];
  packages: { name: string; version: string; source: string; arch: string; layer: string }[];
  osRelease: Record<string, string>;
}

interface Notification {
  id: string;
  manifest: string;
  reason: string;
  vulnerability: Record<string, string>;
}

const INITIAL_VULNERABILITIES: StandInVulnerability[] = [
  { name: 'CVE-0000-2001', packageName: 'zlib1g', normalizedSeverity: 'High', severity: 'high', fixedInVersion: '1:1.2.13.dfsg-1+deb12u9' },
  { name: 'CVE-0000-2002', packageName: 'libtinfo6', normalizedSeverity: 'Low', severity: 'unimportant', fixedInVersion: '' },
];

/** Starts the stand-in on a free 127.0.0.1 port. */
export async function startFakeClairV4(options: { psk: { key: string }; behaviour?: ClairV4Behaviour; pageSize?: number }): Promise<FakeClairV4> {
  const behaviour = options.behaviour ?? 'clair';
  const pageSize = options.pageSize ?? 500;
  const recorded = JSON.parse(readFileSync(sharedData('api-samples', 'quay', 'vulnerabilityreport.json'), 'utf8')) as { vulnerabilities: Record<string, Record<string, unknown>> };
  const template = Object.values(recorded.vulnerabilities)[0] ?? {};
  const state = createHash('md5').update('portcullis clair-v4 stand-in scanners').digest('hex');
  const indexed = new Map<string, IndexedManifest>();
  const vulnerabilities = [...INITIAL_VULNERABILITIES];
  const notifications = new Map<string, Notification[]>();
  const requests: ClairV4Request[] = [];
  const layerFetches: FakeClairV4['layerFetches'] = [];
  const deleted: string[] = [];
  const stalled = new Set<ServerResponse>();
  let unauthenticated = 0;

  const send = (res: ServerResponse, log: ClairV4Request, status: number, body?: unknown, headers: Record<string, string> = {}): void => {
    log.status = status;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };

  const authorized = (req: IncomingMessage): boolean => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const [header, claims, signature] = (m?.[1] ?? '').split('.');
    if (header === undefined || claims === undefined || signature === undefined) return false;
    const expected = createHmac('sha256', Buffer.from(options.psk.key, 'base64')).update(`${header}.${claims}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    const exp = (JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { exp?: number }).exp;
    return typeof exp === 'number' && exp + 60 >= Date.now() / 1000;
  };

  const indexReport = (digest: string, finished: IndexedManifest | undefined, err = ''): Record<string, unknown> => {
    const body = finished ? reportBody(digest, finished, undefined) : {};
    return { manifest_hash: digest, state: err !== '' ? 'IndexError' : behaviour === 'never-finishes' ? 'FetchLayers' : 'IndexFinished', ...body, success: err === '' && behaviour !== 'never-finishes', err };
  };

  /** The IndexReport's maps (and, with vulnerabilities, the VulnerabilityReport's) for one manifest. */
  const reportBody = (digest: string, m: IndexedManifest, vulns: StandInVulnerability[] | undefined): Record<string, unknown> => {
    const distribution = { id: '1', did: m.osRelease.ID ?? '', name: m.osRelease.NAME ?? '', version: m.osRelease.VERSION ?? '', version_code_name: m.osRelease.VERSION_CODENAME ?? '', version_id: m.osRelease.VERSION_ID ?? '', arch: '', cpe: '', pretty_name: m.osRelease.PRETTY_NAME ?? '' };
    const packages: Record<string, unknown> = {};
    const environments: Record<string, unknown> = {};
    const vulnerabilityRecords: Record<string, unknown> = {};
    const packageVulnerabilities: Record<string, string[]> = {};
    m.packages.forEach((p, i) => {
      const id = String(100 + i);
      packages[id] = { id, name: p.name, version: p.version, kind: 'binary', source: { id: String(5000 + i), name: p.source, version: p.version, kind: 'source' }, arch: p.arch, normalized_version: '', module: '' };
      environments[id] = [{ package_db: 'var/lib/dpkg/status', introduced_in: p.layer, distribution_id: '1', repository_ids: null }];
      (vulns ?? []).forEach((v, j) => {
        if (v.packageName !== p.name) return;
        const vulnId = String(9000 + j);
        vulnerabilityRecords[vulnId] = {
          ...template,
          id: vulnId,
          updater: `debian/updater/${distribution.version_code_name}`,
          name: v.name,
          description: `${v.name} in ${p.source} (stand-in record)`,
          links: `https://security-tracker.debian.org/tracker/${v.name}`,
          severity: v.severity,
          normalized_severity: v.normalizedSeverity,
          package: { id: '', name: p.source, version: '', kind: 'binary' },
          distribution,
          repository: null,
          fixed_in_version: v.fixedInVersion,
          arch_op: '',
        };
        (packageVulnerabilities[id] ??= []).push(vulnId);
      });
    });
    return { manifest_hash: digest, packages, distributions: { '1': distribution }, repository: {}, environments, ...(vulns !== undefined ? { vulnerabilities: vulnerabilityRecords, package_vulnerabilities: packageVulnerabilities, enrichments: {} } : {}) };
  };

  const postIndex = async (req: IncomingMessage, res: ServerResponse, log: ClairV4Request): Promise<void> => {
    let manifest: unknown;
    try {
      manifest = JSON.parse(await readBody(req)) as unknown;
    } catch (err) {
      return send(res, log, 400, { code: 'bad-request', message: `failed to deserialize manifest: ${String(err)}` });
    }
    const parsed = manifestShape(manifest);
    if (parsed === undefined) return send(res, log, 400, { code: 'bad-request', message: 'bogus manifest' });
    const headers = { etag: `"${state}"`, location: `/indexer/api/v1/index_report/${parsed.hash}` };
    if (log.ifNoneMatch === `"${state}"`) return send(res, log, 412, undefined, headers);
    const found: IndexedManifest = { layers: parsed.layers.map((l) => l.hash), packages: [], osRelease: {} };
    if (behaviour === 'never-finishes') {
      // A Clair still busy fetching: the report stays in FetchLayers however long the client waits.
      indexed.set(parsed.hash, found);
      return send(res, log, 201, indexReport(parsed.hash, found), headers);
    }
    for (const layer of parsed.layers) {
      let bytes: Buffer;
      try {
        const blob = await fetch(layer.uri, { headers: Object.fromEntries(Object.entries(layer.headers).map(([k, v]) => [k, v.join(', ')])) });
        bytes = Buffer.from(await blob.arrayBuffer());
        const digestMatches = `sha256:${createHash('sha256').update(bytes).digest('hex')}` === layer.hash;
        layerFetches.push({ uri: layer.uri, status: blob.status, digestMatches });
        if (blob.status !== 200) return send(res, log, 201, indexReport(parsed.hash, undefined, `fetcher: ${layer.hash}: unexpected status code: ${blob.status}`), headers);
        if (!digestMatches) return send(res, log, 201, indexReport(parsed.hash, undefined, `fetcher: ${layer.hash}: digest mismatch`), headers);
      } catch (err) {
        return send(res, log, 201, indexReport(parsed.hash, undefined, `fetcher: ${layer.hash}: ${String(err)}`), headers);
      }
      await readLayer(bytes, layer.hash, found);
    }
    indexed.set(parsed.hash, found);
    send(res, log, 201, indexReport(parsed.hash, found), headers);
  };

  const misbehave = (res: ServerResponse, log: ClairV4Request): boolean => {
    switch (behaviour) {
      case 'no-answer':
        stalled.add(res);
        return true;
      case 'stalled-body':
        log.status = 200;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"manifest_hash":"');
        stalled.add(res);
        return true;
      case 'status-500':
        send(res, log, 500, { code: 'internal-error', message: 'could not retrieve indexer state: database unavailable' });
        return true;
      default:
        return false;
    }
  };

  const vulnerabilityReport = (digest: string, res: ServerResponse, log: ClairV4Request): void => {
    const m = indexed.get(digest);
    if (m === undefined) return send(res, log, 404, { code: 'not-found', message: `index report for manifest "${digest}" not found` });
    if (behaviour === 'non-json') {
      log.status = 200;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
      return;
    }
    if (behaviour === 'wrong-shape') return send(res, log, 200, { manifest_hash: digest, packages: 'none', vulnerabilities: [] });
    const answeredFor = behaviour === 'other-digest' ? `sha256:${'0'.repeat(64)}` : digest;
    send(res, log, 200, reportBody(answeredFor, m, vulnerabilities));
  };

  const notificationPage = (id: string, url: URL, res: ServerResponse, log: ClairV4Request): void => {
    const all = notifications.get(id);
    if (all === undefined) return send(res, log, 404, { code: 'not-found', message: `notification ${id} not found` });
    const start = Number(url.searchParams.get('next') ?? '0');
    const page = all.slice(start, start + pageSize);
    const next = start + pageSize < all.length ? String(start + pageSize) : undefined;
    send(res, log, 200, { page: { size: pageSize, ...(next !== undefined ? { next } : {}) }, notifications: page });
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://clair.invalid');
    const path = decodeURIComponent(url.pathname);
    const log: ClairV4Request = { method: req.method ?? '', path: `${path}${url.search}`, status: 0, ...(typeof req.headers['if-none-match'] === 'string' ? { ifNoneMatch: req.headers['if-none-match'] } : {}) };
    requests.push(log);
    if (!authorized(req)) {
      unauthenticated++;
      return send(res, log, 401, { code: 'unauthorized', message: 'missing or invalid PSK JWT' });
    }
    if (misbehave(res, log)) return;
    const notification = /^\/notifier\/api\/v1\/notification\/([^/]+)$/.exec(path)?.[1];
    if (req.method === 'POST' && path === '/indexer/api/v1/index_report') {
      postIndex(req, res, log).catch((err: unknown) => send(res, log, 500, { code: 'internal-error', message: String(err) }));
    } else if (req.method === 'GET' && path.startsWith('/indexer/api/v1/index_report/')) {
      const digest = path.slice('/indexer/api/v1/index_report/'.length);
      const m = indexed.get(digest);
      if (m === undefined) return send(res, log, 404, { code: 'not-found', message: `index report for manifest "${digest}" not found` });
      send(res, log, 200, indexReport(digest, m), { etag: `"${state}"` });
    } else if (req.method === 'GET' && path === '/indexer/api/v1/index_state') {
      send(res, log, 200, { state }, { etag: `"${state}"` });
    } else if (req.method === 'GET' && path.startsWith('/matcher/api/v1/vulnerability_report/')) {
      vulnerabilityReport(path.slice('/matcher/api/v1/vulnerability_report/'.length), res, log);
    } else if (req.method === 'GET' && notification !== undefined) {
      notificationPage(notification, url, res, log);
    } else if (req.method === 'DELETE' && notification !== undefined) {
      if (!notifications.delete(notification)) return send(res, log, 404, { code: 'not-found', message: `notification ${notification} not found` });
      deleted.push(notification);
      send(res, log, 200);
    } else {
      send(res, log, 404, { code: 'not-found', message: 'the resource cannot be found' });
    }
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    state,
    requests,
    layerFetches,
    get unauthenticated() {
      return unauthenticated;
    },
    deleted,
    async publish(added, webhook, extraManifests = []) {
      vulnerabilities.push(...added);
      const id = randomUUID();
      const entries: Notification[] = [];
      for (const [digest, m] of indexed) {
        for (const v of added) {
          if (!m.packages.some((p) => p.name === v.packageName)) continue;
          entries.push({ id: String(entries.length + 1), manifest: digest, reason: 'added', vulnerability: { name: v.name, fixed_in_version: v.fixedInVersion, links: '', description: '', normalized_severity: v.normalizedSeverity } });
        }
      }
      for (const digest of extraManifests) entries.push({ id: String(entries.length + 1), manifest: digest, reason: 'added', vulnerability: { name: added[0]?.name ?? '', fixed_in_version: '', links: '', description: '', normalized_severity: 'Unknown' } });
      notifications.set(id, entries);
      const answer = await fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${notifierToken(options.psk.key)}` },
        body: JSON.stringify({ notification_id: id, callback: `${url}/notifier/api/v1/notification/${id}` }),
      });
      return { notificationId: id, status: answer.status, body: await answer.text() };
    },
    stop: async () => {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The JWT Clair's notifier signs its webhook with (issuer clair-notifier, one minute either side). */
export function notifierToken(key: string, issuer = 'clair-notifier'): string {
  const now = Math.floor(Date.now() / 1000);
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const claims = Buffer.from(JSON.stringify({ iss: issuer, iat: now, nbf: now - 60, exp: now + 60 })).toString('base64url');
  const signature = createHmac('sha256', Buffer.from(key, 'base64')).update(`${header}.${claims}`).digest('base64url');
  return `${header}.${claims}.${signature}`;
}

function manifestShape(doc: unknown): { hash: string; layers: { hash: string; uri: string; headers: Record<string, string[]> }[] } | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const { hash, layers } = doc as { hash?: unknown; layers?: unknown };
  if (typeof hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(hash) || !Array.isArray(layers) || layers.length === 0) return undefined;
  const out: { hash: string; uri: string; headers: Record<string, string[]> }[] = [];
  for (const layer of layers as unknown[]) {
    if (typeof layer !== 'object' || layer === null) return undefined;
    const l = layer as { hash?: unknown; uri?: unknown; headers?: unknown };
    if (typeof l.hash !== 'string' || typeof l.uri !== 'string' || typeof l.headers !== 'object' || l.headers === null) return undefined;
    const headers = l.headers as Record<string, unknown>;
    if (!Object.values(headers).every((v) => Array.isArray(v) && v.every((x) => typeof x === 'string'))) return undefined;
    out.push({ hash: l.hash, uri: l.uri, headers: headers as Record<string, string[]> });
  }
  return { hash, layers: out };
}

/** Reads the dpkg status database and os-release of one layer (a later layer's copy replaces an earlier one's). */
async function readLayer(bytes: Buffer, layerHash: string, into: IndexedManifest): Promise<void> {
  const tar = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  const files = new Map<string, string>();
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const name = header.name.replace(/^\.?\//, '');
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        if (Buffer.isBuffer(c) && (name === 'var/lib/dpkg/status' || name === 'usr/lib/os-release' || name === 'etc/os-release')) chunks.push(c);
      });
      stream.on('end', () => {
        if (chunks.length > 0) files.set(name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(tar);
  await done;
  const osRelease = files.get('etc/os-release') ?? files.get('usr/lib/os-release');
  if (osRelease !== undefined) {
    into.osRelease = Object.fromEntries([...osRelease.matchAll(/^([A-Z_]+)="?([^"\n]*)"?$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
  }
  const status = files.get('var/lib/dpkg/status');
  if (status === undefined) return;
  const before = new Map(into.packages.map((p) => [`${p.name}:${p.arch}`, p]));
  const packages: IndexedManifest['packages'] = [];
  for (const stanza of status.split(/\n\n+/)) {
    const field = (key: string): string => new RegExp(`^${key}: (.*)$`, 'm').exec(stanza)?.[1]?.trim() ?? '';
    if (!/ installed$/.test(field('Status'))) continue;
    const name = field('Package');
    const arch = field('Architecture');
    const version = field('Version');
    const previous = before.get(`${name}:${arch}`);
    packages.push({ name, version, arch, source: (field('Source').split(' ')[0] ?? '') || name, layer: previous !== undefined && previous.version === version ? previous.layer : layerHash });
  }
  into.packages = packages;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
