/**
 * The web UI's API client is generated from ui/src/api/openapi.json and schema.d.ts (`npm run
 * openapi`); an API change committed without regenerating them fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { openApiJson, openApiTypes } from '../../scripts/openapi-files.js';
import { openApiDocument } from './openapi-document.js';

const committed = (name: string): string => readFileSync(new URL(`../../ui/src/api/${name}`, import.meta.url), 'utf8');

/** The tool's version is in `info.version`; a release bump alone is not an API change. */
function withoutVersion(text: string): unknown {
  const doc = JSON.parse(text) as { info?: Record<string, unknown> };
  return { ...doc, info: { ...doc.info, version: '' } };
}

describe('the committed OpenAPI document and client types', () => {
  test('ui/src/api/openapi.json and schema.d.ts are what the code generates now (else: npm run openapi)', async () => {
    const document = await openApiDocument();
    assert.deepStrictEqual(withoutVersion(committed('openapi.json')), withoutVersion(openApiJson(document)), 'ui/src/api/openapi.json is stale: run npm run openapi');
    assert.equal(committed('schema.d.ts'), await openApiTypes(document), 'ui/src/api/schema.d.ts is stale: run npm run openapi');
  });

  test('the result answers are named components, not free-form JSON', async () => {
    const document = (await openApiDocument()) as { paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> } }> };
    const answer = (path: string): string | undefined => document.paths[path]?.get?.responses['200']?.content?.['application/json']?.schema.$ref;
    assert.equal(answer('/api/v1/manifests/{digest}/findings'), '#/components/schemas/FindingPage');
    assert.equal(answer('/api/v1/repositories'), '#/components/schemas/RepositoryList');
    assert.equal(answer('/api/v1/feeds'), '#/components/schemas/DbStatus');
    assert.equal(answer('/api/v1/manifests/{digest}'), '#/components/schemas/ManifestDetail');
    assert.equal(answer('/api/v1/repositories/{namespace}/{name}/history'), '#/components/schemas/RepositoryHistory');
  });
});
