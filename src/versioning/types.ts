/**
 * The one interface every version scheme implements. Schemes are pure code: they import nothing
 * of the project but this file, which takes the scheme ids from the domain's vocabulary.
 */
import type { VersionSchemeId } from '../domain/version-scheme-id.js';

export { VERSION_SCHEME_IDS, type VersionSchemeId } from '../domain/version-scheme-id.js';

export type Comparison = -1 | 0 | 1;

export interface VersionScheme {
  readonly id: VersionSchemeId;
  /** True when the reference tool accepts `version`. */
  isValid(version: string): boolean;
  /** Orders two valid versions; throws InvalidVersionError when either is invalid (never guesses). */
  compare(a: string, b: string): Comparison;
  /**
   * Tests `version` against the ecosystem's own range syntax (npm ranges, PEP 440 specifiers,
   * RubyGems requirements, Maven ranges ...). Absent for schemes whose feeds have no range syntax.
   */
  satisfies?(version: string, range: string): boolean;
}

export class InvalidVersionError extends Error {
  constructor(
    readonly scheme: VersionSchemeId,
    readonly version: string,
  ) {
    super(`${scheme}: invalid version ${JSON.stringify(version)}`);
    this.name = 'InvalidVersionError';
  }
}

/** Thrown by `satisfies` when the range is not valid in the scheme's range syntax (never guesses). */
export class InvalidRangeError extends Error {
  constructor(
    readonly scheme: VersionSchemeId,
    readonly range: string,
    readonly reason?: string,
  ) {
    super(`${scheme}: invalid range ${JSON.stringify(range)}${reason ? `: ${reason}` : ''}`);
    this.name = 'InvalidRangeError';
  }
}
