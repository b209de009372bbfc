/**
 * Import directions of src/, checked by `npm run lint` (dependency-cruiser). The data flows one way,
 * image -> layers -> files -> packages -> findings -> report; these rules keep the code's arrows
 * pointing the same way. See DESIGN in README ("Architecture") for the layering.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module cycle: one of the two modules should not know the other (move the shared part down, or invert the dependency).',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      scope: 'folder',
      comment: 'Top-level folders of src/ depend on each other in one direction only.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-innermost',
      severity: 'error',
      comment: 'src/domain holds the shared vocabulary (packages, advisories, findings, errors): it imports nothing else of the project.',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'versioning-knows-only-domain',
      severity: 'error',
      comment: 'Version schemes compare strings; they depend on the domain vocabulary at most.',
      from: { path: '^src/versioning/' },
      to: { path: '^src/', pathNot: '^src/(versioning|domain)/' },
    },
    {
      name: 'engine-does-not-know-the-service',
      severity: 'error',
      comment: 'The scanning engine is a library the CLI and the service use; it never imports them.',
      from: { path: '^src/(domain|versioning|engine|image|layers|detectors|package-db|ecosystems|distro|inventory|matching|feeds|vulndb|cache|sbom|policy|report)/' },
      to: { path: '^src/(cli|server|service|store|config)/' },
    },
    {
      name: 'use-cases-do-not-know-their-callers',
      severity: 'error',
      comment: 'src/services (the engine facade and the use cases) serves the CLI and the service alike: it reaches them only through ports they hand in.',
      from: { path: '^src/services/' },
      to: { path: '^src/(cli|server|service|store|config)/' },
    },
    {
      name: 'not-to-tests',
      severity: 'error',
      comment: 'Product code never imports test code or test support.',
      from: { path: '^src/', pathNot: '(\\.test\\.ts$|/test-support/)' },
      to: { path: '(\\.test\\.ts$|/test-support/|^test/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Tests are left out; test-support modules are cruised so the not-to-tests rule sees imports of them.
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
