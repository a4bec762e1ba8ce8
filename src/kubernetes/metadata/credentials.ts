import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

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
 * From a kubeconfig file, parsed by @kubernetes/client-node (contexts, CA/cert data or files,
 * static tokens, exec and auth-provider plugins). A user `tokenFile` (client-go's spelling;
 * client-node only knows `token-file` and reads it once) is re-read here when it changes.
 */
export async function kubeconfigCredentials(path: string): Promise<ApiCredentials> {
  // Loaded only here: importing client-node (its whole generated API) costs ~70 MiB of RSS
  // (measured 39 -> 111 MiB), which an agent using in-cluster credentials never needs.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error(`${path}: no current cluster (check current-context)`);
  const tokenFilePath = findTokenFile(path, kubeConfig.getCurrentUser()?.name);
  const tokenFile = tokenFilePath ? new TokenFile(tokenFilePath) : undefined;

  // applyToHTTPSOptions resolves CA/cert/key (inline data or files) and the auth header of every
  // kind of user (token, exec plugin, auth-provider); we keep only those and use our own client.
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
      if (tokenFile) return `Bearer ${await tokenFile.read()}`;
      const headers = (await resolveOptions()).headers;
      return headers.Authorization ?? headers.authorization;
    },
    invalidate: () => tokenFile?.invalidate(),
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

function findTokenFile(kubeconfigPath: string, userName: string | undefined): string | undefined {
  if (!userName) return undefined;
  const raw = parseYaml(readFileSync(kubeconfigPath, 'utf8')) as { users?: { name: string; user?: Record<string, unknown> }[] };
  const user = raw.users?.find((u) => u.name === userName)?.user;
  const file = user?.tokenFile ?? user?.['token-file'];
  if (typeof file !== 'string' || user?.token) return undefined;
  return isAbsolute(file) ? file : join(dirname(kubeconfigPath), file);
}
