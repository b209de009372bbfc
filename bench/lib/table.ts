/**
 * The benchmark's one output shape: every figure next to a reference measured in the same run, and
 * their ratio. Rendered as a Markdown table (readable in a terminal and in RESULTS.md).
 */

export type Unit = 'ms' | 'MB/s' | 'MiB' | 'KiB' | 'MB' | 'count' | 'rec/s' | 'req/s';

export interface Figure {
  value: number;
  unit: Unit;
}

/** One row: a measured figure, the reference it is compared with, and which direction is better. */
export interface Row {
  section: string;
  what: string;
  ours: Figure;
  /** What the reference is (a command, another measurement of this run). */
  refWhat: string;
  ref: Figure;
  /** Whether a lower or a higher ratio ours/reference is better; `same` when ~1x is the aim. */
  better: 'lower' | 'higher' | 'same';
  note?: string;
}

/** A row that could not be measured, with the reason. */
export interface Skipped {
  section: string;
  what: string;
  reason: string;
}

export function fmt(f: Figure): string {
  const v = f.value;
  if (!Number.isFinite(v)) return 'n/a';
  switch (f.unit) {
    case 'ms':
      return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`;
    case 'MB/s':
      return `${v.toFixed(0)} MB/s`;
    case 'MiB':
      return `${v.toFixed(0)} MiB`;
    case 'KiB':
      return `${v.toFixed(1)} KiB`;
    case 'MB':
      return `${v.toFixed(1)} MB`;
    case 'rec/s':
      return `${Math.round(v).toLocaleString('en-US')} rec/s`;
    case 'req/s':
      return `${Math.round(v).toLocaleString('en-US')} req/s`;
    case 'count':
      return Math.round(v).toLocaleString('en-US');
  }
}

export function ratio(row: Row): number {
  return row.ref.value === 0 ? Number.NaN : row.ours.value / row.ref.value;
}

function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return 'n/a';
  return r >= 100 ? `${r.toFixed(0)}x` : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

const BETTER: Record<Row['better'], string> = { lower: 'lower is better', higher: 'higher is better', same: 'aim ~1x' };

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The rows as a Markdown table, grouped by section in the order given. */
export function renderTable(rows: readonly Row[], skipped: readonly Skipped[]): string {
  const lines = ['| # | section | measurement | ours | reference | ref value | ratio ours/ref | note |', '|---|---|---|---:|---|---:|---:|---|'];
  rows.forEach((r, i) => {
    const note = [BETTER[r.better], r.note].filter(Boolean).join('; ');
    lines.push(`| ${i + 1} | ${cell(r.section)} | ${cell(r.what)} | ${fmt(r.ours)} | ${cell(r.refWhat)} | ${fmt(r.ref)} | ${fmtRatio(ratio(r))} | ${cell(note)} |`);
  });
  if (skipped.length > 0) {
    lines.push('', 'Not measured:', '');
    for (const s of skipped) lines.push(`- ${s.section}: ${s.what}: ${s.reason}`);
  }
  return lines.join('\n');
}
