import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { ClairV4Client } from '../backends/clair-v4/client.js';
import { vulnerabilityReportToFindings } from '../backends/clair-v4/convert.js';
import type { ClairManifest } from '../backends/clair-v4/schemas.js';
import { PortcullisError } from '../domain/errors.js';
import { SCAN_REPORT_SCHEMA_VERSION, type ScanReport } from '../domain/finding.js';
import { silentEngineContext, type EngineContext } from '../engine/context.js';
import { openImage, type OpenImageOptions } from '../image/open-image.js';
import type { LayerDescriptor, ResolvedImage } from '../image/types.js';
import { TOOL_VERSION } from '../version.js';
import type { ScanOutcome } from './scan-service.js';

export interface ClairScanRequest {
  reference: string;
  clairUrl: string;
  /** Address Clair reaches this machine on (clair-scanner's --ip). */
  ip: string;
  /** Port of the layer server; 0 picks a free one. */
  port?: number;
  image?: OpenImageOptions;
  /** Logger, cancellation, credentials and allowed transports; default a silent, unrestricted context. */
  context?: EngineContext;
  clair?: Partial<ConstructorParameters<typeof ClairV4Client>[0]>;
}

/**
 * Serves exactly the layer blobs of the given images at `/blobs/<digest>` (nothing else: no path
 * is ever mapped to the filesystem), so Clair can fetch layers of local images as clair-scanner
 * let it. Blobs are streamed from the image source, digest-verified on the way.
 */
async function serveLayers(images: ResolvedImage[], ip: string, port: number): Promise<{ server: Server; base: string }> {
  const layers = new Map<string, { image: ResolvedImage; layer: LayerDescriptor }>();
  for (const image of images) for (const layer of image.layers) layers.set(layer.digest, { image, layer });
  const server = createServer((req, res) => {
    const m = /^\/blobs\/(sha(?:256|512):[a-f0-9]+)$/.exec(req.url ?? '');
    const hit = m?.[1] ? layers.get(m[1]) : undefined;
    if (req.method !== 'GET' || !hit) {
      res.writeHead(404).end();
      return;
    }
    hit.image
      .openLayer(hit.layer)
      .then(async (blob) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', ...(hit.layer.size >= 0 ? { 'content-length': String(hit.layer.size) } : {}) });
        await pipeline(blob, res);
      })
      .catch(() => res.destroy());
  });
  const host = ip === 'localhost' ? '127.0.0.1' : ip;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new PortcullisError('E_CONFIG', `clair: cannot serve layers on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return { server, base: `http://${ip}:${bound}` };
}

/**
 * Scans with a Clair v4 server instead of the embedded engine (clair-scanner's `--clair`): the
 * image is read locally, its layers are offered to Clair over HTTP, Clair indexes and matches, and
 * its vulnerability report becomes our findings.
 */
export async function scanWithClair(request: ClairScanRequest): Promise<ScanOutcome[]> {
  const context = request.context ?? silentEngineContext();
  const opened = await openImage(request.reference, request.image ?? {}, context);
  try {
    const images = opened.images.filter((i): i is ResolvedImage => i.transport !== 'dir');
    if (images.length !== opened.images.length) {
      throw new PortcullisError('E_UNSUPPORTED', 'clair: a dir: root filesystem has no layers to send to Clair; use the embedded engine');
    }
    const { server, base } = await serveLayers(images, request.ip, request.port ?? 0);
    try {
      const client = new ClairV4Client({ url: request.clairUrl, ...request.clair });
      const outcomes: ScanOutcome[] = [];
      for (const image of images) {
        if (!image.manifestDigest) throw new PortcullisError('E_MANIFEST', `clair: ${image.reference} has no manifest digest to index`);
        const manifest: ClairManifest = {
          hash: image.manifestDigest,
          layers: image.layers.map((l) => ({ hash: l.digest, uri: `${base}/blobs/${l.digest}`, headers: {} })),
        };
        const { report: vulns } = await client.scan(manifest);
        const findings = vulnerabilityReportToFindings(vulns, { layers: image.layers.map((l) => l.digest) });
        const packageCount = Object.keys(vulns.packages ?? {}).length;
        const report: ScanReport = {
          schema: 'https://portcullis.dev/schemas/scan-report/v1',
          schemaVersion: SCAN_REPORT_SCHEMA_VERSION,
          tool: { name: 'portcullis', version: TOOL_VERSION },
          createdAt: context.now().toISOString(),
          image: {
            reference: image.reference,
            transport: image.transport,
            manifestDigest: image.manifestDigest,
            ...(image.platform ? { platform: image.platform } : {}),
          },
          packageCount,
          findings,
          db: { feeds: [{ feed: 'clair', source: request.clairUrl, fetchedAt: new Date().toISOString(), recordCount: Object.keys(vulns.vulnerabilities ?? {}).length, skipped: 0 }] },
        };
        outcomes.push({ report, warnings: [] });
      }
      return outcomes;
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  } finally {
    await opened.close();
  }
}
