/**
 * Quay's repository and tag listings (scope read), in Quay's shapes, so tools written against
 * Quay's API (`quay/quay@master:endpoints/api/repository.py` RepositoryList, `endpoints/api/tag.py`
 * ListRepositoryTags) read Portcullis as they read Quay. The manifest security endpoint beside them is
 * in results.ts. What Quay knows and a plain registry does not (descriptions, stars, popularity,
 * tag history) is answered as Quay answers for a repository without it.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { storedInventory } from '../../service/stored-results.js';
import { CatalogStore, type TagRow } from '../../store/catalog.js';
import type { Store } from '../../store/open-store.js';
import { errorResponseSchema, withStore } from '../errors.js';
import { AUTH_ERRORS } from './tokens.js';
import { nameSchema } from './params.js';

/** Quay's `truthy_bool`: true, 1, yes (any case) are true; anything else false. */
const truthy = z
  .string()
  .max(16)
  .optional()
  .transform((v) => v !== undefined && ['true', '1', 'yes', 'y', 't'].includes(v.toLowerCase()));

const repositorySchema = z.object({
  namespace: z.string(),
  name: z.string(),
  description: z.null(),
  is_public: z.boolean(),
  kind: z.literal('image'),
  state: z.literal('NORMAL'),
  last_modified: z.number().int().nullable().optional(),
  popularity: z.number().optional(),
  is_starred: z.boolean().optional(),
});

const tagSchema = z.object({
  name: z.string(),
  reversion: z.boolean(),
  start_ts: z.number().int().optional(),
  manifest_digest: z.string(),
  is_manifest_list: z.boolean(),
  size: z.number().int().nullable(),
  last_modified: z.string().optional(),
});

/** Repositories per page of `GET /api/v1/repository`, as Quay's page_support. */
const REPOSITORY_PAGE = 100;

/** RFC 2822 in UTC as Quay's `format_date` writes it (`Wed, 15 Nov 2023 10:00:00 -0000`). */
export function quayDate(iso: string): string {
  return new Date(iso).toUTCString().replace(/GMT$/, '-0000');
}

/** Seconds since the epoch (Quay's `start_ts`, `last_modified` of a repository). */
function epochSeconds(iso: string): number {
  return Math.floor(new Date(iso).getTime() / 1000);
}

