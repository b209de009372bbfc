/**
 * Clair v2's layer answer (`coreos/clair@v2.0.9:api/v1/models.go`; every field `omitempty`) read
 * strictly enough that a 200 of another shape is an error, and turned into per-package findings.
 */
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { zodReason } from '../../policy/input.js';
import { backendSeverity } from '../severity.js';
import type { BackendPackageFindings, BackendScanOutput, BackendVulnerability } from '../types.js';

const vulnerabilitySchema = z.looseObject({
  Name: z.string().min(1),
  NamespaceName: z.string().optional(),
  Description: z.string().optional(),
  Link: z.string().optional(),
  Severity: z.string().optional(),
  Metadata: z.record(z.string(), z.unknown()).nullish(),
  FixedBy: z.string().optional(),
});

const featureSchema = z.looseObject({
  Name: z.string().min(1),
  NamespaceName: z.string().optional(),
  VersionFormat: z.string().optional(),
  Version: z.string().optional(),
  Vulnerabilities: z.array(vulnerabilitySchema).nullish(),
  AddedBy: z.string().optional(),
});

const layerSchema = z.looseObject({
  Name: z.string().min(1),
  NamespaceName: z.string().optional(),
  IndexedByVersion: z.number().optional(),
  Features: z.array(featureSchema).nullish(),
});

/** A Clair v2 layer as `GET /v1/layers/{name}` returns it. */
export type ClairV2Layer = z.infer<typeof layerSchema>;

/** The `Layer` of a `LayerEnvelope`; E_INTERNAL naming the first mismatch when the body has another shape. */
export function parseLayerEnvelope(doc: unknown, what: string): ClairV2Layer {
  const parsed = z.looseObject({ Layer: layerSchema }).safeParse(doc);
  if (!parsed.success) throw new PortcullisError('E_INTERNAL', `clair: ${what} answered 200 with an unexpected body: ${zodReason(parsed.error)}`, { backend: 'clair' });
  return parsed.data.Layer;
}

/** The layer's features with vulnerabilities, as findings; `packageCount` counts every feature and `seenPackages` lists them. */
export function convertLayer(layer: ClairV2Layer): BackendScanOutput {
  const features = layer.Features ?? [];
  const packages: BackendPackageFindings[] = [];
  for (const feature of features) {
    const vulnerabilities = (feature.Vulnerabilities ?? []).map(
      (v): BackendVulnerability => ({
        id: v.Name,
        severity: backendSeverity(v.Severity),
        backendSeverity: v.Severity ?? '',
        ...(v.FixedBy !== undefined && v.FixedBy !== '' ? { fixedBy: v.FixedBy } : {}),
        ...(v.Link !== undefined && v.Link !== '' ? { link: v.Link } : {}),
        ...(v.Description !== undefined && v.Description !== '' ? { description: v.Description } : {}),
        ...(v.NamespaceName !== undefined && v.NamespaceName !== '' ? { namespace: v.NamespaceName } : {}),
        ...(v.Metadata ? { metadata: v.Metadata } : {}),
      }),
    );
    if (vulnerabilities.length === 0) continue;
    packages.push({
      name: feature.Name,
      version: feature.Version ?? '',
      ...(feature.NamespaceName !== undefined && feature.NamespaceName !== '' ? { namespace: feature.NamespaceName } : {}),
      ...(feature.AddedBy !== undefined && feature.AddedBy !== '' ? { addedBy: feature.AddedBy } : {}),
      vulnerabilities: vulnerabilities.sort((a, b) => a.id.localeCompare(b.id)),
    });
  }
  if (features.length === 0) return { packageCount: 0, packages };
  const seenPackages = features.map((f) => ({ name: f.Name, version: f.Version ?? '', ...(f.NamespaceName !== undefined && f.NamespaceName !== '' ? { namespace: f.NamespaceName } : {}) }));
  return { packageCount: features.length, packages, seenPackages };
}
