/**
 * The scan results over HTTP (scope read): Quay's security endpoint for a manifest, with Quay's
 * envelope and field names, and the service's own routes beside it: repositories, a repository's
 * tags grouped by digest, a repository's findings over time, a manifest with its tags and layers,
 * its findings (filtered, sorted, paged) and their export (JSON, CSV, SARIF), the tags an advisory
 * affects, two tags compared, and the job queue. Answers are typed by src/server/routes/response-schemas.ts. Findings and counts are the aggregate over every backend that
 * scanned the manifest, with provenance (src/service/aggregate.ts); `?backend=` narrows a manifest's
 * findings to one backend's. Every answer comes from the store; nothing here pulls an image.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { SEVERITIES, type Severity } from '../../domain/severity.js';
import { quaySecurityInformation, quayStatusOnly } from '../../report/quay-security.js';
import { FINDING_STATUSES, manifestAggregate, type FindingStatus } from '../../service/aggregate.js';
import { EMBEDDED_BACKEND } from '../../service/embedded-backend.js';
import { EXPORT_FORMATS, exportFindings } from '../../service/findings-export.js';
import { advisoryUsage, compareTags, FINDING_SORT_KEYS, manifestDetail, manifestFindings, manifestView, MAX_PAGE, repositoryHistory, repositoryViews, selectedFindings, tagGroups, type FindingFilter, type FindingOrder } from '../../service/queries.js';
import { storedInventory } from '../../service/stored-results.js';
import { CatalogStore } from '../../store/catalog.js';
import { JobQueue } from '../../store/jobs.js';
import type { Store } from '../../store/open-store.js';
import { errorResponseSchema, withStore } from '../errors.js';
import { AUTH_ERRORS } from './tokens.js';
import { digestSchema, nameSchema } from './params.js';
import { advisoryUsageSchema, findingPageSchema, manifestDetailSchema, repositoryHistorySchema, repositoryViewSchema, tagComparisonSchema, tagGroupSchema } from './response-schemas.js';

const NOT_FOUND = { 404: errorResponseSchema, 400: errorResponseSchema } as const;
/** Quay's security information: its own shape, made by src/report/quay-security.ts, documented loosely here. */
const quayData = z.any();

const severityListPattern = `(${SEVERITIES.join('|')})`;
const statusListPattern = `(${FINDING_STATUSES.join('|')})`;
const sortPattern = `^-?(${FINDING_SORT_KEYS.join('|')})$`;
/** The filters and order of a manifest's findings, shared by the list and its export. */
const findingQuery = z.object({
  severity: z.string().regex(new RegExp(`^${severityListPattern}(,${severityListPattern})*$`), { message: `a comma-separated list of ${SEVERITIES.join(', ')}` }).optional(),
  fixable: z.enum(['true', 'false']).optional(),
  package: z.string().max(512).optional().describe('package name, exact (case-insensitive)'),
  id: z.string().max(512).optional().describe('advisory id or alias, exact (case-insensitive)'),
  backend: z.string().max(64).optional().describe('only what this backend found'),
  q: z.string().max(512).optional().describe('free text: a case-insensitive substring of the id, an alias, the package name, the title or the description'),
  status: z.string().regex(new RegExp(`^${statusListPattern}(,${statusListPattern})*$`), { message: `a comma-separated list of ${FINDING_STATUSES.join(', ')}` }).optional(),
  sort: z
    .string()
    .regex(new RegExp(sortPattern), { message: `one of ${FINDING_SORT_KEYS.join(', ')}, with - before it for descending` })
    .optional()
    .describe('severity (least severe first), id, package, version, fixed, status; `-` before it: descending (`-severity`, most severe first, is the default); ties by id, then package'),
});
type FindingQuery = z.infer<typeof findingQuery>;

