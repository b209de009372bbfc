import type { AffectedState, FeedMetadata, SeverityRating } from './advisory.js';
import type { Distro } from './distro.js';
import type { Ecosystem, OsOwner } from './package.js';
import type { Severity } from './severity.js';
import type { Inventory } from './inventory.js';

/** Why a finding was reported: the three records that met, in words and in data. */
export interface MatchEvidence {
  /** The package as the image holds it (`deb openssl 3.0.11-1~deb12u2 from var/lib/dpkg/status, source openssl`). */
  package: string;
  /** The advisory record (`debian-tracker CVE-2024-0727 openssl debian:12: fixed 3.0.13-1~deb12u1`). */
  advisory: string;
  /** The version rule that held (`dpkg: 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1 (fixed)`). */
  rule: string;
  /**
   * Language packages an OS package installed, matched with `--os-owned distro`: what the
   * distribution's data says of the owning package for this vulnerability (`debian-dsa DSA-1 ... :
   * dpkg: 1.0-1+deb12u1 >= 1.0-1+deb12u1 (fixed)`, or that it has no record).
   */
  distro?: string;
}

export interface Finding {
  id: string;
  aliases: string[];
  package: {
    ecosystem: Ecosystem;
    name: string;
    version: string;
    sourceName?: string;
    sourceVersion?: string;
    arch?: string;
    purl: string;
    path: string;
    layer: string;
    layerIndex: number;
    /** The OS package that installed this language package (see InventoryPackage.osOwner). */
    osOwner?: OsOwner;
  };
  state: AffectedState;
  vendorStatus?: string;
  fixedVersions: string[];
  severity: Severity;
  /** Which rating chose `severity` (vendor first, then CVSS). */
  severitySource: string;
  ratings: SeverityRating[];
  namespace: string;
  feed: { id: string; fetchedAt?: string };
  title?: string;
  description?: string;
  links: string[];
  epss?: { score: number; percentile: number; date?: string };
  kev?: { dateAdded: string; dueDate?: string; knownRansomware?: boolean };
  why: MatchEvidence;
}

/** The product of matching one inventory against the vulnerability DB. */
export interface ScanReport {
  schema: 'https://portcullis.dev/schemas/scan-report/v1';
  schemaVersion: 1;
  tool: { name: 'portcullis'; version: string };
  createdAt: string;
  image: Inventory['image'];
  distro?: Distro;
  packageCount: number;
  findings: Finding[];
  /**
   * Statements saying a package is NOT affected (with the rule that cleared it), only when asked
   * for (`--include-not-affected`).
   */
  notAffected?: Finding[];
  /** Per ecosystem and namespace: how many packages, and whether the DB has any data for them ("not checked" is not "clean"). */
  coverage?: { ecosystem: string; namespace: string; packages: number; hasData: boolean }[];
  db: { builtAt?: string; feeds: FeedMetadata[] };
  inventory?: Inventory;
}
