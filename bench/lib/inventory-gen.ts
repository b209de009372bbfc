/**
 * Generated inventories for the matching benchmark: a Debian 12 image with npm and PyPI packages.
 * A share of the packages carry names the DB itself has statements about (read from its
 * `affected` table), with versions taken around those statements' range events (a fixed version,
 * an introduced or listed one) so that a realistic part of them is affected; the rest are names no
 * feed knows, with plausible versions, as most of a real image is.
 */
import Database from 'better-sqlite3';
import type { AffectedPackage } from '../../src/domain/advisory.js';
import type { Distro } from '../../src/domain/distro.js';
import { INVENTORY_SCHEMA, INVENTORY_SCHEMA_VERSION, type Inventory } from '../../src/domain/inventory.js';
import type { Ecosystem, InventoryPackage, PackageRecord } from '../../src/domain/package.js';
import { purlFor } from '../../src/inventory/purl.js';
import { openVulnDb, packageKey, type VulnDb } from '../../src/vulndb/index.js';
import { rng, type Rng } from './random.js';

export const BENCH_DISTRO: Distro = { id: 'debian', versionId: '12', versionCodename: 'bookworm', name: 'Debian GNU/Linux', source: 'etc/os-release' };

/** Share of each package kind in a generated inventory. */
const MIX: { ecosystem: Ecosystem; namespace: string; share: number }[] = [
  { ecosystem: 'deb', namespace: 'debian:12', share: 0.12 },
  { ecosystem: 'npm', namespace: 'npm', share: 0.6 },
  { ecosystem: 'pypi', namespace: 'PyPI', share: 0.28 },
];

/** Share of packages whose name the DB has statements about. */
const KNOWN_SHARE = 0.4;

/** Names and statements the generator draws from, read once per DB. */
export interface NamePools {
  /** Per ecosystem: names the DB knows (for deb, source names of any Debian release). */
  known: Map<Ecosystem, string[]>;
  /** Per ecosystem: candidate versions per name (from range events and `versions`). */
  versions: Map<Ecosystem, Map<string, string[]>>;
}

function candidateVersions(a: AffectedPackage): string[] {
  const out: string[] = [];
  for (const r of a.ranges) {
    if (r.type === 'GIT') continue;
    for (const e of r.events) {
      const v = 'introduced' in e ? e.introduced : 'fixed' in e ? e.fixed : 'last_affected' in e ? e.last_affected : undefined;
      if (v !== undefined && v !== '0') out.push(v);
    }
  }
  return [...out, ...a.versions.slice(0, 8)];
}

/** Reads the name pools of a vulnerability DB (its own affected package names and their range events). */
export function namePools(dbPath: string): NamePools {
  const raw = new Database(dbPath, { readonly: true });
  const known = new Map<Ecosystem, string[]>();
  try {
    for (const { ecosystem, namespace } of MIX) {
      const rows =
        ecosystem === 'deb'
          ? (raw.prepare("SELECT DISTINCT package_key AS k FROM affected WHERE ecosystem = 'deb' AND namespace LIKE 'debian:%' ORDER BY k").all() as { k: string }[])
          : (raw.prepare('SELECT DISTINCT package_key AS k FROM affected WHERE ecosystem = ? AND namespace = ? ORDER BY k').all(ecosystem, namespace) as { k: string }[]);
      known.set(
        ecosystem,
        rows.map((r) => r.k),
      );
    }
  } finally {
    raw.close();
  }
  const db: VulnDb = openVulnDb(dbPath);
  const versions = new Map<Ecosystem, Map<string, string[]>>();
  try {
    for (const { ecosystem, namespace } of MIX) {
      const byName = new Map<string, string[]>();
      const names = known.get(ecosystem) ?? [];
      const namespaces = ecosystem === 'deb' ? db.namespaces('deb').filter((n) => n.startsWith('debian:')) : [namespace];
      for (const ns of namespaces) {
        for (let i = 0; i < names.length; i += 5000) {
          for (const m of db.affectedFor(ecosystem, ns, names.slice(i, i + 5000))) {
            const key = packageKey(ecosystem, m.affected.packageName);
            const list = byName.get(key) ?? [];
            if (list.length < 24) list.push(...candidateVersions(m.affected));
            byName.set(key, list);
          }
        }
      }
      versions.set(ecosystem, byName);
    }
  } finally {
    db.close();
  }
  return { known, versions };
}

