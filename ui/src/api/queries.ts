/** One function per API call a page makes, typed by the generated OpenAPI paths. */
import { api, unwrap } from './client';
import type { AdvisoryUse, BackendStatus, DbStatus, FindingPage, ManifestDetail, RepositoryHistory, RepositoryView, TagComparison, TagGroup } from './types';

/** Repository names are `namespace/name` in this API. */
function splitRepository(repository: string): { namespace: string; name: string } {
  const slash = repository.indexOf('/');
  return slash < 0 ? { namespace: 'library', name: repository } : { namespace: repository.slice(0, slash), name: repository.slice(slash + 1) };
}

export async function listRepositories(): Promise<RepositoryView[]> {
  return (await unwrap(api.GET('/api/v1/repositories'))).repositories;
}

export async function repositoryTags(repository: string): Promise<TagGroup[]> {
  return (await unwrap(api.GET('/api/v1/repositories/{namespace}/{name}/tags', { params: { path: splitRepository(repository) } }))).groups;
}

export async function repositoryHistory(repository: string): Promise<RepositoryHistory> {
  return unwrap(api.GET('/api/v1/repositories/{namespace}/{name}/history', { params: { path: splitRepository(repository) } }));
}

export async function compareTags(repository: string, from: string, to: string): Promise<TagComparison> {
  return unwrap(api.GET('/api/v1/repositories/{namespace}/{name}/compare', { params: { path: splitRepository(repository), query: { from, to } } }));
}

export async function manifestDetail(digest: string): Promise<ManifestDetail> {
  return unwrap(api.GET('/api/v1/manifests/{digest}', { params: { path: { digest } } }));
}

/** The findings filters the tag page offers; each maps to a query parameter of the findings route. */
export interface FindingQuery {
  severity?: string;
  fixable?: boolean;
  backend?: string;
  package?: string;
  q?: string;
  status?: string;
  sort?: string;
}

function findingParams(query: FindingQuery) {
  return {
    ...(query.severity ? { severity: query.severity } : {}),
    ...(query.fixable ? { fixable: 'true' as const } : {}),
    ...(query.backend ? { backend: query.backend } : {}),
    ...(query.package ? { package: query.package } : {}),
    ...(query.q ? { q: query.q } : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(query.sort ? { sort: query.sort } : {}),
  };
}

/** Requests started before the page asked for them (see prefetchManifestFindings), by request. */
const prefetched = new Map<string, Promise<FindingPage>>();
const findingsKey = (digest: string, query: FindingQuery, offset: number, limit: number): string => JSON.stringify([digest, findingParams(query), offset, limit]);

export async function manifestFindings(digest: string, query: FindingQuery, offset: number, limit: number): Promise<FindingPage> {
  const key = findingsKey(digest, query, offset, limit);
  const early = prefetched.get(key);
  if (early !== undefined) {
    prefetched.delete(key);
    return early;
  }
  return unwrap(api.GET('/api/v1/manifests/{digest}/findings', { params: { path: { digest }, query: { ...findingParams(query), offset, limit } } }));
}

/**
 * Starts the request for a page of findings now, for a component that will ask for it once its
 * own data is in: the tag page's table waits for the manifest's detail, and its first page need
 * not wait behind it. Used once, by the next identical manifestFindings call.
 */
export function prefetchManifestFindings(digest: string, query: FindingQuery, offset: number, limit: number): void {
  const key = findingsKey(digest, query, offset, limit);
  if (prefetched.has(key)) return;
  const request = manifestFindings(digest, query, offset, limit);
  request.catch(() => undefined); // a failure is reported when the table asks for it
  prefetched.set(key, request);
}

/** The export link for what the filters show (a GET with the session cookie; the browser downloads it). */
export function findingsExportUrl(digest: string, query: FindingQuery, format: 'json' | 'csv' | 'sarif'): string {
  const params = new URLSearchParams({ ...findingParams(query), format });
  return `/api/v1/manifests/${encodeURIComponent(digest)}/findings/export?${params.toString()}`;
}

export async function advisoryUsage(id: string): Promise<AdvisoryUse[]> {
  return (await unwrap(api.GET('/api/v1/advisories/{id}', { params: { path: { id } } }))).affected;
}

export async function feedsStatus(): Promise<DbStatus> {
  return unwrap(api.GET('/api/v1/feeds'));
}

export async function backendsStatus(): Promise<BackendStatus[]> {
  return (await unwrap(api.GET('/api/v1/backends'))).backends;
}
