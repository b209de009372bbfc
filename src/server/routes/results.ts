/**
 * The scan results over HTTP (scope read): Quay's security endpoint for a manifest, with Quay's
 * envelope and field names, and the service's own routes beside it: repositories, a repository's
 * tags grouped by digest, a manifest's findings (filtered, paged), the tags an advisory affects, two
 * tags compared, and the job queue. Findings and counts are the aggregate over every backend that
 * scanned the manifest, with provenance (src/service/aggregate.ts); `?backend=` narrows a manifest's
 * findings to one backend's. Every answer comes from the store; nothing here pulls an image.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { SEVERITIES } from '../../domain/severity.js';
import { quaySecurityInformation, quayStatusOnly } from '../../report/quay-security.js';
import { manifestAggregate } from '../../service/aggregate.js';
import { EMBEDDED_BACKEND } from '../../service/embedded-backend.js';
import { advisoryUsage, compareTags, manifestFindings, manifestView, MAX_PAGE, repositoryViews, tagGroups } from '../../service/queries.js';
import { storedInventory } from '../../service/stored-results.js';
import { CatalogStore } from '../../store/catalog.js';
import { JobQueue } from '../../store/jobs.js';
import type { Store } from '../../store/open-store.js';
import { errorResponseSchema, withStore } from '../errors.js';
import { AUTH_ERRORS } from './tokens.js';
import { digestSchema, nameSchema } from './params.js';

const NOT_FOUND = { 404: errorResponseSchema, 400: errorResponseSchema } as const;
/** JSON of any shape (findings, reports): validated where they are made, documented loosely here. */
const anyJson = z.any();