/** The service's filter and order from the validated query (the regexes above admit only known words). */
function findingSelection(q: FindingQuery): { filter: FindingFilter; order?: FindingOrder } {
  const severities = q.severity?.split(',').filter((s): s is Severity => (SEVERITIES as readonly string[]).includes(s));
  const statuses = q.status?.split(',').filter((s): s is FindingStatus => (FINDING_STATUSES as readonly string[]).includes(s));
  const key = q.sort?.replace(/^-/, '');
  const sortKey = FINDING_SORT_KEYS.find((k) => k === key);
  return {
    filter: {
      ...(severities ? { severities } : {}),
      ...(q.fixable === 'true' ? { fixable: true } : {}),
      ...(q.package ? { package: q.package } : {}),
      ...(q.id ? { id: q.id } : {}),
      ...(q.backend ? { backend: q.backend } : {}),
      ...(q.q ? { q: q.q } : {}),
      ...(statuses ? { statuses } : {}),
    },
    ...(sortKey !== undefined ? { order: { key: sortKey, descending: q.sort?.startsWith('-') ?? false } } : {}),
  };
}

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
        response: { 200: z.object({ status: z.enum(['queued', 'scanned', 'failed', 'unsupported']), data: quayData }), ...NOT_FOUND, ...AUTH_ERRORS },
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
    { config: { access: 'read' }, schema: { summary: 'Every repository: tag count, last push, findings per severity, worst severity', tags: ['results'], response: { 200: z.object({ repositories: z.array(repositoryViewSchema) }).meta({ id: 'RepositoryList' }), ...AUTH_ERRORS } } },
    async (request) => ({ repositories: await withStore(request, 'listing repositories', () => repositoryViews(catalog)) }),
  );

  routes.get(
    '/api/v1/repositories/:namespace/:name/tags',
    {
      config: { access: 'read' },
      schema: { summary: "A repository's tags grouped by digest, each manifest with its scan state (platform children of an index each with theirs)", tags: ['results'], params: z.object({ namespace: nameSchema, name: nameSchema }), response: { 200: z.object({ repository: z.string(), groups: z.array(tagGroupSchema) }).meta({ id: 'TagGroupList' }), ...NOT_FOUND, ...AUTH_ERRORS } },
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
        summary: "A manifest's findings aggregated over every backend (found by, disagreements, each backend's state), most severe first; filtered (backend= keeps what that backend found), sorted and paged",
        tags: ['results'],
        params: z.object({ digest: digestSchema }),
        querystring: findingQuery.extend({
          offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
          limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
        }),
        response: { 200: findingPageSchema, ...NOT_FOUND, ...AUTH_ERRORS },
      },
    },
    async (request) => {
      const { filter, order } = findingSelection(request.query);
      return withStore(request, 'reading findings', () => manifestFindings(catalog, request.params.digest, filter, { offset: request.query.offset, limit: request.query.limit }, order));
    },
  );

  routes.get(
    '/api/v1/manifests/:digest/findings/export',
    {
      config: { access: 'read' },
      schema: {
        summary: "Every finding of a manifest the filters keep, in the order asked, as a download: JSON (the findings route's answer without paging), CSV (RFC 4180, formula cells neutralised) or SARIF 2.1.0",
        tags: ['results'],
        params: z.object({ digest: digestSchema }),
        querystring: findingQuery.extend({ format: z.enum(EXPORT_FORMATS).default('json') }),
        response: {
          200: {
            description: 'The file, as an attachment named after the digest',
            content: {
              'application/json': { schema: findingPageSchema },
              'text/csv': { schema: z.string().describe('RFC 4180, a header row: id, severity, package, version, fixed in, status, layer, found by, title') },
              'application/sarif+json': { schema: z.looseObject({ version: z.literal('2.1.0'), runs: z.array(z.looseObject({})) }).describe('SARIF 2.1.0') },
            },
          },
          ...NOT_FOUND,
          ...AUTH_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const { filter, order } = findingSelection(request.query);
      const digest = request.params.digest;
      const selected = await withStore(request, 'exporting findings', () => selectedFindings(catalog, digest, filter, order));
      const file = exportFindings(request.query.format, digest, selected.aggregate, selected.kept, filter.backend);
      void reply.header('content-type', file.mediaType).header('content-disposition', `attachment; filename="${file.fileName}"`);
      // Sent as text: the body is already serialized in its own format (the JSON one is a FindingPage).
      return reply.serializer((body: unknown) => String(body)).send(file.body);
    },
  );

  routes.get(
    '/api/v1/advisories/:id',
    { config: { access: 'read' }, schema: { summary: 'Every repository, tag and package an advisory (or one of its aliases) affects', tags: ['results'], params: z.object({ id: z.string().min(1).max(256) }), response: { 200: advisoryUsageSchema, ...AUTH_ERRORS } } },
    async (request) => ({ id: request.params.id, affected: await withStore(request, 'finding an advisory', () => advisoryUsage(catalog, request.params.id)) }),
  );

  routes.get(
    '/api/v1/repositories/:namespace/:name/compare',
    {
      config: { access: 'read' },
      schema: { summary: 'Two tags of a repository compared: findings fixed, introduced, unchanged', tags: ['results'], params: z.object({ namespace: nameSchema, name: nameSchema }), querystring: z.object({ from: z.string().min(1).max(128), to: z.string().min(1).max(128) }), response: { 200: tagComparisonSchema, ...NOT_FOUND, ...AUTH_ERRORS } },
    },
    async (request) => withStore(request, 'comparing tags', () => compareTags(catalog, `${request.params.namespace}/${request.params.name}`, request.query.from, request.query.to)),
  );

  routes.get(
    '/api/v1/repositories/:namespace/:name/history',
    {
      config: { access: 'read' },
      schema: {
        summary: "A repository's findings per severity over time (from the stored scan history): the repository's sum and each tag's own points",
        tags: ['results'],
        params: z.object({ namespace: nameSchema, name: nameSchema }),
        response: { 200: repositoryHistorySchema, ...NOT_FOUND, ...AUTH_ERRORS },
      },
    },
    async (request) => withStore(request, 'reading the history', () => repositoryHistory(catalog, `${request.params.namespace}/${request.params.name}`)),
  );

  routes.get(
    '/api/v1/manifests/:digest',
    {
      config: { access: 'read' },
      schema: {
        summary: 'A manifest: kind, media type, size, platform, scan state (an index: its platform children), the tags reaching it, and from its stored inventory its layers (with the command that made each) and distribution',
        tags: ['results'],
        params: z.object({ digest: digestSchema }),
        response: { 200: manifestDetailSchema, ...NOT_FOUND, ...AUTH_ERRORS },
      },
    },
    async (request) => withStore(request, 'reading a manifest', () => manifestDetail(catalog, request.params.digest)),
  );

  routes.get(
    '/api/v1/queue',
    { config: { access: 'read' }, schema: { summary: 'Jobs per state in the durable queue', tags: ['results'], response: { 200: z.object({ ready: z.number(), running: z.number(), done: z.number(), failed: z.number() }).meta({ id: 'QueueCounts' }), ...AUTH_ERRORS } } },
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
