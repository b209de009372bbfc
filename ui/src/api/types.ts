/**
 * The API's shapes as the pages use them, named. Each is the generated OpenAPI type
 * (./schema.d.ts, `npm run openapi`), so the UI follows the service's zod schemas.
 */
import type { components } from './schema';

type Schemas = components['schemas'];
export type RepositoryView = Schemas['RepositoryView'];
export type TagGroup = Schemas['TagGroup'];
export type ManifestView = Schemas['ManifestView'];
export type FindingPage = Schemas['FindingPage'];
export type AggregatedFinding = Schemas['AggregatedFinding'];
export type AdvisoryUse = Schemas['AdvisoryUse'];
export type TagComparison = Schemas['TagComparison'];
export type DbStatus = Schemas['DbStatus'];
export type BackendStatus = Schemas['BackendStatus'];
export type RepositoryHistory = Schemas['RepositoryHistory'];
export type ManifestDetail = Schemas['ManifestDetail'];