/** Registers the result routes. */
export function resultRoutes(app: FastifyInstance, options: { store: Store }): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const catalog = new CatalogStore(options.store);
  const queue = new JobQueue(options.store);

  routes.get(
    '/api/v1/repository/:namespace/:name/manifest/:digest/security',
    {
      config: { access: 'read' },
      schema: {
        summary: "Quay's security information of a manifest (queued, scanned, failed, unsupported)",
        tags: ['quay'],
        params: z.object({ namespace: nameSchema, name: nameSchema, digest: digestSchema }),
        querystring: z.object({ vulnerabilities: z.enum(['true', 'false', 'True', 'False', '1', '0']).optional() }),
        response: { 200: z.object({ status: z.enum(['queued', 'scanned', 'failed', 'unsupported']), data: anyJson }), ...NOT_FOUND, ...AUTH_ERRORS },
      },
    },
    async (request) =>
      withStore(request, 'reading a manifest', async () => {
        const { namespace, name, digest } = request.params;
        const repository = `${namespace}/${name}`;
        if (!(await manifestInRepository(catalog, repository, digest))) throw new PortcullisError('E_NOT_FOUND', `no manifest ${digest} in ${repository}`);
        const view = await manifestView(catalog, digest);
        // As Quay: a manifest list or index is not scanned itself; each platform manifest is.
        if (view === undefined || view.kind === 'index') return quayStatusOnly('unsupported');
        // The aggregate over every backend. Quay's envelope cannot say "partial": a manifest one
        // backend failed on is `failed` (not a `scanned` that would read as complete), and one a
        // backend is still at work on is `queued`; the own API lists each backend's state.
        const aggregate = await manifestAggregate(catalog, digest);
        if (aggregate.status === 'queued' || aggregate.status === 'scanning') return quayStatusOnly('queued');
        if (aggregate.status !== 'scanned') return quayStatusOnly(aggregate.status);
        // The embedded scanner's inventory gives the Features; a result of it without a readable inventory cannot be shown as Quay shows it.
        const embeddedRan = aggregate.backends.some((b) => b.backend === EMBEDDED_BACKEND && b.included);
        const inventory = embeddedRan ? await storedInventory(catalog, digest).catch(() => undefined) : { packages: [] };
        if (inventory === undefined) return quayStatusOnly('failed');
        const withVulnerabilities = request.query.vulnerabilities === undefined || ['true', 'True', '1'].includes(request.query.vulnerabilities);
        return quaySecurityInformation(digest, inventory, aggregate.findings, { withVulnerabilities });
      }),
  );

  routes.get(
    '/api/v1/repositories',
    { config: { access: 'read' }, schema: { summary: 'Every repository: tag count, last push, findings per severity, worst severity', tags: ['results'], response: { 200: z.object({ repositories: z.array(anyJson) }), ...AUTH_ERRORS } } },
    async (request) => ({ repositories: await withStore(request, 'listing repositories', () => repositoryViews(catalog)) }),
  );

  routes.get(
    '/api/v1/repositories/:namespace/:name/tags',
    {
      config: { access: 'read' },
      schema: { summary: "A repository's tags grouped by digest, each manifest with its scan state (platform children of an index each with theirs)", tags: ['results'], params: z.object({ namespace: nameSchema, name: nameSchema }), response: { 200: z.object({ repository: z.string(), groups: z.array(anyJson) }), ...NOT_FOUND, ...AUTH_ERRORS } },
    },
    async (request) => {
      const repository = `${request.params.namespace}/${request.params.name}`;
      return { repository, groups: await withStore(request, 'listing tags', () => tagGroups(catalog, repository)) };
    },
  );

  routes.get(
    '/api/v1/manifests/:digest/findings',
    {
      config: { access: 'read' },
      schema: {
        summary: "A manifest's findings aggregated over every backend (found by, disagreements, each backend's state), most severe first; filtered (backend= keeps what that backend found) and paged",
        tags: ['results'],
        params: z.object({ digest: digestSchema }),
        querystring: z.object({
          severity: z.string().regex(new RegExp(`^(${SEVERITIES.join('|')})(,(${SEVERITIES.join('|')}))*$`), { message: `a comma-separated list of ${SEVERITIES.join(', ')}` }).optional(),
          fixable: z.enum(['true', 'false']).optional(),
          package: z.string().max(512).optional(),
          id: z.string().max(512).optional(),
          backend: z.string().max(64).optional(),
          offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
          limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
        }),
        response: { 200: anyJson, ...NOT_FOUND, ...AUTH_ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      return withStore(request, 'reading findings', () =>
        manifestFindings(
          catalog,
          request.params.digest,
          {
            ...(q.severity ? { severities: q.severity.split(',') as (typeof SEVERITIES)[number][] } : {}),
            ...(q.fixable === 'true' ? { fixable: true } : {}),
            ...(q.package ? { package: q.package } : {}),
            ...(q.id ? { id: q.id } : {}),
            ...(q.backend ? { backend: q.backend } : {}),
          },
          { offset: q.offset, limit: q.limit },
        ),
      );
    },
  );

  routes.get(
    '/api/v1/advisories/:id',
    { config: { access: 'read' }, schema: { summary: 'Every repository, tag and package an advisory (or one of its aliases) affects', tags: ['results'], params: z.object({ id: z.string().min(1).max(256) }), response: { 200: z.object({ id: z.string(), affected: z.array(anyJson) }), ...AUTH_ERRORS } } },
    async (request) => ({ id: request.params.id, affected: await withStore(request, 'finding an advisory', () => advisoryUsage(catalog, request.params.id)) }),
  );

  routes.get(
    '/api/v1/repositories/:namespace/:name/compare',
    {
      config: { access: 'read' },
      schema: { summary: 'Two tags of a repository compared: findings fixed, introduced, unchanged', tags: ['results'], params: z.object({ namespace: nameSchema, name: nameSchema }), querystring: z.object({ from: z.string().min(1).max(128), to: z.string().min(1).max(128) }), response: { 200: anyJson, ...NOT_FOUND, ...AUTH_ERRORS } },
    },
    async (request) => withStore(request, 'comparing tags', () => compareTags(catalog, `${request.params.namespace}/${request.params.name}`, request.query.from, request.query.to)),
  );

  routes.get(
    '/api/v1/queue',
    { config: { access: 'read' }, schema: { summary: 'Jobs per state in the durable queue', tags: ['results'], response: { 200: z.object({ ready: z.number(), running: z.number(), done: z.number(), failed: z.number() }), ...AUTH_ERRORS } } },
    async (request) => withStore(request, 'counting jobs', () => queue.counts()),
  );
}

/** Whether a tag of `repository` names `digest`, directly or as a platform of an index. */
async function manifestInRepository(catalog: CatalogStore, repository: string, digest: string): Promise<boolean> {
  const tags = await catalog.tags(repository);
  if (tags.some((t) => t.digest === digest)) return true;
  const parents = new Set(await catalog.parentsOf(digest));
  return tags.some((t) => parents.has(t.digest));
}
