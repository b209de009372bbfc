/**
 * `npm run openapi`: writes the service's OpenAPI document to ui/src/api/openapi.json and the
 * TypeScript types openapi-typescript generates from it to ui/src/api/schema.d.ts (the web UI's
 * typed client reads both). Run it after changing a route; src/server/openapi-document.test.ts
 * fails while the committed copy differs from what the code makes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../src/server/openapi-document.js';
import { openApiJson, openApiTypes } from './openapi-files.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const document = await openApiDocument();
writeFileSync(`${root}ui/src/api/openapi.json`, openApiJson(document));
writeFileSync(`${root}ui/src/api/schema.d.ts`, await openApiTypes(document));
console.log('wrote ui/src/api/openapi.json and ui/src/api/schema.d.ts');
