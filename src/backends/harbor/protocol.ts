/**
 * Harbor's pluggable scanner adapter API (goharbor/pluggable-scanner-spec, spec v1.0-v1.2): media
 * types and the bodies both sides exchange. Portcullis speaks it twice: as an adapter Harbor
 * calls (src/server/routes/harbor-adapter.ts) and as a client of other adapters
 * (./backend.ts, Trivy's or Clair's adapter as a backend), so the schemas live here once.
 */
import * as z from 'zod';
import { SEVERITIES } from '../../domain/severity.js';

export const HARBOR_MEDIA_TYPES = {
  metadataV10: 'application/vnd.scanner.adapter.metadata+json; version=1.0',
  metadataV11: 'application/vnd.scanner.adapter.metadata+json; version=1.1',
  scanRequestV10: 'application/vnd.scanner.adapter.scan.request+json; version=1.0',
  scanRequestV11: 'application/vnd.scanner.adapter.scan.request+json; version=1.1',
  scanResponse: 'application/vnd.scanner.adapter.scan.response+json; version=1.0',
  error: 'application/vnd.scanner.adapter.error+json; version=1.0',
  vulnReportV10: 'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0',
  vulnReportV11: 'application/vnd.security.vulnerability.report; version=1.1',
  sbomReport: 'application/vnd.security.sbom.report+json; version=1.0',
} as const;

/** The SBOM formats a v1.2 report can carry (`?sbom_media_type=`). */
export const SBOM_MEDIA_TYPES = ['application/spdx+json', 'application/vnd.cyclonedx+json'] as const;

/** Artifact manifest types a vulnerability capability consumes. */
export const CONSUMED_MIME_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'] as const;

/** `type; version=1.1` and `type;version=1.1` alike, lower case: media types compared as HTTP compares them. */
export function normalizeHarborMediaType(value: string): string {
  return value
    .split(';')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '')
    .join(';');
}

/** Whether `value` names the media type `expected` (parameters included, spacing and case aside). */
export function sameMediaType(value: string | undefined, expected: string): boolean {
  return value !== undefined && normalizeHarborMediaType(value) === normalizeHarborMediaType(expected);
}

const severitySchema = z.enum(SEVERITIES);

export const scannerSchema = z.object({ name: z.string(), vendor: z.string(), version: z.string() });

export const artifactSchema = z.object({
  repository: z.string(),
  digest: z.string(),
  tag: z.string().optional(),
  mime_type: z.string(),
});

/** The ScanRequest body as Portcullis requires it (stricter than the spec, which requires only `registry` and `artifact`). */
export const scanRequestSchema = z.object({
  registry: z.object({
    url: z.string().min(1),
    authorization: z.string().optional(),
  }),
  artifact: z.object({
    repository: z.string().regex(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, { message: 'expected a repository name (lower case path components)' }),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, { message: 'expected a sha256:<64 hex> digest' }),
    tag: z.string().max(128).optional(),
    mime_type: z.string().min(1),
  }),
  enabled_capabilities: z
    .array(
      z.object({
        type: z.enum(['vulnerability', 'sbom']),
        produces_mime_types: z.array(z.string()).optional(),
        parameters: z.object({ sbom_media_types: z.array(z.string()).optional() }).nullable().optional(),
      }),
    )
    .optional(),
});
export type HarborScanRequestBody = z.infer<typeof scanRequestSchema>;

export const scanResponseSchema = z.object({ id: z.string().min(1) });

export const errorBodySchema = z.object({ error: z.object({ message: z.string() }) });

export const capabilitySchema = z.object({
  type: z.enum(['vulnerability', 'sbom']).optional(),
  consumes_mime_types: z.array(z.string()),
  produces_mime_types: z.array(z.string()),
  additional_attributes: z.record(z.string(), z.unknown()).optional(),
});

export const metadataSchema = z.object({
  scanner: scannerSchema,
  capabilities: z.array(capabilitySchema),
  properties: z.record(z.string(), z.string()).optional(),
});
export type HarborMetadata = z.infer<typeof metadataSchema>;

export const cvssSchema = z.object({
  score_v3: z.number().optional(),
  score_v2: z.number().optional(),
  vector_v3: z.string().optional(),
  vector_v2: z.string().optional(),
});

export const vulnerabilityItemSchema = z.object({
  id: z.string(),
  package: z.string(),
  version: z.string(),
  fix_version: z.string().optional(),
  severity: severitySchema,
  description: z.string().optional(),
  links: z.array(z.string()).optional(),
  preferred_cvss: cvssSchema.optional(),
  cwe_ids: z.array(z.string()).optional(),
  vendor_attributes: z.record(z.string(), z.unknown()).optional(),
});
export type HarborVulnerabilityItem = z.infer<typeof vulnerabilityItemSchema>;

export const vulnerabilityReportSchema = z.object({
  generated_at: z.string().optional(),
  artifact: artifactSchema.partial().optional(),
  scanner: scannerSchema.optional(),
  severity: severitySchema.optional(),
  vulnerabilities: z.array(vulnerabilityItemSchema),
});
export type HarborVulnerabilityReport = z.infer<typeof vulnerabilityReportSchema>;
