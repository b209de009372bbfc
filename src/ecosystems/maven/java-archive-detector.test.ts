import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { sharedData, sharedDataRoot } from '../../../test/support/shared-data.js';
import { isPortcullisError } from '../../domain/errors.js';
import type { DetectorOutput } from '../../detectors/types.js';
import { archiveNameVersion, DEFAULT_ARCHIVE_LIMITS, javaArchiveDetector, parseManifest, parseProperties, scanJavaArchive } from './java-archive-detector.js';
import { listZipEntries, readZipEntry } from './zip.js';

const javaDir = sharedData('pkgdb', 'java');
const realJars = readdirSync(javaDir).filter((f) => f.endsWith('.jar'));

function zip(files: Record<string, string | Buffer | [Buffer, { level: 0 | 9 }]>): Buffer {
  const input: Zippable = {};
  for (const [name, v] of Object.entries(files)) {
    if (Array.isArray(v)) input[name] = [new Uint8Array(v[0]), v[1]];
    else input[name] = typeof v === 'string' ? new TextEncoder().encode(v) : new Uint8Array(v);
  }
  return Buffer.from(zipSync(input));
}

/** The Debian package version of each real jar, from MANIFEST.tsv ("Debian package <pkg> <version>"). */
function debianVersions(): Map<string, string> {
  const manifest = readFileSync(join(sharedDataRoot, 'MANIFEST.tsv'), 'utf8');
  const out = new Map<string, string>();
  for (const line of manifest.split('\n')) {
    const [path, origin] = line.split('\t');
    const m = /^pkgdb\/java\/([^/]+\.jar)$/.exec(path ?? '');
    const d = /^Debian package \S+ (\S+)$/.exec(origin ?? '');
    if (m && d) out.set(m[1] ?? '', d[1] ?? '');
  }
  return out;
}

