#!/usr/bin/env node
// `npm run release`: the installable release tarball (npm pack, which runs the build first) in
// release/portcullis-<version>.tgz. README's CI recipes install this file with
// `npm install -g ./portcullis-<version>.tgz`; no registry package named portcullis is published.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
mkdirSync(`${root}release`, { recursive: true });
execFileSync('npm', ['pack', '--pack-destination', 'release'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
process.stdout.write(`release/portcullis-${version}.tgz\n`);
