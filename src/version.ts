import { readFileSync } from 'node:fs';

/** The tool's version, read once from package.json (one source of truth for reports and --version). */
export const TOOL_VERSION: string = (() => {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'portcullis' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next location: src/ under tsx, dist/ when built
    }
  }
  return '0.0.0';
})();
