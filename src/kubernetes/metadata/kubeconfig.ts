import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** What a kubeconfig's current context says, when its user needs no plugin. */
export interface StaticKubeconfig {
  server: string;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string };
  /** `token` (static), `tokenFile` (re-read on change), or basic auth; none for client certificates only. */
  auth: { token: string } | { tokenFile: string } | { basic: string } | undefined;
}

type Entry = Record<string, unknown>;
interface Kubeconfig {
  'current-context'?: string;
  clusters?: { name: string; cluster?: Entry }[];
  users?: { name: string; user?: Entry }[];
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
}

/**
 * Reads the current context of a kubeconfig file when it uses static credentials (token, token
 * file, client certificate, basic auth; CA as data or file). Returns undefined when the user
 * needs an exec or auth-provider plugin, or a proxy: those go to @kubernetes/client-node, which
 * is loaded only then (it costs ~70 MiB of RSS). Paths are relative to the file, as in kubectl.
 */
export function readStaticKubeconfig(path: string): StaticKubeconfig | undefined {
  const config = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Kubeconfig;
  const contextName = config['current-context'];
  if (!contextName) throw new Error(`${path}: current-context is not set`);
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`${path}: current-context "${contextName}" names no entry of contexts`);
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`${path}: context "${contextName}" names cluster "${context.cluster}", which is not in clusters`);
  const user = (context.user === undefined ? {} : config.users?.find((u) => u.name === context.user)?.user) ?? {};
  if ('exec' in user || 'auth-provider' in user || 'proxy-url' in cluster) return undefined;

  const server = cluster.server;
  if (typeof server !== 'string' || server === '') throw new Error(`${path}: cluster "${context.cluster}" has no server`);
  const base = dirname(path);
  const tls: StaticKubeconfig['tls'] = {};
  const ca = material(cluster, 'certificate-authority', base);
  if (ca) tls.ca = ca;
  const cert = material(user, 'client-certificate', base);
  if (cert) tls.cert = cert;
  const key = material(user, 'client-key', base);
  if (key) tls.key = key;
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string') tls.servername = cluster['tls-server-name'];

  return { server: server.replace(/\/+$/, ''), tls, auth: authOf(user, base) };
}

function authOf(user: Entry, base: string): StaticKubeconfig['auth'] {
  if (typeof user.token === 'string' && user.token !== '') return { token: user.token };
  // client-go spells it tokenFile; some tools write token-file.
  const tokenFile = user.tokenFile ?? user['token-file'];
  if (typeof tokenFile === 'string' && tokenFile !== '') return { tokenFile: resolve(base, tokenFile) };
  if (typeof user.username === 'string' && typeof user.password === 'string') {
    return { basic: Buffer.from(`${user.username}:${user.password}`).toString('base64') };
  }
  return undefined;
}

/** `<name>-data` (base64) or `<name>` (a file path). */
function material(entry: Entry, name: string, base: string): Buffer | undefined {
  const data = entry[`${name}-data`];
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  const file = entry[name];
  if (typeof file === 'string' && file !== '') return readFileSync(resolve(base, file));
  return undefined;
}

function resolve(base: string, file: string): string {
  return isAbsolute(file) ? file : join(base, file);
}
