/**
 * Scans on demand and what a CI client needs to apply its gate: `POST /api/v1/scans` (scope scan)
 * resolves an image of the watched registry and queues what has no current result; the answer
 * names the state to poll (`GET /api/v1/scans/{digest}`); `GET /api/v1/manifests/{digest}/report`
 * is the embedded scanner's full report of an image manifest (as `portcullis scan --format json`
 * holds it); `GET /api/v1/feeds` is the vulnerability DB's status (as `portcullis db status --json`).
 */
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { inventorySchema } from '../../domain/inventory.js';
import { EMBEDDED_BACKEND } from '../../service/embedded-backend.js';
import type { ScanRequests } from '../../service/scan-requests.js';
import { CatalogStore } from '../../store/catalog.js';
import type { Store } from '../../store/open-store.js';
import { openVulnDb } from '../../vulndb/open.js';
import { dbStatus } from '../../vulndb/status.js';
import { errorResponseSchema, withStore } from '../errors.js';
import { AUTH_ERRORS } from './tokens.js';
import { digestSchema } from './params.js';
import { dbStatusSchema, scanRequestStateSchema } from './response-schemas.js';

/** A scan request is one short reference: anything much larger is not one (413 before parsing). */
export const SCAN_REQUEST_BODY_LIMIT = 4 * 1024;

/** JSON of any shape (reports): validated where they are made, documented loosely here. */
const anyJson = z.any();
const scanStateSchema = scanRequestStateSchema;
const scanRequestAnswer = scanRequestStateSchema.extend({ image: z.string(), repository: z.string() }).meta({ id: 'ScanRequestAnswer' });
const ERRORS = { 400: errorResponseSchema, 404: errorResponseSchema, ...AUTH_ERRORS } as const;
const UPSTREAM_ERRORS = { 502: errorResponseSchema, 503: errorResponseSchema } as const;

/** The parts of a stored embedded report a client needs to be able to read; the rest passes through. */
const storedReportSchema = z.looseObject({
  schema: z.literal('https://portcullis.dev/schemas/scan-report/v1'),
  packageCount: z.number(),
  findings: z.array(z.unknown()),
  warnings: z.array(z.unknown()).optional(),
});

export interface ScanRouteOptions {
  store: Store;
  /** Scans on demand; undefined: POST /api/v1/scans answers that this service cannot scan on demand. */
  scanRequests: ScanRequests | undefined;
  /** The vulnerability DB the feeds route describes. */
  vulnDbPath: string;
}

/** Registers the scan-on-demand, report and feeds routes. */
export function scanRoutes(app: FastifyInstance, options: ScanRouteOptions): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const catalog = new CatalogStore(options.store);

  routes.post(
    '/api/v1/scans',
    {
      bodyLimit: SCAN_REQUEST_BODY_LIMIT,
      config: { access: 'scan' },
      schema: {
        summary: 'Scan an image of the watched registry on demand (202 while scans run, 200 when every result exists)',
        tags: ['scans'],
        body: z.strictObject({ image: z.string().min(1).max(512).describe('`repo:tag`, `repo@sha256:...`, or either prefixed with the watched registry\'s `host:port/`') }),
        response: {
          200: scanRequestAnswer,
          202: scanRequestAnswer,
          ...ERRORS,
          ...UPSTREAM_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const scans = options.scanRequests;
      if (scans === undefined) throw new PortcullisError('E_INPUT', 'this service watches no registry (registry.url is empty), so it has no images to scan on demand');
      const outcome = await withStore(request, 'requesting a scan', () => scans.request(request.body.image));
      const body = { image: outcome.image, repository: outcome.repository, ...outcome.state };
      void reply.header('location', outcome.state.poll);
      return reply.status(outcome.complete ? 200 : 202).send(body);
    },
  );

  routes.get(
    '/api/v1/scans/:digest',
    {
      config: { access: 'read' },
      schema: { summary: 'The scan state of a manifest (an index: of each platform manifest), per backend', tags: ['scans'], params: z.object({ digest: digestSchema }), response: { 200: scanStateSchema, ...ERRORS } },
    },
    async (request) => {
      const scans = options.scanRequests;
      const state = scans === undefined ? undefined : await withStore(request, 'reading a scan state', () => scans.state(request.params.digest));
      if (state === undefined) throw new PortcullisError('E_NOT_FOUND', `no manifest ${request.params.digest} is known to the service`);
      return state;
    },
  );

  routes.get(
    '/api/v1/manifests/:digest/report',
    {
      config: { access: 'read' },
      schema: {
        summary: "The embedded scanner's full report of an image manifest (the ScanReport of `portcullis scan --format json`, with the inventory) and its matching warnings",
        tags: ['scans'],
        params: z.object({ digest: digestSchema }),
        response: { 200: z.object({ digest: z.string(), backend: z.string(), finishedAt: z.string().nullable(), report: anyJson, warnings: z.array(anyJson) }), ...ERRORS, 503: errorResponseSchema },
      },
    },
    async (request) => {
      const digest = request.params.digest;
      return withStore(request, 'reading a report', async () => {
        const scan = (await catalog.scans(digest)).find((s) => s.backend === EMBEDDED_BACKEND);
        if (scan === undefined) throw new PortcullisError('E_NOT_FOUND', `no embedded scan of ${digest} (request one with POST /api/v1/scans)`);
        if (scan.status === 'queued' || scan.status === 'scanning') throw new PortcullisError('E_PENDING', `the embedded scan of ${digest} is ${scan.status}; ask again later`);
        if (scan.status !== 'scanned' || scan.report === null) throw new PortcullisError('E_NOT_FOUND', `the embedded scan of ${digest} is ${scan.status}: ${scan.reason ?? 'no reason recorded'}`, { status: scan.status });
        const stored = storedReportSchema.safeParse(JSON.parse(scan.report));
        const inventoryText = await catalog.inventory(digest);
        const inventory = inventoryText === undefined ? undefined : inventorySchema.safeParse(JSON.parse(inventoryText.json));
        if (!stored.success || inventory?.success !== true) throw new PortcullisError('E_INTERNAL', `the stored report or inventory of ${digest} is not readable`);
        // The inventory is stored once beside the report; a client's reports (CycloneDX) need it back inside.
        const { warnings, ...report } = stored.data;
        return { digest, backend: EMBEDDED_BACKEND, finishedAt: scan.finishedAt, report: { ...report, inventory: inventory.data }, warnings: warnings ?? [] };
      });
    },
  );

  routes.get(
    '/api/v1/feeds',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The vulnerability DB: path, build time, data age, and per feed its source, record count and freshness (as `portcullis db status --json`)',
        tags: ['scans'],
        response: { 200: dbStatusSchema, ...AUTH_ERRORS, 503: errorResponseSchema },
      },
    },
    () => {
      if (!existsSync(options.vulnDbPath)) throw new PortcullisError('E_DB', 'the service has no vulnerability database yet (portcullis db update, or feeds.update_interval)');
      const vulnDb = openVulnDb(options.vulnDbPath);
      try {
        return dbStatus(vulnDb);
      } finally {
        vulnDb.close();
      }
    },
  );
}
