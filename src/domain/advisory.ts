import type { Ecosystem } from './package.js';
import type { Severity } from './severity.js';
import type { VersionSchemeId } from './version-scheme-id.js';

/** A severity statement from one source: a vendor label or a CVSS vector. */
export interface SeverityRating {
  /** Who says so: `debian`, `ubuntu`, `alpine`, `redhat`, `nvd`, `ghsa`, `osv`, ... */
  source: string;
  type: 'vendor' | 'CVSS_V2' | 'CVSS_V3' | 'CVSS_V4';
  /** The label as the source writes it (`high`, `Important`) or the CVSS vector. */
  value: string;
  /** CVSS base score when computable or given. */
  score?: number;
  normalized: Severity;
}

/** An OSV-style range: ordered events over one version scheme (or git commits). */
export interface VersionRange {
  type: 'ECOSYSTEM' | 'SEMVER' | 'GIT';
  events: RangeEvent[];
}
export type RangeEvent = { introduced: string } | { fixed: string } | { last_affected: string } | { limit: string };

/**
 * How a vendor says a package stands for an advisory. One model for every distribution:
 * `fixed` (affected, a fix exists), `unfixed` (affected, no fix: the raw vendor word is kept in
 * vendorStatus: open, postponed, will-not-fix, deferred, needed, ...), `not_affected`.
 */
export type AffectedState = 'fixed' | 'unfixed' | 'not_affected';

/** One package an advisory speaks about, in one namespace. */
export interface AffectedPackage {
  ecosystem: Ecosystem;
  /**
   * Where the statement applies: a distribution release for OS packages (`debian:12`, `ubuntu:22.04`,
   * `alpine:3.20`, `wolfi:rolling`, `rhel:9`, `almalinux:9`, `rocky:9`), or the OSV ecosystem for
   * language packages (`npm`, `PyPI`, `Go`, `crates.io`, `Maven`, `RubyGems`).
   */
  namespace: string;
  /** Package name as the feed keys it; for OS feeds usually the source package. */
  packageName: string;
  nameKind: 'source' | 'binary';
  scheme: VersionSchemeId;
  state: AffectedState;
  vendorStatus?: string;
  ranges: VersionRange[];
  /** Explicitly listed affected versions (OSV `versions`). */
  versions: string[];
  /** Native range expressions in the scheme's syntax (npm/gem/pep440 requirement strings), any of which matching means affected. */
  nativeRanges?: string[];
  /**
   * Exclusions in the scheme's native range syntax: a version that satisfies any of these is NOT
   * affected, whatever `ranges`/`versions`/`nativeRanges` say. `patched` are the fixed versions
   * (RubyGems `patched_versions`, npm security-wg `patched_versions`), `unaffected` the versions
   * that never had the flaw (RubyGems `unaffected_versions`). One string is one requirement of the
   * scheme (a RubyGems requirement may hold several comma-separated constraints that must all hold:
   * `"~> 5.2.4, >= 5.2.4.3"`). Absent or empty: no exclusions.
   */
  patched?: string[];
  unaffected?: string[];
  /** Per-package vendor severity (Debian urgency, Ubuntu priority), when the feed gives one. */
  severity?: SeverityRating;
  /** rpm module stream the statement is about (`nodejs:18`), when any. */
  module?: string;
  /** Architectures the statement is limited to, when any. */
  arches?: string[];
}

/** A normalized advisory record, whatever feed it came from. */
export interface Advisory {
  /** The feed's own id: CVE-..., GHSA-..., DSA-..., ALSA-..., GO-..., PYSEC-..., RUSTSEC-... */
  id: string;
  aliases: string[];
  /**
   * Ids of other records this one is about without being the same record (OSV `related`, the CVEs a
   * distribution advisory such as ALSA/RLSA fixes). Used to enrich by CVE; never for de-duplication.
   * Absent when the feed names none.
   */
  related?: string[];
  /** Feed id (see feeds registry): `osv`, `debian-tracker`, `debian-dsa`, `alpine-secdb`, ... */
  feed: string;
  title?: string;
  description?: string;
  published?: string;
  modified?: string;
  /** Set when the record was withdrawn: never reported. */
  withdrawn?: string;
  severities: SeverityRating[];
  references: string[];
  affected: AffectedPackage[];
}

/** Per-feed metadata kept in the vulnerability DB and printed on every report. */
export interface FeedMetadata {
  feed: string;
  source: string;
  fetchedAt: string;
  recordCount: number;
  newestRecord?: string;
  skipped: number;
}
