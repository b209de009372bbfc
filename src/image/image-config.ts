import * as z from 'zod';
import { PortcullisError } from '../domain/errors.js';
import { parseDigest } from './digest.js';
import { malformed } from './manifest.js';
import type { ImageConfigSummary } from './types.js';

// Permissive where builders are sloppy (null Labels/Env, odd `created`), strict where the scanner
// depends on the data (rootfs.diff_ids must be real digests).
const ImageConfigSchema = z.object({
  architecture: z.string().optional().catch(undefined),
  os: z.string().optional().catch(undefined),
  variant: z.string().optional().catch(undefined),
  created: z.string().optional().catch(undefined),
  config: z
    .object({
      Labels: z.record(z.string(), z.unknown()).nullish().catch(undefined),
      Env: z.array(z.unknown()).nullish().catch(undefined),
    })
    .nullish()
    .catch(undefined),
  rootfs: z.object({
    type: z.string(),
    diff_ids: z.array(z.string()),
  }),
  history: z
    .array(
      z.object({
        created_by: z.string().optional().catch(undefined),
        empty_layer: z.boolean().optional().catch(undefined),
      }),
    )
    .nullish()
    .catch(undefined),
});

/**
 * Parses an image config (Docker or OCI) into the fields the scanner uses. Throws E_MANIFEST for
 * invalid JSON, a missing `rootfs`, or malformed diff_ids. Missing labels, env and history give
 * empty collections.
 */
export function parseImageConfig(bytes: Uint8Array, what = 'image config'): ImageConfigSummary {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new PortcullisError('E_MANIFEST', `image: ${what} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = ImageConfigSchema.safeParse(body);
  if (!parsed.success) throw malformed(what, parsed.error);
  const c = parsed.data;
  for (const d of c.rootfs.diff_ids) {
    try {
      parseDigest(d);
    } catch (err) {
      throw new PortcullisError('E_MANIFEST', `image: ${what} has a malformed diff_id: ${(err as Error).message}`);
    }
  }
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.config?.Labels ?? {})) if (typeof v === 'string') labels[k] = v;
  const summary: ImageConfigSummary = {
    diffIds: c.rootfs.diff_ids,
    labels,
    env: (c.config?.Env ?? []).filter((e): e is string => typeof e === 'string'),
    history: (c.history ?? []).map((h) => {
      const entry: { createdBy?: string; emptyLayer: boolean } = { emptyLayer: h.empty_layer === true };
      if (h.created_by !== undefined) entry.createdBy = h.created_by;
      return entry;
    }),
  };
  if (c.architecture) summary.architecture = c.architecture;
  if (c.os) summary.os = c.os;
  if (c.variant) summary.variant = c.variant;
  if (c.created) summary.created = c.created;
  return summary;
}

/**
 * The `created_by` of each layer: history entries that are not `empty_layer` map in order onto the
 * layers. Returns an array of `layerCount` entries, all undefined when the history does not line up
 * with the layers (some builders write no or partial history) rather than guessing.
 */
export function layerCreatedBy(config: ImageConfigSummary, layerCount: number): (string | undefined)[] {
  const nonEmpty = config.history.filter((h) => !h.emptyLayer);
  if (nonEmpty.length !== layerCount) return new Array<string | undefined>(layerCount).fill(undefined);
  return nonEmpty.map((h) => h.createdBy);
}
