import { readFileSync } from 'node:fs';

/** The package version: what `sluice --version` prints and `sluice_build_info{version}` carries. */
export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
