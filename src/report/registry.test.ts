import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isPortcullisError } from '../domain/errors.js';
import { REPORT_FORMAT_IDS } from './format-ids.js';
import { buildReportRegistry, getReportFormat, REPORT_FORMATS } from './registry.js';
import { tableFormat } from './table.js';

describe('report registry', () => {
  test('lists the six formats under unique ids', () => {
    assert.deepEqual(REPORT_FORMATS.map((f) => f.id), ['table', 'json', 'sarif', 'cyclonedx', 'junit', 'clair-scanner']);
    assert.deepEqual(REPORT_FORMATS.map((f) => f.id), [...REPORT_FORMAT_IDS], 'the CLI offers --format choices from REPORT_FORMAT_IDS without loading the renderers');
    assert.equal(buildReportRegistry(REPORT_FORMATS).size, REPORT_FORMATS.length);
    for (const f of REPORT_FORMATS) {
      assert.ok(Number.isInteger(f.version) && f.version >= 1, f.id);
      assert.ok(f.description.length > 0 && f.mediaType.includes('/') && f.fileExtension.length > 0, f.id);
    }
  });
  test('duplicate ids are rejected', () => {
    assert.throws(() => buildReportRegistry([tableFormat, { ...tableFormat }]), (err: unknown) => isPortcullisError(err, 'E_INTERNAL') && err.message === 'report: duplicate report format id "table"');
  });
  test('lookup by id; unknown ids are E_USAGE naming the known ones', () => {
    assert.equal(getReportFormat('sarif').id, 'sarif');
    assert.throws(() => getReportFormat('html'), (err: unknown) => isPortcullisError(err, 'E_USAGE') && err.message.includes('known: table, json, sarif, cyclonedx, junit, clair-scanner'));
  });
});
