import type { ScanReport } from '../domain/finding.js';
import type { PolicyResult } from '../policy/evaluate.js';

/** Presentation switches; each format reads the ones that concern it and ignores the rest. */
export interface ReportOptions {
  /** table: ANSI colours. The CLI passes `process.stdout.isTTY`; default false. */
  color?: boolean;
  /** table: add the "why" column (the version rule that matched). */
  showWhy?: boolean;
  /** table, junit: list suppressed findings (VEX / ignore file) with their justification. */
  showSuppressed?: boolean;
  /**
   * table: clair-scanner's `--reportAll` (default true). When false only unapproved rows are printed.
   * The clair-scanner JSON report always lists every vulnerability, as clair-scanner's `-r` file does.
   */
  reportAll?: boolean;
  /** junit: one testcase per package (default) or per finding. */
  junitGranularity?: 'package' | 'finding';
}

/** Everything a format needs: the scan, the policy decisions, and how to present them. */
export interface ReportContext {
  report: ScanReport;
  policy: PolicyResult;
  /** The image name as the user gave it (clair-scanner prints it verbatim). */
  imageName: string;
  options?: ReportOptions;
}

/** A report format: a pure function from a context to the bytes to write. */
export interface ReportFormat {
  /** Stable id used on the command line (`--format sarif`). */
  readonly id: string;
  /** Bump when the output for the same input changes shape. */
  readonly version: number;
  readonly description: string;
  readonly mediaType: string;
  readonly fileExtension: string;
  /** Renders the report. Never throws on data; an empty report renders an empty result. */
  render(ctx: ReportContext): string;
}
