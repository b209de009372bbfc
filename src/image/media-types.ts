/**
 * Media types of the manifests, configs and layers the image sources understand. One place, so the
 * registry client's Accept header, the manifest parser and the layer check cannot drift apart.
 */

/** Every media type the image sources name, by short name. */
export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
} as const;

/** Manifest and index media types, in the order of preference sent as the registry Accept header. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
];

/** Media types of multi-platform indexes (Docker manifest list, OCI index). */
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);

/** Media types of single-platform image manifests. */
export const IMAGE_MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

/** Docker schema 1 manifests: recognised only to be refused with a clear message. */
export const SCHEMA1_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.dockerSchema1, MEDIA_TYPES.dockerSchema1Signed]);

/** Image config media types; a manifest whose config is anything else is an artifact, not an image. */
export const CONFIG_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.dockerConfig, MEDIA_TYPES.ociConfig]);

/** Layer media types the layer walk can read (it detects gzip/zstd/plain itself from magic bytes). */
export const LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPES.dockerLayerGzip,
  MEDIA_TYPES.dockerForeignLayerGzip,
  MEDIA_TYPES.ociLayer,
  MEDIA_TYPES.ociLayerGzip,
  MEDIA_TYPES.ociLayerZstd,
  MEDIA_TYPES.ociLayerNondistributable,
  MEDIA_TYPES.ociLayerNondistributableGzip,
  MEDIA_TYPES.ociLayerNondistributableZstd,
]);

/** Strips parameters (`; charset=utf-8`) and case from a Content-Type value; '' when absent. */
export function normalizeMediaType(value: string | null | undefined): string {
  if (!value) return '';
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}
