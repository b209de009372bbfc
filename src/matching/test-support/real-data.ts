/**
 * Test support for matching against the real data in shared/data: a vulnerability DB built with
 * buildVulnDb from the real feed files, and inventories built around real package databases.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import type { Distro } from '../../domain/distro.js';
import { INVENTORY_SCHEMA, INVENTORY_SCHEMA_VERSION, type Inventory } from '../../domain/inventory.js';
import type { PackageRecord } from '../../domain/package.js';
import { parseReleaseFile } from '../../distro/index.js';
import { alpineSecdbFeed, wolfiSecdbFeed } from '../../feeds/alpine/index.js';
import { debianDlaFeed, debianDsaFeed, debianTrackerFeed } from '../../feeds/debian/index.js';
import { epssFeed, kevFeed, nvdFeed } from '../../feeds/enrichment/index.js';
import { npmSecurityWgFeed } from '../../feeds/npm-security-wg/index.js';
import { osvFeed } from '../../feeds/osv/index.js';
import { redhatCsafFeed, redhatSecurityDataFeed } from '../../feeds/redhat/index.js';
import { rubysecFeed } from '../../feeds/rubysec/index.js';
import type { Feed, FeedFile } from '../../feeds/types.js';
import { ubuntuUctFeed, ubuntuVexFeed } from '../../feeds/ubuntu/index.js';
import { purlFor } from '../../inventory/purl.js';
import { buildVulnDb, openVulnDb, type BuildSummary, type VulnDb } from '../../vulndb/index.js';
import { walkFiles as walk } from '../../../test/support/files.js';


/** The files under shared/data/feeds/<parts> (a folder, walked, or one file), named relative to feeds/. */
export function feedFiles(...parts: string[]): FeedFile[] {
  const root = sharedData('feeds');
  const start = sharedData('feeds', ...parts);
  const paths = statSync(start).isDirectory() ? walk(start) : [start];
  return paths.map((f) => ({ name: f.slice(root.length + 1), bytes: readFileSync(f) }));
}

/** When every feed of the test DB was "fetched". */
export const FETCHED_AT = '2026-11-20T00:00:00.000Z';

/** Every real feed sample, each with the feed that parses it. */
export function realFeedInputs(): { feed: Feed; files: FeedFile[] }[] {
  return [
    { feed: osvFeed, files: feedFiles('osv') },
    { feed: alpineSecdbFeed, files: feedFiles('alpine-secdb') },
    { feed: wolfiSecdbFeed, files: feedFiles('wolfi-secdb') },
    { feed: npmSecurityWgFeed, files: feedFiles('npm-security-wg') },
    { feed: rubysecFeed, files: feedFiles('rubysec') },
    { feed: debianTrackerFeed, files: feedFiles('debian', 'tracker-json') },
    { feed: debianDsaFeed, files: feedFiles('debian', 'DSA-list') },
    { feed: debianDlaFeed, files: feedFiles('debian', 'DLA-list') },
    { feed: ubuntuUctFeed, files: feedFiles('ubuntu', 'uct-active') },
    { feed: ubuntuVexFeed, files: feedFiles('ubuntu', 'vex') },
    { feed: redhatCsafFeed, files: [...feedFiles('rhel', 'csaf'), ...feedFiles('rhel', 'vex')] },
    { feed: redhatSecurityDataFeed, files: feedFiles('rhel', 'security-data-api-cve') },
    { feed: nvdFeed, files: feedFiles('enrichment', 'nvd-cve-2.0-sample.json') },
    { feed: epssFeed, files: feedFiles('enrichment', 'epss-sample.csv') },
    { feed: kevFeed, files: feedFiles('enrichment', 'kev-sample.json') },
  ];
}

/** A real vulnerability DB in a temp folder; `dispose` closes and removes it. */
export interface RealDb {
  db: VulnDb;
  summary: BuildSummary;
  dispose(): void;
}

/** Builds the vulnerability DB from every real feed sample with buildVulnDb and opens it; on failure the temp folder is removed before the error propagates. */
export async function buildRealDb(): Promise<RealDb> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-matching-'));
  const target = join(dir, 'vuln.db');
  let summary: BuildSummary;
  let db: VulnDb;
  try {
    summary = await buildVulnDb(
      target,
      realFeedInputs().map((i) => ({ ...i, source: `test:shared/data/feeds`, fetchedAt: FETCHED_AT })),
      { now: () => new Date('2026-11-21T00:00:00.000Z') },
    );
    db = openVulnDb(target);
  } catch (err) {
    // No RealDb reaches the caller, so nothing else would remove the folder.
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    db,
    summary,
    dispose() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The distribution an os-release (or alpine-release ...) file describes; throws when it describes none. */
export function distroFromFile(imagePath: string, ...parts: string[]): Distro {
  const distro = parseReleaseFile(imagePath, readFileSync(sharedData(...parts), 'utf8'));
  if (distro === undefined) throw new Error(`no distribution in ${parts.join('/')}`);
  return distro;
}

/** A single-layer Inventory holding `records` (each given its purl), as engine I would store it. */
export function inventoryOf(records: PackageRecord[], distro?: Distro, reference = 'test/image:latest'): Inventory {
  const layer = 'sha256:1111111111111111111111111111111111111111111111111111111111111111';
  return {
    schema: INVENTORY_SCHEMA,
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    tool: { name: 'portcullis', version: '0.0.0-test' },
    createdAt: '2026-11-21T00:00:00.000Z',
    image: { reference, transport: 'test' },
    ...(distro ? { distro } : {}),
    layers: [{ index: 0, digest: layer, size: 0, mediaType: 'application/vnd.oci.image.layer.v1.tar', packageCount: records.length, readFrom: 'blob' }],
    packages: records.map((r) => ({ ...r, purl: purlFor(r, distro), layer, layerIndex: 0 })),
    detectors: [],
    warnings: [],
    stats: { layersRead: 1, layersFromCache: 0, bytesRead: 0 },
  };
}
