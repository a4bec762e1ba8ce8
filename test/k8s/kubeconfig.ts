import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  caPem: string;
  /** A static token, or the path of a file holding it (`tokenFile`, re-read by the client). */
  token?: string;
  tokenFile?: string;
}

/** Write a kubeconfig (one cluster, one user, one context) into `dir`; returns its path. */
export function writeKubeconfig(dir: string, options: KubeconfigOptions, fileName = 'kubeconfig'): string {
  const user: Record<string, string> = {};
  if (options.token !== undefined) user.token = options.token;
  if (options.tokenFile !== undefined) user.tokenFile = options.tokenFile;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caPem).toString('base64') } }],
    users: [{ name: 'tester', user }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'tester' } }],
    'current-context': 'fake',
  };
  const path = join(dir, fileName);
  writeFileSync(path, stringify(config));
  return path;
}