describe('java-archive detector on real jars', () => {
  test('each Debian jar equals its pom.properties and its Debian package version', () => {
    const debian = debianVersions();
    assert.equal(realJars.length, 4);
    for (const jar of realJars) {
      const bytes = readFileSync(join(javaDir, jar));
      // Independent reading of the jar with fflate.
      const files = unzipSync(new Uint8Array(bytes), { filter: (f) => f.name.endsWith('pom.properties') });
      const poms = Object.values(files).map((b) => Buffer.from(b).toString('utf8'));
      assert.equal(poms.length, 1, jar);
      const pom = poms[0] ?? '';
      const field = (k: string): string => new RegExp(`^${k}=(.*)$`, 'm').exec(pom)?.[1]?.trim() ?? '';
      const out = scanJavaArchive(`usr/share/java/${jar}`, bytes);
      assert.equal(out.warnings, undefined, jar);
      assert.deepEqual(
        out.packages?.map((p) => [p.name, p.version, p.attributes?.['identifiedBy']]),
        [[`${field('groupId')}:${field('artifactId')}`, field('version'), 'pom.properties']],
        jar,
      );
      // Debian version without the revision and repack suffixes: 2.14.1-2~deb12u1 -> 2.14.1.
      const upstream = debian.get(jar)?.replace(/-[^-]*$/, '').replace(/[+~].*$/, '');
      assert.equal(out.packages?.[0]?.version, upstream, jar);
    }
  });

  test('hand-checked: commons-lang3', () => {
    const out = scanJavaArchive('usr/share/java/commons-lang3.jar', readFileSync(join(javaDir, 'commons-lang3.jar')));
    assert.deepEqual(out.packages, [
      {
        ecosystem: 'maven',
        name: 'org.apache.commons:commons-lang3',
        version: '3.12.0',
        path: 'usr/share/java/commons-lang3.jar',
        attributes: {
          identifiedBy: 'pom.properties',
          artifactId: 'commons-lang3',
          groupId: 'org.apache.commons',
          pomProperties: 'META-INF/maven/org.apache.commons/commons-lang3/pom.properties',
        },
      },
    ]);
  });

  test('a war with the real jars in WEB-INF/lib (stored and deflated) finds them all', () => {
    const jars = Object.fromEntries(realJars.map((j, i) => [`WEB-INF/lib/${j}`, [readFileSync(join(javaDir, j)), { level: i % 2 === 0 ? 0 : 9 }] as [Buffer, { level: 0 | 9 }]]));
    const war = zip({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\r\n\r\n', 'WEB-INF/web.xml': '<web-app/>', ...jars });
    const out = scanJavaArchive('srv/app/shop-1.4.2.war', war);
    assert.deepEqual(
      out.packages?.map((p) => [p.name, p.version, p.attributes?.['identifiedBy'], p.attributes?.['location']]),
      [
        ['shop', '1.4.2', 'filename', undefined],
        ['org.apache.commons:commons-lang3', '3.12.0', 'pom.properties', 'srv/app/shop-1.4.2.war!/WEB-INF/lib/commons-lang3.jar'],
        ['com.fasterxml.jackson.core:jackson-core', '2.14.1', 'pom.properties', 'srv/app/shop-1.4.2.war!/WEB-INF/lib/jackson-core.jar'],
        ['com.fasterxml.jackson.core:jackson-databind', '2.14.0', 'pom.properties', 'srv/app/shop-1.4.2.war!/WEB-INF/lib/jackson-databind.jar'],
        ['org.slf4j:slf4j-api', '1.7.32', 'pom.properties', 'srv/app/shop-1.4.2.war!/WEB-INF/lib/slf4j-api.jar'],
      ],
    );
    assert.ok(out.packages?.every((p) => p.path === 'srv/app/shop-1.4.2.war'));
  });
});

describe('pom.properties of named upstream jars', () => {
  const dir = sharedData('pkgdb', 'java', 'pom-properties');
  const files = readdirSync(dir).filter((f) => f.endsWith('.pom.properties'));

  test('each one, packed into a jar of its name, is identified by it', () => {
    assert.equal(files.length, 32);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const field = (k: string): string => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
      const jarName = f.replace(/\.pom\.properties$/, '');
      const jar = zip({ [`META-INF/maven/${field('groupId')}/${field('artifactId')}/pom.properties`]: text });
      const out = scanJavaArchive(`opt/app/lib/${jarName}`, jar);
      assert.deepEqual(
        out.packages?.map((p) => [p.name, p.version]),
        [[`${field('groupId')}:${field('artifactId')}`, field('version')]],
        f,
      );
    }
  });

  test('a shaded jar reports the shaded artifact (and no guess from the file name)', () => {
    const text = readFileSync(join(dir, 'cassandra-driver-core-3.11.0-shaded.jar.pom.properties'), 'utf8');
    const out = scanJavaArchive('x/cassandra-driver-core-3.11.0-shaded.jar', zip({ 'META-INF/maven/org.jctools/jctools-core/pom.properties': text }));
    assert.deepEqual(
      out.packages?.map((p) => [p.name, p.version]),
      [['org.jctools:jctools-core', '2.1.1']],
    );
  });
});

describe('java-archive fallbacks', () => {
  test('manifest, then file name, then a warning', () => {
    const mf = 'Manifest-Version: 1.0\r\nImplementation-Title: acme-util\r\nImplementation-Version: 2.0.1\r\nImplementation-Vendor-Id: com.acme\r\n\r\nName: x\r\nImplementation-Version: 9\r\n';
    const byManifest = scanJavaArchive('lib/acme-util.jar', zip({ 'META-INF/MANIFEST.MF': mf }));
    assert.deepEqual(
      byManifest.packages?.map((p) => [p.name, p.version, p.attributes?.['identifiedBy']]),
      [['com.acme:acme-util', '2.0.1', 'manifest']],
    );
    const bundle = scanJavaArchive('lib/thing.jar', zip({ 'META-INF/MANIFEST.MF': 'Bundle-SymbolicName: org.thing.core;singleton:=true\nBundle-Version: 3.4.5.v2020\n' }));
    assert.deepEqual(
      bundle.packages?.map((p) => [p.name, p.version]),
      [['org.thing.core', '3.4.5.v2020']],
    );
    const byName = scanJavaArchive('lib/guava-27.0-jre.jar', zip({ 'com/google/X.class': 'x' }));
    assert.deepEqual(
      byName.packages?.map((p) => [p.name, p.version, p.attributes?.['identifiedBy']]),
      [['guava', '27.0-jre', 'filename']],
    );
    const none = scanJavaArchive('lib/app.jar', zip({ 'A.class': 'x' }));
    assert.equal(none.packages, undefined);
    assert.equal(none.warnings?.[0]?.code, 'unidentified-archive');
  });

  test('file names, properties and manifests', () => {
    assert.deepEqual(archiveNameVersion('java-cup-runtime-11b-20160615.jar'), { artifactId: 'java-cup-runtime', version: '11b-20160615' });
    assert.deepEqual(archiveNameVersion('a/b/commons-lang3.jar'), { artifactId: 'commons-lang3' });
    const props = parseProperties('# c\n! c\nversion = 1.0\\\n  .1\ngroupId:org.x\nartifactId=a\\u0062c\nempty\n');
    assert.deepEqual([...props], [
      ['version', '1.0.1'],
      ['groupId', 'org.x'],
      ['artifactId', 'abc'],
      ['empty', ''],
    ]);
    const mf = parseManifest('Bundle-Description: General data-binding functionality for Jackson: work\r\n s on core streaming API\r\nBundle-Version: 2.14.0\r\n');
    assert.equal(mf.get('Bundle-Description'), 'General data-binding functionality for Jackson: works on core streaming API');
  });
});

describe('java-archive limits and garbage', () => {
  const small = { ...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 4 * 1024 * 1024 };

  test('a highly compressible nested jar stays under the byte budget', () => {
    // 32 MiB of zeros deflates to ~32 KiB; the budget is 4 MiB.
    const bomb = zip({ 'lib/huge.jar': [Buffer.alloc(32 * 1024 * 1024), { level: 9 }] });
    assert.ok(bomb.length < 100_000);
    const before = process.memoryUsage().arrayBuffers;
    const out = scanJavaArchive('app/bomb.jar', bomb, small);
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
    assert.equal(out.warnings?.some((w) => w.code === 'archive-limit'), true);
  });

  test('an entry that inflates past its declared size is refused', () => {
    const inner = Buffer.alloc(1024 * 1024, 0x41);
    const bytes = zip({ 'META-INF/maven/g/a/pom.properties': [inner, { level: 9 }] });
    // Lower the declared uncompressed size in the central directory to 10 bytes.
    const entry = listZipEntries(bytes)[0];
    assert.ok(entry);
    const cd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bytes.writeUInt32LE(10, cd + 24);
    assert.throws(
      () => readZipEntry(bytes, { ...entry, uncompressedSize: 10 }, 1 << 20),
      (err) => isPortcullisError(err, 'E_TOO_LARGE'),
    );
    const out = scanJavaArchive('x/a-1.0.jar', bytes);
    assert.equal(out.warnings?.[0]?.code, 'malformed-record');
  });

  test('nesting deeper than the cap is not opened', () => {
    let jar = zip({ 'META-INF/maven/g/deepest/pom.properties': 'groupId=g\nartifactId=deepest\nversion=1\n' });
    for (let level = 9; level >= 1; level--) {
      jar = zip({ [`META-INF/maven/g/l${level}/pom.properties`]: `groupId=g\nartifactId=l${level}\nversion=1\n`, 'lib/inner.jar': [jar, { level: 0 }] });
    }
    const out = scanJavaArchive('app/outer.jar', jar);
    assert.deepEqual(
      out.packages?.map((p) => p.name),
      ['g:l1', 'g:l2', 'g:l3', 'g:l4', 'g:l5'],
    );
    assert.equal(out.warnings?.length, 1);
    assert.equal(out.warnings?.[0]?.code, 'archive-limit');
  });

  test('many entries pointing at the same nested jar stop at the budget', () => {
    // An overlapping-entry bomb: every central-directory entry names the same stored jar.
    const inner = zip({ 'META-INF/maven/g/a/pom.properties': 'groupId=g\nartifactId=a\nversion=1\n', 'pad.bin': [Buffer.alloc(64 * 1024, 1), { level: 0 }] });
    const outer = zip(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`lib/j${i}.jar`, [inner, { level: 0 }] as [Buffer, { level: 0 | 9 }]])));
    const out = scanJavaArchive('app/fan.jar', outer, { ...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 2 * 1024 * 1024 });
    assert.deepEqual(
      out.packages?.map((p) => p.name),
      ['g:a'],
    );
    assert.ok(out.warnings?.some((w) => w.code === 'archive-limit'));
    const fewArchives = scanJavaArchive('app/fan.jar', outer, { ...DEFAULT_ARCHIVE_LIMITS, maxArchives: 10 });
    assert.ok(fewArchives.warnings?.some((w) => w.code === 'archive-limit' && w.message.includes('10 nested archives')));
  });

  test('garbage and truncated archives give typed errors or warnings', async () => {
    const real = readFileSync(join(javaDir, 'slf4j-api.jar'));
    for (const bytes of [Buffer.alloc(0), Buffer.from('not a zip'), Buffer.alloc(5000, 0x50), real.subarray(0, 1000), real.subarray(0, real.length - 30)]) {
      assert.throws(
        () => scanJavaArchive('x.jar', bytes),
        (err) => isPortcullisError(err, 'E_INPUT') && err.message.startsWith('java-archive: '),
      );
    }
    // Corrupt bytes inside: random flips never escape as anything but typed errors.
    let seed = 11;
    for (let i = 0; i < 200; i++) {
      const copy = Buffer.from(real);
      for (let k = 0; k < 20; k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        copy[seed % copy.length] = seed & 0xff;
      }
      try {
        const out: DetectorOutput = await javaArchiveDetector.parse({ path: 'x.jar', size: copy.length, mode: 0o644, bytes: copy });
        assert.ok(out.packages !== undefined || out.warnings !== undefined);
      } catch (err) {
        assert.ok(isPortcullisError(err), String(err));
      }
    }
    // A nested archive that is garbage is a warning; the outer archive is still reported.
    const out = scanJavaArchive('lib/outer-1.0.jar', zip({ 'lib/bad.jar': 'garbage' }));
    assert.deepEqual(
      out.packages?.map((p) => p.name),
      ['outer'],
    );
    assert.equal(out.warnings?.[0]?.code, 'malformed-record');
  });

  test('wants Java archives by extension', () => {
    for (const p of ['a.jar', 'x/y.WAR', 'z.ear', 'jenkins/plugins/git.jpi', 'p.hpi', 'a.par', 'b.sar']) assert.ok(javaArchiveDetector.wants({ path: p, size: 1, mode: 0o644 }), p);
    for (const p of ['a.jar.sha1', 'a.zip', 'jar', 'a.class']) assert.ok(!javaArchiveDetector.wants({ path: p, size: 1, mode: 0o644 }), p);
  });
});
