/**
 * NuGet advisories in the OSV schema (https://ossf.github.io/osv-schema/), for tests: the shared
 * corpus holds no NuGet records, so these are written here after the facts of the real advisories
 * they are named for (GitHub advisory database: GHSA-5crp-9r3c-p9vr, Newtonsoft.Json before 13.0.1;
 * GHSA-7jgj-8wvc-jh57, System.Text.Encodings.Web 4.0.0 to before 4.5.1 and 5.0.0 to before 5.0.1).
 */
export const NUGET_OSV_RECORDS = [
  {
    schema_version: '1.6.0',
    id: 'GHSA-5crp-9r3c-p9vr',
    modified: '2024-05-01T00:00:00Z',
    published: '2022-06-22T00:00:00Z',
    aliases: ['CVE-2024-21907'],
    summary: 'Improper Handling of Exceptional Conditions in Newtonsoft.Json',
    affected: [
      {
        package: { ecosystem: 'NuGet', name: 'Newtonsoft.Json', purl: 'pkg:nuget/Newtonsoft.Json' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '13.0.1' }] }],
      },
    ],
    database_specific: { severity: 'HIGH' },
  },
  {
    schema_version: '1.6.0',
    id: 'GHSA-7jgj-8wvc-jh57',
    modified: '2023-01-01T00:00:00Z',
    published: '2021-01-12T00:00:00Z',
    aliases: ['CVE-2021-26701'],
    summary: '.NET Core Remote Code Execution Vulnerability',
    affected: [
      {
        package: { ecosystem: 'NuGet', name: 'System.Text.Encodings.Web' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '4.0.0' }, { fixed: '4.5.1' }, { introduced: '5.0.0' }, { fixed: '5.0.1' }] }],
      },
    ],
    database_specific: { severity: 'CRITICAL' },
  },
];
