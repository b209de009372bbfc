import type { AffectedState, FeedMetadata, SeverityRating } from './advisory.js';
import type { Distro } from './distro.js';
import type { Ecosystem, OsOwner } from './package.js';
import type { Severity } from './severity.js';
import type { Inventory } from './inventory.js';
import type { VersionSchemeId } from './version-scheme-id.js';

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

/**
 * Which part of an advisory statement made the installed version affected (data behind the words of
 * `why.rule`): an OSV-style interval (`introduced` up to `fixed`, or through `lastAffected`, or open
 * when neither), a listed version, a native range expression (npm, RubyGems, PEP 440), a vendor
 * saying every version is affected, or a version none of the `patched` requirements accepts.
 */
export type RuleBasis =
  | { kind: 'range'; introduced: string; fixed?: string; lastAffected?: string }
  | { kind: 'listed-version' }
  | { kind: 'native-range'; constraint: string }
  | { kind: 'every-version' }
  | { kind: 'not-patched'; patched: string[] };

/** One advisory record that matched, and the version rule that held for it. */
export interface MatchRecord {
  advisory: {
    feed: string;
    /** The record's own id (a DSA, a GHSA ...), which may differ from the finding's id (a CVE it fixes). */
    id: string;
    namespace: string;
    /** The package name the record is keyed by, and whether that is a source or a binary package name. */
    packageName: string;
    nameKind: 'source' | 'binary';
    state: AffectedState;
    vendorStatus?: string;
    published?: string;
    modified?: string;
  };
  rule: {
    /** The version scheme that compared (absent when the finding came from an external scanner). */
    scheme?: VersionSchemeId;
    /** The version that was compared (the source version for a record keyed by the source package). */
    installed: string;
    /** Absent when the comparison was not Portcullis's own (an external scanner's finding). */
    basis?: RuleBasis;
    /** The same rule in words (= one part of `why.rule`). */
    text: string;
  };
}

/**
 * A finding's evidence as data, for tools and the web UI to lay out: the package record it is about
 * (file and layer) and every advisory record that matched it with its rule. `why` says the same in words.
 */
export interface FindingEvidence {
  package: { file: string; layer: string; layerIndex: number };
  matches: MatchRecord[];
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
  evidence: FindingEvidence;
}

/** The product of matching one inventory against the vulnerability DB. */
/**
 * Version of the ScanReport shape. 2 added `evidence` to each finding; every field of version 1 is
 * kept as it was, so a reader of version 1 reads version 2.
 */
export const SCAN_REPORT_SCHEMA_VERSION = 2;

export interface ScanReport {
  schema: 'https://portcullis.dev/schemas/scan-report/v1';
  schemaVersion: typeof SCAN_REPORT_SCHEMA_VERSION;
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
