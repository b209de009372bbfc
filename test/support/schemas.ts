import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

// The official SARIF 2.1.0 JSON schema (OASIS, revision rtm.5, the one schemastore publishes as
// sarif-2.1.0-rtm.5.json) as shipped by Microsoft's @microsoft/jest-sarif package. It is draft-04,
// hence Ajv's draft-04 build. Its `language` pattern (`...-[a-zA-Z]{2}]?$`, a stray `]`) is only valid
// without the regex `u` flag, so unicodeRegExp is off, as in the Ajv 6 that jest-sarif itself uses.
const require = createRequire(import.meta.url);
const sarifSchemaPath = join(dirname(require.resolve('@microsoft/jest-sarif/package.json')), 'lib', 'schemas', 'sarif-2.1.0-rtm.5.json');
export const sarifSchema = JSON.parse(readFileSync(sarifSchemaPath, 'utf8')) as Record<string, unknown>;
// Both packages are CommonJS whose module.exports also carries itself as `.default`, the only
// spelling that type-checks under NodeNext.
const ajv = new ajvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
ajvFormats.default(ajv);
const validateSarifSchema = ajv.compile(sarifSchema);

/** Asserts that `log` is valid SARIF 2.1.0. */
export function assertValidSarif(log: unknown): void {
  const ok = validateSarifSchema(log);
  assert.equal(ok, true, `SARIF schema errors: ${JSON.stringify(validateSarifSchema.errors, null, 2)}`);
}

const cyclonedxValidator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

/** Asserts that `doc` passes the CycloneDX library's strict 1.6 JSON validator. */
export async function assertValidCycloneDx(doc: unknown): Promise<void> {
  const errors = await cyclonedxValidator.validate(JSON.stringify(doc));
  assert.equal(errors, null, `CycloneDX 1.6 strict schema errors: ${JSON.stringify(errors, null, 2)}`);
}

export interface JUnitCase {
  name: string;
  classname: string;
  failure?: string;
}

/**
 * Parses JUnit XML the way CI parsers read it (testsuites > testsuite[name,tests,failures] >
 * testcase[classname,name] > failure[message]) and returns the cases; asserts well-formedness and
 * that each suite's counts agree with its cases.
 */
export function parseJUnit(xml: string): { suites: { name: string; tests: number; failures: number; cases: JUnitCase[] }[] } {
  assert.equal(XMLValidator.validate(xml), true, 'JUnit XML is well-formed');
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'failure'].includes(name) });
  const doc = parser.parse(xml) as { testsuites?: { testsuite?: Record<string, unknown>[] } };
  const suites = (doc.testsuites?.testsuite ?? []).map((s) => {
    const cases = ((s.testcase as Record<string, unknown>[] | undefined) ?? []).map((c) => {
      const failure = (c.failure as { message?: string }[] | undefined)?.[0];
      return { name: String(c.name), classname: String(c.classname), ...(failure ? { failure: String(failure.message ?? '') } : {}) };
    });
    const suite = { name: String(s.name), tests: Number(s.tests), failures: Number(s.failures), cases };
    assert.equal(suite.tests, cases.length, `suite ${suite.name}: tests attribute`);
    assert.equal(suite.failures, cases.filter((c) => c.failure !== undefined).length, `suite ${suite.name}: failures attribute`);
    return suite;
  });
  return { suites };
}
