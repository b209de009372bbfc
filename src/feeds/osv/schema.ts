/**
 * zod schema of an OSV record (https://ossf.github.io/osv-schema/), permissive where producers
 * differ: optional fields may be null, unknown fields are ignored, numbers are accepted where a
 * version string is expected (YAML producers), unknown range types and event kinds are tolerated
 * and dropped later. Only what the normalizer reads is declared.
 */
import * as z from 'zod';

const text = z.union([z.string(), z.number()]).transform((v) => String(v));
const optionalText = z.union([z.string(), z.number(), z.null()]).optional().transform((v) => (v === null || v === undefined ? undefined : String(v)));
const idList = z
  .array(z.union([z.string(), z.null()]))
  .nullish()
  .transform((v) => (v ?? []).filter((x): x is string => typeof x === 'string' && x !== ''));
const looseRecord = z.record(z.string(), z.unknown()).nullish();

export const osvSeveritySchema = z.object({ type: z.string(), score: text });

export const osvRangeSchema = z.object({
  type: z.string(),
  repo: z.string().nullish(),
  events: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))).nullish(),
  database_specific: looseRecord,
});

export const osvAffectedSchema = z.object({
  package: z
    .object({
      ecosystem: z.string(),
      name: text,
      purl: z.string().nullish(),
    })
    .nullish(),
  ranges: z.array(osvRangeSchema).nullish(),
  versions: z.array(text).nullish(),
  severity: z.array(osvSeveritySchema).nullish(),
  ecosystem_specific: looseRecord,
  database_specific: looseRecord,
});

export const osvRecordSchema = z.object({
  schema_version: optionalText,
  id: z.string().min(1),
  modified: optionalText,
  published: optionalText,
  withdrawn: optionalText,
  aliases: idList,
  related: idList,
  upstream: idList,
  summary: optionalText,
  details: optionalText,
  severity: z.array(osvSeveritySchema).nullish(),
  affected: z.array(osvAffectedSchema).nullish(),
  references: z
    .array(z.object({ type: z.string().nullish(), url: z.string() }))
    .nullish(),
  database_specific: looseRecord,
});

export type OsvRecord = z.infer<typeof osvRecordSchema>;
export type OsvAffected = z.infer<typeof osvAffectedSchema>;
export type OsvRange = z.infer<typeof osvRangeSchema>;
