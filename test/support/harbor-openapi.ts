/**
 * Harbor's pluggable scanner adapter specs (OpenAPI 3.0, v1.0 / v1.1 / v1.2, in
 * test/data/api-samples/harbor) as a checker of real requests and answers: the status must be one
 * the operation lists, the Content-Type one of that status's media types, and the body valid
 * against its schema (Ajv, with the spec's own components). Each document is first checked to be
 * valid OpenAPI with @seriousme/openapi-schema-validator, so a broken copy cannot pass silently.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { sharedData } from './shared-data.js';

export type HarborSpecVersion = '1.0' | '1.1' | '1.2';

interface MediaContent {
  schema?: unknown;
}
interface OperationDoc {
  requestBody?: { content: Record<string, MediaContent> };
  responses: Record<string, { content?: Record<string, MediaContent>; headers?: Record<string, unknown> }>;
}
interface SpecDoc {
  openapi: string;
  paths: Record<string, Record<string, OperationDoc>>;
  components: Record<string, unknown>;
}

/** `type; version=1.0` as one comparable string. */
function normalize(mediaType: string): string {
  return mediaType
    .split(';')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '')
    .join(';');
}

export class HarborSpec {
  private readonly ajv: Ajv.default;
  private readonly id: string;

  private constructor(
    readonly version: HarborSpecVersion,
    private readonly doc: SpecDoc,
  ) {
    this.id = `harbor-scanner-adapter-${version}.json`;
    this.ajv = new Ajv.default({ strict: false, allErrors: true });
    ajvFormats.default(this.ajv);
    // Formats the spec names that JSON Schema does not define: a URL, and OpenAPI's float.
    this.ajv.addFormat('url', (s: string) => URL.canParse(s));
    this.ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    this.ajv.addSchema({ $id: this.id, components: openApiNullable(doc.components) });
  }

  /** Loads and checks one version of the spec. */
  static async load(version: HarborSpecVersion): Promise<HarborSpec> {
    const raw = readFileSync(sharedData('api-samples', 'harbor', `scanner-adapter-openapi-v${version}.yaml`), 'utf8');
    const result = await new Validator().validate(raw);
    const errors = Array.isArray(result.errors) ? (result.errors as { instancePath?: string }[]) : [];
    // Upstream's v1.2 puts the `sbom_media_type` enum beside the parameter's schema instead of in
    // it (a defect of the spec at d898c3d, not of this copy): that one parameter, and only it, is
    // invalid. Its values are checked by the route's tests instead.
    const knownDefect = version === '1.2' ? '/paths/~1scan~1{scan_request_id}~1report/get/parameters/2' : undefined;
    const unexpected = errors.filter((e) => e.instancePath !== knownDefect);
    assert.deepEqual(unexpected, [], `spec v${version} is not valid OpenAPI: ${JSON.stringify(unexpected)}`);
    assert.equal(result.valid, knownDefect === undefined, `spec v${version}: the known defect ${String(knownDefect)} is ${result.valid ? 'gone (update this check)' : 'there'}`);
    const doc = parseYaml(raw) as SpecDoc;
    return new HarborSpec(version, doc);
  }

  /** The media types the spec lists for a response (empty when it lists no content). */
  responseTypes(method: string, path: string, status: number): string[] {
    return Object.keys(this.response(method, path, status).content ?? {});
  }

  /** Asserts that an answer is one the spec allows: status, media type, headers, body. */
  checkResponse(method: string, path: string, answer: { status: number; contentType: string | null; headers?: Headers; body: string }): void {
    const response = this.response(method, path, answer.status);
    if (response.headers?.['Refresh-After'] !== undefined) {
      const value = answer.headers?.get('refresh-after') ?? null;
      assert.ok(value !== null && /^\d+$/.test(value), `v${this.version} ${method} ${path} ${answer.status}: Refresh-After must be an integer, got ${String(value)}`);
    }
    const content = response.content;
    if (content === undefined) return; // the spec says nothing of a body for this status
    const [type, media] = this.media(content, answer.contentType, `v${this.version} ${method} ${path} ${answer.status}`);
    if (media.schema === undefined) return;
    const body = type.includes('json') || type.includes('vulnerability.report') ? (JSON.parse(answer.body) as unknown) : answer.body;
    this.checkSchema(media.schema, body, `v${this.version} ${method} ${path} ${answer.status} ${type}`);
  }

  /** Asserts that a request body and media type are ones the spec allows. */
  checkRequest(method: string, path: string, contentType: string, body: unknown): void {
    const content = this.operation(method, path).requestBody?.content;
    assert.ok(content !== undefined, `v${this.version} ${method} ${path} takes no body`);
    const [type, media] = this.media(content, contentType, `v${this.version} ${method} ${path} request`);
    if (media.schema !== undefined) this.checkSchema(media.schema, body, `v${this.version} ${method} ${path} request ${type}`);
  }

  private operation(method: string, path: string): OperationDoc {
    const operation = this.doc.paths[path]?.[method.toLowerCase()];
    assert.ok(operation !== undefined, `v${this.version} has no operation ${method} ${path}`);
    return operation;
  }

  private response(method: string, path: string, status: number): OperationDoc['responses'][string] {
    const operation = this.operation(method, path);
    const response = operation.responses[String(status)];
    assert.ok(response !== undefined, `v${this.version} ${method} ${path}: status ${status} is not one the spec lists (${Object.keys(operation.responses).join(', ')})`);
    return response;
  }

  private media(content: Record<string, MediaContent>, contentType: string | null, what: string): [string, MediaContent] {
    assert.ok(contentType !== null, `${what}: no Content-Type`);
    const hit = Object.entries(content).find(([t]) => normalize(t) === normalize(contentType));
    assert.ok(hit !== undefined, `${what}: Content-Type ${contentType} is not one of ${Object.keys(content).join(', ')}`);
    return hit;
  }

  private checkSchema(schema: unknown, value: unknown, what: string): void {
    // References in an operation point into the document; point them at the components added above.
    const rooted = openApiNullable(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${this.id}#/components/`)) as unknown) as Record<string, unknown>;
    const validate = this.ajv.compile(rooted);
    assert.ok(validate(value), `${what}: ${JSON.stringify(validate.errors, null, 2)}`);
  }
}

/**
 * OpenAPI 3.0.3's reading of `nullable`: it adds null to the types `type` names, and has no
 * effect without `type` (v1.2's `parameters: {oneOf, nullable}`), where Ajv would refuse it.
 */
function openApiNullable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(openApiNullable);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = openApiNullable(child);
  if (typeof out['nullable'] === 'boolean' && !('type' in out)) delete out['nullable'];
  return out;
}

/** All three versions, loaded and checked. */
export async function harborSpecs(): Promise<Record<HarborSpecVersion, HarborSpec>> {
  return { '1.0': await HarborSpec.load('1.0'), '1.1': await HarborSpec.load('1.1'), '1.2': await HarborSpec.load('1.2') };
}
