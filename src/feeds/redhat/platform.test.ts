import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNevr, parseNevraId, redhatImpactSeverity, rhelNamespaceFromCpe } from './platform.js';

describe('Red Hat platforms and package ids', () => {
  test('main-stream CPEs map to rhel:<major>, whatever the variant', () => {
    assert.equal(rhelNamespaceFromCpe('cpe:/o:redhat:enterprise_linux:9'), 'rhel:9');
    assert.equal(rhelNamespaceFromCpe('cpe:/o:redhat:enterprise_linux:9::baseos'), 'rhel:9');
    assert.equal(rhelNamespaceFromCpe('cpe:/a:redhat:enterprise_linux:8::appstream'), 'rhel:8');
    assert.equal(rhelNamespaceFromCpe('cpe:/a:redhat:enterprise_linux:9::crb'), 'rhel:9');
    assert.equal(rhelNamespaceFromCpe('cpe:2.3:o:redhat:enterprise_linux:8:*:*:*:*:*:*:*'), 'rhel:8');
  });

  test('extended streams get their own namespace', () => {
    assert.equal(rhelNamespaceFromCpe('cpe:/o:redhat:rhel_eus:9.0::baseos'), 'rhel:9.0:eus');
    assert.equal(rhelNamespaceFromCpe('cpe:/o:redhat:rhel_aus:7.6::server'), 'rhel:7.6:aus');
    assert.equal(rhelNamespaceFromCpe('cpe:/o:redhat:rhel_e4s:7.6::server'), 'rhel:7.6:e4s');
    assert.equal(rhelNamespaceFromCpe('cpe:/o:redhat:rhel_els:6'), 'rhel:6:els');
  });

  test('layered products have no distribution namespace', () => {
    for (const cpe of [
      'cpe:/a:redhat:satellite:6',
      'cpe:/a:redhat:rhel_satellite_client:6::el8',
      'cpe:/a:redhat:jboss_core_services:1::el8',
      'cpe:/a:redhat:openshift:4.16::el9',
      'cpe:/a:redhat:rhel_extras_oracle_java:7',
      'cpe:/o:suse:sles:15',
      'not a cpe',
    ]) {
      assert.equal(rhelNamespaceFromCpe(cpe), undefined, cpe);
    }
  });

  test('NEVRA product ids, unversioned names and source NEVRs', () => {
    assert.deepEqual(parseNevraId('telnet-1:0.17-65.el7_6.src'), { name: 'telnet', evr: '1:0.17-65.el7_6', arch: 'src' });
    assert.deepEqual(parseNevraId('curl-0:7.76.1-26.el9_3.2.x86_64'), { name: 'curl', evr: '7.76.1-26.el9_3.2', arch: 'x86_64' });
    assert.deepEqual(parseNevraId('curl.src'), { name: 'curl', arch: 'src' });
    assert.deepEqual(parseNevraId('samba-winbind-krb5-locator'), { name: 'samba-winbind-krb5-locator' });
    assert.deepEqual(parseNevraId('kernel'), { name: 'kernel' });
    assert.deepEqual(parseNevr('firefox-0:102.15.1-1.el7_9'), { name: 'firefox', evr: '102.15.1-1.el7_9' });
    assert.deepEqual(parseNevr('java-1.8.0-openjdk-1:1.8.0.131-0.b11.el6_9'), { name: 'java-1.8.0-openjdk', evr: '1:1.8.0.131-0.b11.el6_9' });
    assert.equal(parseNevr('kernel'), undefined);
  });

  test('impact ratings', () => {
    assert.equal(redhatImpactSeverity('Important')?.normalized, 'High');
    assert.equal(redhatImpactSeverity('moderate')?.normalized, 'Medium');
    assert.equal(redhatImpactSeverity('Low')?.normalized, 'Low');
    assert.equal(redhatImpactSeverity('Critical')?.normalized, 'Critical');
    assert.equal(redhatImpactSeverity('')?.normalized, undefined);
  });
});
