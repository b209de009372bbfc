import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import { isPortcullisError } from '../../domain/errors.js';
import { gemspecDetector, parseGemspec, rubyStringLiteral } from './gemspec-detector.js';

const real = (name: string): Buffer => readFileSync(sharedData('pkgdb', 'ruby', name));

describe('gemspec detector', () => {
  test('real installed specs from Debian packages', () => {
    const rack = parseGemspec('usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec', real('rack-2.2.22.gemspec'));
    assert.deepEqual(rack, {
      packages: [
        {
          ecosystem: 'gem',
          name: 'rack',
          version: '2.2.22',
          path: 'usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec',
          attributes: { identifiedBy: 'gemspec', distroPackaged: 'debian' },
          license: 'MIT',
        },
      ],
    });
    const json = parseGemspec('usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.3.gemspec', real('json-2.6.3.gemspec'));
    assert.deepEqual(
      json.packages?.map((p) => [p.name, p.version, p.license, p.attributes]),
      [['json', '2.6.3', 'Ruby', { identifiedBy: 'gemspec', defaultGem: 'true' }]],
    );
  });

  test('the literal forms of hand-written and generated specs', () => {
    const spec = (body: string): string[] | undefined => {
      const out = parseGemspec('specifications/x.gemspec', Buffer.from(`Gem::Specification.new do |spec|\n${body}\nend\n`));
      const p = out.packages?.[0];
      return p && [p.name, p.version, p.attributes?.['identifiedBy'] ?? '', p.attributes?.['platform'] ?? '', p.license ?? ''];
    };
    assert.deepEqual(spec(`  spec.name = 'nokogiri'\n  spec.version = '1.15.4'\n  spec.platform = 'x86_64-linux'`), ['nokogiri', '1.15.4', 'gemspec', 'x86_64-linux', '']);
    assert.deepEqual(spec(`  spec.name = %q{activesupport}\n  spec.version = Gem::Version.new("7.0.8")`), ['activesupport', '7.0.8', 'gemspec', '', '']);
    assert.deepEqual(spec(`  spec.name = %q<pg>.freeze\n  spec.version = ::Gem::Version.new('1.5.4'.freeze)\n  spec.license = "BSD-2-Clause"`), ['pg', '1.5.4', 'gemspec', '', 'BSD-2-Clause']);
    assert.deepEqual(spec(`  spec.name = "a\\"b"\n  spec.version = "0.1.0.pre"\n  spec.licenses = ["MIT", "Apache-2.0"]`), ['a"b', '0.1.0.pre', 'gemspec', '', 'MIT, Apache-2.0']);
  });

  test('fallbacks: stub line, then file name; else a warning', () => {
    const stub = parseGemspec('specifications/whatever.gemspec', Buffer.from('# stub: thor 1.2.2 ruby lib\nGem::Specification.new do |s|\n  s.name = NAME\nend\n'));
    assert.deepEqual(
      stub.packages?.map((p) => [p.name, p.version, p.attributes?.['identifiedBy']]),
      [['thor', '1.2.2', 'stub']],
    );
    const file = parseGemspec('specifications/ffi-1.16.3-x86_64-linux-gnu.gemspec', Buffer.from('Gem::Specification.new do |s|\n  s.name = computed\nend\n'));
    assert.deepEqual(
      file.packages?.map((p) => [p.name, p.version, p.attributes?.['identifiedBy']]),
      [['ffi', '1.16.3', 'filename']],
    );
    const none = parseGemspec('specifications/noversion.gemspec', Buffer.from('garbage'));
    assert.equal(none.packages, undefined);
    assert.equal(none.warnings?.[0]?.code, 'malformed-record');
  });

  test('garbage and truncation', () => {
    assert.throws(
      () => parseGemspec('specifications/x-1.gemspec', Buffer.from([0x73, 0x2e, 0x6e, 0, 0xff, 0x0a, 0x01])),
      (err) => isPortcullisError(err, 'E_INPUT'),
    );
    const bytes = real('rack-2.2.22.gemspec');
    for (let cut = 0; cut < bytes.length; cut += 11) {
      const out = parseGemspec('specifications/rack-2.2.22.gemspec', bytes.subarray(0, cut));
      // Whatever is cut, the file name or the stub line still identifies rack 2.2.22.
      assert.deepEqual(
        out.packages?.map((p) => [p.name, p.version]),
        [['rack', '2.2.22']],
      );
    }
  });

  test('ruby string literals', () => {
    assert.equal(rubyStringLiteral('"x".freeze'), 'x');
    assert.equal(rubyStringLiteral("'it\\'s'"), "it's");
    assert.equal(rubyStringLiteral('%Q(a b)'), 'a b');
    assert.equal(rubyStringLiteral('%[z]'), 'z');
    assert.equal(rubyStringLiteral('CONSTANT'), undefined);
  });

  test('wants installed specifications only', () => {
    const yes = [
      'usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec',
      'usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.3.gemspec',
      'usr/local/bundle/specifications/rails-7.0.8.gemspec',
      'app/vendor/bundle/ruby/3.2.0/specifications/puma-6.4.0.gemspec',
    ];
    const no = ['app/my.gemspec', 'usr/local/bundle/gems/rails-7.0.8/rails.gemspec', 'specifications/x.gemspec.bak', 'specifications/sub/x.gemspec'];
    for (const p of yes) assert.ok(gemspecDetector.wants({ path: p, size: 10, mode: 0o644 }), p);
    for (const p of no) assert.ok(!gemspecDetector.wants({ path: p, size: 10, mode: 0o644 }), p);
  });
});
