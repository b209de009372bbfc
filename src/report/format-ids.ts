/**
 * The ids of the report formats, in the order `--help` lists them. Kept apart from the renderers so
 * the CLI can offer `--format` choices without loading them; registry.test.ts checks that the
 * registry holds exactly these.
 */
export const REPORT_FORMAT_IDS = ['table', 'json', 'sarif', 'cyclonedx', 'junit', 'clair-scanner'] as const;

/** One report format id. */
export type ReportFormatId = (typeof REPORT_FORMAT_IDS)[number];
