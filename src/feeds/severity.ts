/**
 * Severity helpers shared by the feed parsers: CVSS base scores from vectors and the mapping of
 * vendor labels and scores onto the normalized scale.
 *
 * CVSS arithmetic is delegated to ae-cvss-calculator (maintained, dependency-free, covers v2, v3.0,
 * v3.1 and v4.0 with FIRST's reference tables) rather than written here: the v4.0 macro-vector
 * lookup in particular is large and easy to get subtly wrong.
 */
import cvssCalculator from 'ae-cvss-calculator';
import type { SeverityRating } from '../domain/advisory.js';
import type { Severity } from '../domain/severity.js';

const { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } = cvssCalculator;

export type CvssVersion = '2.0' | '3.0' | '3.1' | '4.0';

/** A parsed CVSS vector's version and base score. */
export interface CvssScore {
  version: CvssVersion;
  score: number;
}

/** The CVSS version a vector declares by its prefix (`CVSS:3.1/...`); bare vectors are v2. Undefined when unrecognizable. */
export function cvssVersionOf(vector: string): CvssVersion | undefined {
  const v = vector.trim();
  if (v.startsWith('CVSS:3.1/')) return '3.1';
  if (v.startsWith('CVSS:3.0/')) return '3.0';
  if (v.startsWith('CVSS:4.0/')) return '4.0';
  if (v.startsWith('CVSS:2.0/')) return '2.0';
  // v2 vectors carry no prefix (NVD sometimes wraps them in parentheses).
  if (/^\(?AV:[LAN]\/AC:[HML]\/Au:[MSN]\//.test(v)) return '2.0';
  return undefined;
}

/**
 * The base score of a CVSS v2, v3.0, v3.1 or v4.0 vector. Returns undefined when the vector is not
 * recognizable or does not define every base metric (a partial vector has no base score).
 */
export function cvssBaseScore(vector: string): CvssScore | undefined {
  const version = cvssVersionOf(vector);
  if (version === undefined) return undefined;
  const text = vector.trim().replace(/^\((.*)\)$/, '$1').replace(/^CVSS:2\.0\//, '');
  try {
    const parsed =
      version === '2.0' ? new Cvss2(text) : version === '3.0' ? new Cvss3P0(text) : version === '3.1' ? new Cvss3P1(text) : new Cvss4P0(text);
    if (!parsed.isBaseFullyDefined()) return undefined;
    const base = parsed.calculateScores().base;
    if (typeof base !== 'number' || !Number.isFinite(base)) return undefined;
    return { version, score: base };
  } catch {
    // The library throws on vectors it cannot tokenize; for us that is simply "no score".
    return undefined;
  }
}

/**
 * Qualitative rating of a CVSS base score: FIRST's bands (v3/v4: 0 None, <4 Low, <7 Medium, <9 High,
 * else Critical; v2 has no Critical band, 7-10 is High). A score of 0 maps to Negligible.
 */
export function severityFromScore(score: number, version: CvssVersion): Severity {
  if (!Number.isFinite(score) || score < 0) return 'Unknown';
  if (score === 0) return 'Negligible';
  if (score < 4) return 'Low';
  if (score < 7) return 'Medium';
  if (version === '2.0' || score < 9) return 'High';
  return 'Critical';
}

/**
 * Maps a vendor's word to the normalized scale: GHSA (`LOW`, `MODERATE`, `HIGH`, `CRITICAL`),
 * Debian urgencies, Ubuntu priorities, Red Hat impacts (`Low`, `Moderate`, `Important`, `Critical`).
 * Unknown words (`untriaged`, `not yet assigned`, empty) give Unknown.
 */
export function severityFromLabel(label: string): Severity {
  const l = label.trim().toLowerCase().replace(/\*+$/, '');
  switch (l) {
    case 'negligible':
    case 'unimportant':
    case 'none':
      return 'Negligible';
    case 'low':
      return 'Low';
    case 'medium':
    case 'moderate':
      return 'Medium';
    case 'high':
    case 'important':
      return 'High';
    case 'critical':
      return 'Critical';
    default:
      return 'Unknown';
  }
}

/** A rating for a CVSS vector with its computed score; `type` follows the vector's version. */
export function cvssRating(source: string, vector: string): SeverityRating {
  const computed = cvssBaseScore(vector);
  const version = computed?.version ?? cvssVersionOf(vector);
  const type = version === '2.0' ? 'CVSS_V2' : version === '4.0' ? 'CVSS_V4' : 'CVSS_V3';
  if (computed === undefined) return { source, type, value: vector, normalized: 'Unknown' };
  return { source, type, value: vector, score: computed.score, normalized: severityFromScore(computed.score, computed.version) };
}

/** A rating for a vendor label. */
export function vendorRating(source: string, label: string): SeverityRating {
  return { source, type: 'vendor', value: label, normalized: severityFromLabel(label) };
}
