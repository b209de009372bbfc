/**
 * npm package versions: SemVer 2.0 as the `semver` package (npm's own) parses and orders them.
 */
import semver from 'semver';
import { InvalidRangeError, InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';
import { memoParse } from '../internal/memo.js';

/** Strict parsing, as `semver.compare` does; semver itself accepts a leading `v` and trims white space. */
const parse = memoParse((version: string): semver.SemVer | null => {
  try {
    return new semver.SemVer(version);
  } catch {
    return null;
  }
});

/**
 * Ranges are read the way npm's audit reads advisory ranges (`{ loose: true, includePrerelease:
 * true }`): a pre-release such as `2.0.0-beta.1` is inside `<2.0.1` because a scanner must not skip
 * vulnerable pre-releases, unlike the package resolver which hides them by default.
 */
const RANGE_OPTIONS = { loose: true, includePrerelease: true } as const;

const parseRange = memoParse((range: string): semver.Range | null => {
  try {
    return new semver.Range(range, RANGE_OPTIONS);
  } catch {
    return null;
  }
}, 10_000);

function parsed(version: string): semver.SemVer {
  const p = parse(version);
  if (p === null) throw new InvalidVersionError('npm', version);
  return p;
}

/**
 * The npm scheme: `semver.compare` semantics (build metadata ignored, so `1.0.0+a` equals
 * `1.0.0+b`). `satisfies` takes npm range syntax (`^1.2.3`, `>=1.0.0 <2.0.0 || 3.x`; the empty
 * range means any version) and throws InvalidRangeError when semver cannot read the range.
 */
export const npmScheme: VersionScheme = {
  id: 'npm',
  isValid: (version) => parse(version) !== null,
  compare: (a, b) => parsed(a).compare(parsed(b)) as Comparison,
  satisfies: (version, range) => {
    const v = parsed(version);
    const r = parseRange(range);
    if (r === null) throw new InvalidRangeError('npm', range);
    return r.test(v);
  },
};
