import { realpath, stat } from 'node:fs/promises';
import { PortcullisError } from '../domain/errors.js';
import { assertTransportAllowed, credentialLookup, silentEngineContext, type EngineContext } from '../engine/context.js';
import { openArchive } from './docker-archive.js';
import { directoryFiles } from './layout-files.js';
import { resolveOciLayout } from './oci-layout.js';
import { hostPlatform } from './platform.js';
import { parseReference } from './reference.js';
import type { RetryPolicy } from './registry/retry.js';
import type { ResolveContext } from './resolve.js';
import type { LayerProgress, PlatformSelector, ResolvedImage, RootfsImage } from './types.js';

/** How to open an image; every field is optional. */
export interface OpenImageOptions {
  /** Platform to pick from a multi-platform image; default: the host's (linux/amd64, linux/arm64...). */
  platform?: PlatformSelector;
  /** Allow plain HTTP (after HTTPS fails) and skip TLS verification for registries. */
  insecure?: boolean;
  onProgress?: (p: LayerProgress) => void;
  /** Parent directory for decompressing gzip'ed archives; the copy is removed by close(). */
  tempDir?: string;
  /** Default 4 attempts, 200 ms base delay, doubling; Retry-After wins when the registry sends it. */
  retry?: RetryPolicy;
}

/** Opened images and the clean-up of what opening them holds (connections, temporary files). */
export interface OpenedImage {
  /** One image, or several for `platform: 'all'` on a multi-platform image. Never empty. */
  images: (ResolvedImage | RootfsImage)[];
  /** Releases connections and removes temporary files; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Opens an image reference (`oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME]`,
 * `dir:PATH`, `docker://REF` or a bare registry reference) and resolves it to readable images:
 * manifests and configs are fetched and verified now, layers only when opened. Fails with a
 * PortcullisError: E_REFERENCE (bad reference), E_NOT_FOUND, E_AUTH, E_FORBIDDEN, E_UNREACHABLE,
 * E_REGISTRY, E_PLATFORM, E_MANIFEST, E_MEDIA_TYPE, E_UNSUPPORTED, E_DIGEST_MISMATCH, E_TOO_LARGE,
 * E_INPUT. Nothing stays open when it fails.
 *
 * The context decides what may be opened (E_FORBIDDEN for a transport it does not allow, before
 * any file or host is touched), which registry credentials are used, where logs go and when to stop.
 */
export async function openImage(reference: string, options: OpenImageOptions = {}, context: EngineContext = silentEngineContext()): Promise<OpenedImage> {
  const ref = parseReference(reference);
  const transport = ref.transport === 'oci-archive' ? 'oci' : ref.transport;
  assertTransportAllowed(context, transport, reference);
  const { logger, signal } = context;
  const ctx: Omit<ResolveContext, 'store'> = {
    reference,
    transport,
    selector: options.platform ?? hostPlatform(),
    explicitPlatform: options.platform !== undefined,
    logger,
  };
  if (options.onProgress) ctx.onProgress = options.onProgress;
  if (signal) ctx.signal = signal;

  const cleanups: (() => Promise<void>)[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const errors: unknown[] = [];
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw errors[0];
  };

  try {
    let images: (ResolvedImage | RootfsImage)[];
    switch (ref.transport) {
      case 'dir': {
        const st = await stat(ref.path).catch(() => undefined);
        if (!st) throw new PortcullisError('E_NOT_FOUND', `image: no such directory ${ref.path}`, { path: ref.path });
        if (!st.isDirectory()) throw new PortcullisError('E_REFERENCE', `image: ${ref.path} is not a directory`, { path: ref.path });
        images = [{ reference, transport: 'dir', root: await realpath(ref.path) } satisfies RootfsImage];
        break;
      }
      case 'oci': {
        const st = await stat(ref.path).catch(() => undefined);
        if (!st) throw new PortcullisError('E_NOT_FOUND', `oci-layout: no such directory ${ref.path}`, { path: ref.path });
        if (!st.isDirectory()) throw new PortcullisError('E_REFERENCE', `oci-layout: ${ref.path} is not a directory`, { path: ref.path });
        images = await resolveOciLayout(directoryFiles(ref.path), ref.tag, ctx);
        break;
      }
      case 'oci-archive':
      case 'docker-archive': {
        const name = ref.transport === 'docker-archive' ? ref.image : ref.tag;
        const archiveOptions: Parameters<typeof openArchive>[4] = {};
        if (options.tempDir) archiveOptions.tempDir = options.tempDir;
        if (signal) archiveOptions.signal = signal;
        archiveOptions.logger = logger;
        const opened = await openArchive(ref.path, name, ref.transport === 'oci-archive' ? 'oci' : 'docker', ctx, archiveOptions);
        cleanups.push(opened.cleanup);
        images = opened.images;
        break;
      }
      case 'registry': {
        // The HTTP stack (undici) loads only for registry references: local sources start faster.
        const [{ createRegistryClient }, { resolveRegistryImages }] = await Promise.all([import('./registry/client.js'), import('./registry/source.js')]);
        const client = await createRegistryClient(ref.registry, {
          insecure: options.insecure === true,
          ...credentialLookup(context.credentials),
          ...(options.retry ? { retry: options.retry } : {}),
          logger,
        });
        cleanups.push(() => client.close());
        images = await resolveRegistryImages(client, ref, ctx);
        break;
      }
    }
    for (const image of images) {
      logger.info(
        image.transport === 'dir'
          ? { reference, transport: image.transport }
          : { reference, transport: image.transport, digest: image.manifestDigest, platform: image.platform, layers: image.layers.length },
        'image resolved',
      );
    }
    return { images, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