/** Registers Quay's listings. */
export function quayRoutes(app: FastifyInstance, options: { store: Store }): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const catalog = new CatalogStore(options.store);

  routes.get(
    '/api/v1/repository',
    {
      config: { access: 'read' },
      schema: {
        summary: "Quay's repository list: `namespace=NS` (or `public=true` for every repository); `next_page` pages on",
        tags: ['quay'],
        querystring: z.object({
          namespace: nameSchema.optional(),
          public: truthy,
          starred: truthy,
          last_modified: truthy,
          popularity: truthy,
          repo_kind: z.string().max(32).optional(),
          next_page: z.string().regex(/^\d{1,9}$/, { message: 'a next_page token this service gave' }).optional(),
        }),
        response: { 200: z.object({ repositories: z.array(repositorySchema), next_page: z.string().optional() }), 400: errorResponseSchema, ...AUTH_ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      // As Quay: listing every visible repository needs a reason (a namespace, public or starred).
      if (q.namespace === undefined && !q.public && !q.starred) throw new PortcullisError('E_INPUT', 'namespace, starred or public are required for this API call');
      // The registry has one kind of repository, and a token holds no stars.
      if ((q.repo_kind !== undefined && q.repo_kind !== 'image') || (q.starred && q.namespace === undefined && !q.public)) return { repositories: [] };
      const all = await withStore(request, 'listing repositories', () => catalog.repositories());
      const chosen = all.filter((r) => q.namespace === undefined || r.name.startsWith(`${q.namespace}/`));
      const offset = Number(q.next_page ?? '0');
      const page = chosen.slice(offset, offset + REPOSITORY_PAGE);
      const repositories = page.map((r) => {
        const slash = r.name.indexOf('/');
        return {
          namespace: slash < 0 ? '' : r.name.slice(0, slash),
          name: slash < 0 ? r.name : r.name.slice(slash + 1),
          description: null,
          // Nothing here is readable without a token.
          is_public: false,
          kind: 'image' as const,
          state: 'NORMAL' as const,
          ...(q.last_modified ? { last_modified: r.lastPush === null ? null : epochSeconds(r.lastPush) } : {}),
          ...(q.popularity ? { popularity: 0 } : {}),
          ...(q.starred ? { is_starred: false } : {}),
        };
      });
      const more = offset + REPOSITORY_PAGE < chosen.length;
      return { repositories, ...(more ? { next_page: String(offset + REPOSITORY_PAGE) } : {}) };
    },
  );

  routes.get(
    '/api/v1/repository/:namespace/:name/tag/',
    {
      config: { access: 'read' },
      schema: {
        summary: "Quay's tag list of a repository (the tags alive now; this service keeps no tag history)",
        tags: ['quay'],
        params: z.object({ namespace: nameSchema, name: nameSchema }),
        querystring: z.object({
          specificTag: z.string().max(128).optional(),
          filter_tag_name: z
            .string()
            .max(140)
            .regex(/^(like|eq):.+$/, { message: 'filter_tag_name is <op>:<name> with op like or eq' })
            .optional(),
          limit: z.coerce.number().int().default(50),
          page: z.coerce.number().int().default(1),
          onlyActiveTags: truthy,
        }),
        response: { 200: z.object({ tags: z.array(tagSchema), page: z.number().int(), has_additional: z.boolean() }), 404: errorResponseSchema, 400: errorResponseSchema, ...AUTH_ERRORS },
      },
    },
    async (request) => {
      const repository = `${request.params.namespace}/${request.params.name}`;
      const q = request.query;
      // Quay clamps rather than refuses: limit to 1..100, page to at least 1.
      const limit = Math.min(100, Math.max(1, q.limit));
      const page = Math.max(1, q.page);
      return withStore(request, 'listing tags', async () => {
        if (!(await catalog.repositories()).some((r) => r.name === repository)) throw new PortcullisError('E_NOT_FOUND', `no repository ${repository}`);
        const matching = (await catalog.tags(repository)).filter((t) => tagMatches(t, q.specificTag, q.filter_tag_name));
        // Newest first, as Quay lists its tag history.
        matching.sort((a, b) => (a.pushedAt < b.pushedAt ? 1 : a.pushedAt > b.pushedAt ? -1 : a.name.localeCompare(b.name)));
        const slice = matching.slice((page - 1) * limit, page * limit);
        const tags = [];
        for (const t of slice) tags.push(await quayTag(catalog, t));
        return { tags, page, has_additional: page * limit < matching.length };
      });
    },
  );
}

/** Quay's tag filters: `specificTag` (exact), `filter_tag_name` `eq:NAME` or `like:PART` (SQL LIKE %PART%). */
function tagMatches(tag: TagRow, specific: string | undefined, filter: string | undefined): boolean {
  if (specific !== undefined && specific !== '' && tag.name !== specific) return false;
  if (filter === undefined) return true;
  const [op, ...rest] = filter.split(':');
  const name = rest.join(':');
  return op === 'eq' ? tag.name === name : tag.name.includes(name);
}

/** One tag in Quay's `_tag_dict` shape; `size` is the image's layers (null for a list, or before a scan read them). */
async function quayTag(catalog: CatalogStore, tag: TagRow): Promise<z.infer<typeof tagSchema>> {
  const manifest = await catalog.manifest(tag.digest);
  const isList = manifest?.kind === 'index';
  let size: number | null = null;
  if (!isList) {
    const inventory = await storedInventory(catalog, tag.digest).catch(() => undefined);
    if (inventory !== undefined) size = inventory.layers.reduce((n, l) => n + l.size, 0);
  }
  return {
    name: tag.name,
    reversion: false,
    start_ts: epochSeconds(tag.pushedAt),
    manifest_digest: tag.digest,
    is_manifest_list: isList,
    size,
    last_modified: quayDate(tag.pushedAt),
  };
}
