/**
 * clair-scanner's `--threshold`: findings strictly less severe than the threshold are approved
 * (`SeverityMap[sev] > SeverityMap[threshold]` in clair-scanner, where a larger number is less
 * severe). The default `Unknown` therefore approves nothing, and `High` fails only on High and Critical.
 *
 * `Defcon1` (Clair v2's top severity, accepted by clair-scanner v13, refused by 14.x) is accepted and
 * ranks above Critical. Our scale ends at Critical, so no finding reaches Defcon1: `-t Defcon1`
 * approves every finding by threshold (the whitelist and VEX still apply; the gate can never fail
 * on severity alone).
 */
import { PortcullisError } from '../domain/errors.js';
import { SEVERITIES, severityRank, type Severity } from '../domain/severity.js';

/** Valid `--threshold` values, least severe first. */
export const THRESHOLDS = [...SEVERITIES, 'Defcon1'] as const;
export type Threshold = (typeof THRESHOLDS)[number];

/**
 * Parses a threshold name case-insensitively (`high`, `HIGH`, `defcon1`). Throws E_USAGE naming the
 * valid values for anything else (empty string included).
 */
export function parseThreshold(value: string): Threshold {
  const wanted = value.trim().toLowerCase();
  const found = THRESHOLDS.find((t) => t.toLowerCase() === wanted);
  if (found === undefined) {
    throw new PortcullisError('E_USAGE', `threshold: invalid severity threshold ${JSON.stringify(value)} (valid: ${THRESHOLDS.join(', ')})`, { value });
  }
  return found;
}

/** Rank on one scale with the severities: Unknown 0 ... Critical 5, Defcon1 6. */
export function thresholdRank(threshold: Threshold): number {
  return threshold === 'Defcon1' ? SEVERITIES.length : severityRank(threshold);
}

/** True when `severity` is strictly below `threshold` (the finding is approved by it). */
export function belowThreshold(severity: Severity, threshold: Threshold): boolean {
  return severityRank(severity) < thresholdRank(threshold);
}
