/** The normalized severity scale (claircore/Harbor order), least severe first. */
export const SEVERITIES = ['Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rank for sorting and thresholds: Unknown 0 ... Critical 5. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}
