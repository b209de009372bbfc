import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import { parseSecuritySupport, securitySupportMatches } from './security-support.js';

const read = (name: string) => readFileSync(sharedData('feeds', 'debian', 'security-support', name), 'utf8');
// Entries counted straight from the text: lines that are neither blank nor comments.
const entryLines = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).length;

describe('debian-security-support lists', () => {
  test('every entry of every real list is read', () => {
    for (const name of ['security-support-ended', 'security-support-ended.deb9', 'security-support-ended.deb10', 'security-support-ended.deb11', 'security-support-ended.deb12', 'security-support-limited']) {
      const text = read(name);
      assert.equal(parseSecuritySupport(text, '12').length, entryLines(text), name);
    }
  });

  test('ended entries: version, date, note', () => {
    const entries = parseSecuritySupport(read('security-support-ended.deb9'), '9');
    assert.ok(entries.every((e) => e.status === 'ended' && e.release === '9'));
    assert.deepEqual(
      entries.find((e) => e.package === 'xen'),
      {
        package: 'xen',
        status: 'ended',
        version: '4.8.5.final+shim4.10.4-1+deb9u12',
        date: '2020-01-13',
        note: 'https://lists.debian.org/debian-security-announce/2020/msg00005.html',
        release: '9',
      },
    );
    const mongodb = entries.find((e) => e.package === 'mongodb');
    assert.equal(mongodb?.version, '1:3.2.11-2+deb9u2');
  });

  test('limited entries: note only', () => {
    const entries = parseSecuritySupport(read('security-support-limited'), 'bookworm');
    assert.ok(entries.every((e) => e.status === 'limited' && e.version === undefined));
    assert.deepEqual(entries.find((e) => e.package === 'binutils'), {
      package: 'binutils',
      status: 'limited',
      note: 'Only suitable for trusted content; see https://lists.debian.org/msgid-search/87lfqsomtg.fsf@mid.deneb.enyo.de',
      release: 'bookworm',
    });
  });

  test('a list with no entries gives []', () => {
    assert.deepEqual(parseSecuritySupport(read('security-support-ended.deb11'), '11'), []);
    assert.deepEqual(parseSecuritySupport('', '11'), []);
  });

  test('pattern entries match whole names; plain entries match exactly', () => {
    const entries = parseSecuritySupport(read('security-support-ended.deb12'), '12');
    const horde = entries.find((e) => e.package === 'php-horde.*');
    assert.ok(horde);
    assert.equal(horde.version, '0');
    assert.equal(securitySupportMatches(horde, 'php-horde-imp'), true);
    assert.equal(securitySupportMatches(horde, 'php-hordex'), true);
    assert.equal(securitySupportMatches(horde, 'xphp-horde'), false);
    const pdns = entries.find((e) => e.package === 'pdns');
    assert.ok(pdns);
    assert.equal(securitySupportMatches(pdns, 'pdns'), true);
    assert.equal(securitySupportMatches(pdns, 'pdns-recursor'), false);
  });
});
