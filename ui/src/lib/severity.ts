/**
 * Severities as the UI shows them. Order, labels and colours follow Portus master's vulnerability
 * views (compatibility.md 1.9): the "highest" of a tag is picked Critical > High > Medium > Low >
 * Unknown > Negligible, and the colours are Portus's (`severities.scss`).
 */
export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Unknown', 'Negligible'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type SeverityCounts = Partial<Record<Severity, number>>;

/** Portus's colours; Negligible, which Portus never coloured, shares Unknown's grey. */
export const SEVERITY_COLOUR: Record<Severity, string> = {
  Critical: '#B9121B',
  High: '#FF5E38',
  Medium: '#f28c33',
  Low: '#f8ca1c',
  Unknown: '#5b5b5b',
  Negligible: '#5b5b5b',
};
export const PASSED_COLOUR = '#5cb85c';

/**
 * Text drawn on those colours: white where it reaches WCAG AA contrast (4.5:1), near-black where
 * white would not (High, Medium, Low and Passed are light).
 */
export const TEXT_ON: Record<Severity | 'Passed', string> = {
  Critical: '#ffffff',
  High: '#111111',
  Medium: '#111111',
  Low: '#111111',
  Unknown: '#ffffff',
  Negligible: '#ffffff',
  Passed: '#111111',
};

/** Sort rank, most severe highest (Portus's comparator: Negligible < Unknown < Low < ... < Critical). */
export function severityRank(severity: string): number {
  const order = ['Negligible', 'Unknown', 'Low', 'Medium', 'High', 'Critical'];
  return order.indexOf(severity);
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

export function totalOf(counts: SeverityCounts): number {
  return SEVERITIES.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
}

/** The most severe level present, as Portus's preview picks it. */
export function highestOf(counts: SeverityCounts): Severity | undefined {
  return SEVERITIES.find((s) => (counts[s] ?? 0) > 0);
}
