import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readStaticKubeconfig } from './kubeconfig.js';

/** Where and how to reach an API server: base URL, TLS material, and a fresh auth header per request. */
export interface ApiCredentials {
  readonly server: string;
  readonly tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean; servername?: string };
  /** The Authorization header value to send now (re-reads rotated token files). */
  authorization(): Promise<string | undefined>;
  /** A request was refused with 401: re-read the token before the next request. */
  invalidate(): void;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * A token file re-read when it changes. Projected service-account tokens are rotated by kubelet
 * (an atomic symlink swap, hourly by default) and bound tokens expire: a token read once at start
 * stops working. Checked with a stat per request (requests are rare: a few list/watch per hour),
 * and re-read unconditionally after a 401.
 */
export class TokenFile {
  private token: string | undefined;
  private mtimeMs = -1;
  private size = -1;

  constructor(readonly path: string) {}

  async read(): Promise<string> {
    const info = await stat(this.path);
    if (this.token === undefined || info.mtimeMs !== this.mtimeMs || info.size !== this.size) {
      this.token = (await readFile(this.path, 'utf8')).trim();
      this.mtimeMs = info.mtimeMs;
      this.size = info.size;
    }
    return this.token;
  }

  invalidate(): void {
    this.token = undefined;
  }
}

/** In a pod: the service account's CA and token, the API server from the env kubelet sets. */
export function inClusterCredentials(
  serviceAccountDir = SERVICE_ACCOUNT_DIR,
  env: NodeJS.ProcessEnv = process.env,
): ApiCredentials {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) {
    throw new Error('not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset): set kube_config_file');
  }
  const tokenFile = new TokenFile(join(serviceAccountDir, 'token'));
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tls: { ca: readFileSync(join(serviceAccountDir, 'ca.crt')) },
    authorization: async () => `Bearer ${await tokenFile.read()}`,
    invalidate: () => tokenFile.invalidate(),
  };
}

/**
 * From a kubeconfig file. Static credentials are read here; a token file (client-go's
 * `tokenFile`) is re-read when it changes, as projected tokens rotate. Users with an exec or
 * auth-provider plugin go through @kubernetes/client-node, loaded only for them: importing it
 * costs ~70 MiB of RSS (measured 39 -> 111 MiB), which no other agent should pay.
 */
export async function kubeconfigCredentials(path: string): Promise<ApiCredentials> {
  const config = readStaticKubeconfig(path);
  if (config === undefined) return pluginKubeconfigCredentials(path);
  const auth = config.auth;
  const tokenFile = auth && 'tokenFile' in auth ? new TokenFile(auth.tokenFile) : undefined;
  const fixed = auth && 'token' in auth ? `Bearer ${auth.token}` : auth && 'basic' in auth ? `Basic ${auth.basic}` : undefined;
  return {
    server: config.server,
    tls: config.tls,
    authorization: async () => (tokenFile ? `Bearer ${await tokenFile.read()}` : fixed),
    invalidate: () => tokenFile?.invalidate(),
  };
}

/** Exec and auth-provider users: client-node runs the plugin and caches what it returns. */
async function pluginKubeconfigCredentials(path: string): Promise<ApiCredentials> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error(`${path}: no current cluster (check current-context)`);

  // applyToHTTPSOptions resolves CA/cert/key (inline data or files) and the auth header the
  // plugin gives; we keep only those and use our own client.
  const resolveOptions = async () => {
    const options: ResolvedHttpsOptions = { headers: {} };
    await kubeConfig.applyToHTTPSOptions(options as never);
    return options;
  };
  const initial = await resolveOptions();
  const tls: ApiCredentials['tls'] = {};
  if (initial.ca) tls.ca = initial.ca;
  if (initial.cert) tls.cert = initial.cert;
  if (initial.key) tls.key = initial.key;
  if (initial.rejectUnauthorized !== undefined) tls.rejectUnauthorized = initial.rejectUnauthorized;
  if (initial.servername) tls.servername = initial.servername;

  return {
    server: cluster.server.replace(/\/+$/, ''),
    tls,
    authorization: async () => {
      const headers = (await resolveOptions()).headers;
      return headers.Authorization ?? headers.authorization;
    },
    invalidate: () => undefined,
  };
}

interface ResolvedHttpsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
  headers: Record<string, string | undefined>;
}
