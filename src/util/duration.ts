const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses a duration written as a whole number and one unit, `s`, `m`, `h` or `d` (`30s`, `10m`,
 * `6h`, `7d`), into milliseconds. Returns undefined for anything else (no unit, fractions, several
 * units, zero or negative), so each caller words its own error.
 */
export function parseDurationText(text: string): number | undefined {
  const m = /^\s*(\d{1,9})\s*([smhd])\s*$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const n = Number(m[1]);
  if (n === 0) return undefined;
  return n * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