function randomVersion(ecosystem: Ecosystem, r: Rng): string {
  const [a, b, c] = [r.skewed(10), r.int(0, 25), r.int(0, 15)];
  switch (ecosystem) {
    case 'deb': {
      const epoch = r.chance(0.1) ? `${r.int(1, 2)}:` : '';
      const rev = r.chance(0.3) ? `-${r.int(1, 5)}+deb12u${r.int(1, 3)}` : `-${r.int(1, 9)}`;
      return `${epoch}${a}.${b}.${c}${rev}`;
    }
    case 'pypi':
      return r.chance(0.3) ? `${a}.${b}` : `${a}.${b}.${c}`;
    default:
      return `${a}.${b}.${c}`;
  }
}

function pathFor(ecosystem: Ecosystem, name: string, version: string, i: number): string {
  switch (ecosystem) {
    case 'deb':
      return 'var/lib/dpkg/status';
    case 'npm':
      return i % 3 === 0 ? `usr/lib/node_modules/npm/node_modules/${name}/package.json` : `app/node_modules/${i % 5 === 0 ? `dep${i}/node_modules/` : ''}${name}/package.json`;
    default:
      return `usr/local/lib/python3.11/site-packages/${name.replace(/-/g, '_')}-${version}.dist-info/METADATA`;
  }
}

/**
 * An inventory of exactly `size` packages drawn from `pools` (seeded: the same arguments give the
 * same inventory). An empty pool only means every package of that kind gets an unknown name.
 */
export function generateInventory(pools: NamePools, size: number, seed: number, reference = `bench/generated:${seed}`): Inventory {
  const r = rng(seed);
  const layer = `sha256:${seed.toString(16).padStart(64, '0')}`;
  const packages: InventoryPackage[] = [];
  let i = 0;
  for (const [k, { ecosystem, share }] of MIX.entries()) {
    const n = k === MIX.length - 1 ? size - packages.length : Math.round(size * share);
    const known = pools.known.get(ecosystem) ?? [];
    const versions = pools.versions.get(ecosystem) ?? new Map<string, string[]>();
    for (let j = 0; j < n; j++, i++) {
      let name: string;
      let version: string;
      if (known.length > 0 && r.chance(KNOWN_SHARE)) {
        // Uniform over the names the DB knows: an image's packages are not chosen by how many
        // advisories they have (a skewed draw would pile up the most-advised names).
        name = r.pick(known);
        const candidates = versions.get(name) ?? [];
        version = candidates.length > 0 && r.chance(0.75) ? r.pick(candidates) : randomVersion(ecosystem, r);
      } else {
        name = ecosystem === 'deb' ? `bench-tool${r.int(0, 20000)}` : ecosystem === 'npm' ? `bench-unknown-${r.int(0, 200000)}` : `bench_unknown_${r.int(0, 100000)}`;
        version = randomVersion(ecosystem, r);
      }
      const record: PackageRecord =
        ecosystem === 'deb'
          ? { ecosystem, name: r.chance(0.3) ? `lib${name}${r.int(0, 3)}` : name, version, sourceName: name, sourceVersion: version, arch: 'amd64', path: pathFor(ecosystem, name, version, i) }
          : { ecosystem, name, version, path: pathFor(ecosystem, name, version, i) };
      packages.push({ ...record, purl: purlFor(record, BENCH_DISTRO), layer, layerIndex: 0 });
    }
  }
  return {
    schema: INVENTORY_SCHEMA,
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    tool: { name: 'portcullis', version: 'bench' },
    createdAt: '2026-01-01T00:00:00.000Z',
    image: { reference, transport: 'bench' },
    distro: BENCH_DISTRO,
    layers: [{ index: 0, digest: layer, size: 0, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', packageCount: packages.length, readFrom: 'blob' }],
    packages,
    detectors: [],
    warnings: [],
    stats: { layersRead: 1, layersFromCache: 0, bytesRead: 0 },
  };
}
