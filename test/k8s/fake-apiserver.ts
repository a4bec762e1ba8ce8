import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { createServer as createPlainServer, type IncomingMessage, type Server as PlainServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { parseFieldSelector, parseLabelSelector, SelectorError, type KubeObject, type Matcher } from './selectors.js';
import { testPki } from './tls.js';

export type { KubeObject } from './selectors.js';
export type Resource = 'pods' | 'namespaces' | 'nodes' | 'events' | 'leases';
export type Verb = 'list' | 'watch' | 'get' | 'create' | 'update';
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

const KINDS: Record<Resource, string> = { pods: 'Pod', namespaces: 'Namespace', nodes: 'Node', events: 'Event', leases: 'Lease' };
const NAMESPACED: Record<Resource, boolean> = { pods: true, namespaces: false, nodes: false, events: true, leases: true };
/** The group/version each resource is served under (`/api/v1` for the core group). */
const API_VERSIONS: Record<Resource, string> = {
  pods: 'v1',
  namespaces: 'v1',
  nodes: 'v1',
  events: 'events.k8s.io/v1',
  leases: 'coordination.k8s.io/v1',
};
/** Resources clients may create (POST) and update (PUT, optimistic concurrency on resourceVersion). */
const WRITABLE: ReadonlySet<Resource> = new Set(['leases']);

interface HistoryEvent {
  readonly rv: number;
  readonly resource: Resource;
  readonly type: EventType;
  readonly object: KubeObject;
  /** The object before a MODIFIED, to tell a watcher with a selector that it left or entered. */
  readonly previous?: KubeObject;
}

interface Watcher {
  readonly resource: Resource;
  readonly matches: Matcher;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
  readonly timers: NodeJS.Timeout[];
  /** The node named by a `spec.nodeName=` (pods) or `metadata.name=` (nodes) field selector: events of other nodes are skipped unseen. */
  readonly node: string | undefined;
  /** Hung: the connection stays open but nothing more is written (a dead path the server does not see). */
  hung: boolean;
}

/**
 * What the server does with requests, for failure tests:
 * - `normal`;
 * - `hang_watches`: new watches get their 200 and headers, then nothing at all (no event, no bookmark);
 * - `gone_watches`: every watch is answered with a 410 Expired ERROR event, like a resourceVersion
 *   always too old (lists still work: a client relists, watches, gets 410, relists ...);
 * - `no_response`: requests are read and never answered (no status line), connection held open;
 * - `no_handshake`: TCP connections are accepted and held, the TLS handshake never starts.
 */
export type FakeApiServerMode = 'normal' | 'hang_watches' | 'gone_watches' | 'no_response' | 'no_handshake';

interface ListSnapshot {
  readonly rv: number;
  readonly items: KubeObject[];
}

export interface FakeApiServerOptions {
  /** The bearer token accepted at start (default "test-token"). */
  token?: string;
  /** How often a watch that asked for bookmarks gets one (default 1000 ms; the real server: ~1 min); 0: never. */
  bookmarkIntervalMs?: number;
  /** Resources whose watches never get a bookmark even when asked (an API server without a watch cache for them). */
  bookmarklessResources?: Resource[];
  /** Server-side cap of a watch without timeoutSeconds (default 30 min, like the real server's range). */
  defaultWatchTimeoutMs?: number;
  /** Events kept for watches to resume from; older resourceVersions get 410 Gone (default 10000). */
  historyLimit?: number;
  /** The node the kubelet `/pods` endpoint answers for. */
  kubeletNodeName?: string;
  /** Serve with this certificate instead of the shared test CA's (a kubelet's own serving cert). */
  tls?: { certPem: string | Buffer; keyPem: string | Buffer; caPem: string };
  /**
   * Serve lists like kube-apiserver's watch cache: `resourceVersion=0` and
   * `resourceVersionMatch=NotOlderThan` lists get the current state in one page (limit ignored, as
   * the cacher does), pods found through a `spec.nodeName` index; a NotOlderThan version newer than
   * the server's is 504 "Too large resource version". Every other list is an "etcd" read: every
   * object of the resource scanned, sorted and paged. `listStats()` counts both. Default false
   * (every list paged, as tests of paging expect).
   */
  watchCache?: boolean;
  /** Plain HTTP, no TLS (the cluster-scale benchmark: thousands of connections on a shared machine). Default false. */
  plainHttp?: boolean;
}

/** What the server's lists and watches cost, for the cluster-scale benchmark. */
export interface ServerStats {
  /** Lists served from the watch cache / read from "etcd" (every object of the resource scanned). */
  listsFromCache: number;
  listsFromEtcd: number;
  /** Objects scanned to answer lists (cache: the index's candidates or the one named object; etcd: the whole resource). */
  objectsScanned: number;
  /** Body bytes sent, by `<verb> <resource>` (list bodies, watch lines). */
  bytes: Record<string, number>;
  /** Watch bytes sent to watches of one node (pods by spec.nodeName, nodes by metadata.name), by node. */
  watchBytesByNode: Map<string, number>;
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function objectKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * A Kubernetes API server for tests, faithful to the protocol where clients depend on it: TLS with
 * its own CA, bearer tokens, list with resourceVersion and limit/continue chunks (served from a
 * snapshot, like etcd), field and label selectors, streaming watches (JSON lines; ADDED, MODIFIED,
 * DELETED, BOOKMARK; selector transitions become ADDED/DELETED), 410 Gone for resourceVersions older
 * than the retained history, and a kubelet-style `/pods`.
 *
 * The control methods (upsert, remove, compact, dropWatches, hangWatches, setMode, stop/start,
 * failRequests, setAcceptedTokens, requestCount) let a test drive every failure a client has to survive.
 */
export class FakeApiServer {
  readonly caPem: string;
  /** Accepts TCP connections and hands them to `server` (HTTPS) unless in `no_handshake` mode. */
  private readonly tcp: TcpServer;
  private readonly server: Server | PlainServer;
  private readonly plainHttp: boolean;
  private readonly sockets = new Set<Socket>();
  private mode: FakeApiServerMode = 'normal';
  /** Requests held unanswered in `no_response` mode (ended on stop). */
  private readonly unanswered = new Set<ServerResponse>();
  private readonly store: Record<Resource, Map<string, KubeObject>> = {
    pods: new Map(),
    namespaces: new Map(),
    nodes: new Map(),
    events: new Map(),
    leases: new Map(),
  };
  private readonly history: HistoryEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly snapshots = new Map<string, ListSnapshot>();
  private readonly counts = new Map<string, number>();
  /** Pod keys by spec.nodeName (the watch cache's index). */
  private readonly podsByNode = new Map<string, Set<string>>();
  private stats: ServerStats = emptyStats();
  private acceptedTokens: Set<string>;
  private currentRv = 100;
  /** History up to and including this resourceVersion is gone. */
  private compactedThrough = 100;
  private failures: { status: number; remaining: number } | undefined;
  /** `watchCache` mode: the cache has not caught up, NotOlderThan lists get 504 "Too large resource version". */
  private cacheLagging = false;
  private port = 0;
  /** Called for every request before it is answered (tests use it to act between list pages). */
  onRequest: ((verb: Verb, resource: string, url: URL) => void) | undefined;
  private listening = false;
  private readonly options: Required<Omit<FakeApiServerOptions, 'kubeletNodeName' | 'token' | 'tls'>> & { kubeletNodeName?: string };
  private readonly podsByNodeIndex = (key: string, object: KubeObject | undefined, add: boolean): void => {
    const node = nodeNameOf(object);
    if (node === undefined) return;
    let keys = this.podsByNode.get(node);
    if (add) {
      if (!keys) this.podsByNode.set(node, (keys = new Set()));
      keys.add(key);
    } else if (keys) {
      keys.delete(key);
      if (keys.size === 0) this.podsByNode.delete(node);
    }
  };

  private constructor(options: FakeApiServerOptions) {
    const shared = testPki();
    const pki = options.tls ?? { certPem: shared.serverCertPem, keyPem: shared.serverKeyPem, caPem: shared.caPem };
    this.caPem = pki.caPem;
    this.acceptedTokens = new Set([options.token ?? 'test-token']);
    this.options = {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
      bookmarklessResources: options.bookmarklessResources ?? [],
      defaultWatchTimeoutMs: options.defaultWatchTimeoutMs ?? 30 * 60_000,
      historyLimit: options.historyLimit ?? 10_000,
      watchCache: options.watchCache ?? false,
      ...(options.kubeletNodeName !== undefined ? { kubeletNodeName: options.kubeletNodeName } : {}),
      plainHttp: options.plainHttp ?? false,
    };
    this.plainHttp = options.plainHttp ?? false;
    this.server = this.plainHttp
      ? createPlainServer((req, res) => this.handle(req, res))
      : createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => this.handle(req, res));
    this.tcp = createTcpServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      if (this.mode !== 'no_handshake') this.server.emit('connection', socket);
    });
  }

  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const server = new FakeApiServer(options);
    await server.start();
    return server;
  }

  get url(): string {
    return `${this.plainHttp ? 'http' : 'https'}://127.0.0.1:${this.port}`;
  }

  // ---- control API -------------------------------------------------------------------------

  /** Start listening (again, on the same port after a stop()). */
  async start(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(this.port, '127.0.0.1', () => {
        this.tcp.off('error', reject);
        resolve();
      });
    });
    this.port = (this.tcp.address() as AddressInfo).port;
    this.listening = true;
  }

  /** Go down hard: stop listening (connection refused) and cut every open connection. */
  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const watcher of [...this.watchers]) this.endWatcher(watcher);
    this.unanswered.clear();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Stop for good (end of test). */
  async close(): Promise<void> {
    await this.stop();
  }

  /** Create or replace an object; assigns uid, creationTimestamp and a new resourceVersion. */
  upsert(resource: Resource, input: KubeObject): KubeObject {
    const object = clone(input);
    object.apiVersion = API_VERSIONS[resource];
    object.kind = KINDS[resource];
    if (!NAMESPACED[resource]) delete object.metadata.namespace;
    else object.metadata.namespace ??= 'default';
    const key = objectKey(object);
    const previous = this.store[resource].get(key);
    if (resource === 'pods') {
      this.podsByNodeIndex(key, previous, false);
      this.podsByNodeIndex(key, object, true);
    }
    object.metadata.uid ??= previous?.metadata.uid ?? randomUUID();
    object.metadata.creationTimestamp ??= previous?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    object.metadata.resourceVersion = String(++this.currentRv);
    this.store[resource].set(key, object);
    this.record({ rv: this.currentRv, resource, type: previous ? 'MODIFIED' : 'ADDED', object, ...(previous ? { previous } : {}) });
    return clone(object);
  }

  /** Change an object in place through `mutate` (it must exist). */
  update(resource: Resource, name: string, namespace: string | undefined, mutate: (object: KubeObject) => void): KubeObject {
    const current = this.get(resource, name, namespace);
    if (!current) throw new Error(`no ${resource} ${namespace ?? ''}/${name}`);
    mutate(current);
    return this.upsert(resource, current);
  }

  remove(resource: Resource, name: string, namespace?: string): void {
    const key = `${NAMESPACED[resource] ? (namespace ?? 'default') : ''}/${name}`;
    const previous = this.store[resource].get(key);
    if (!previous) throw new Error(`no ${resource} ${key}`);
    this.store[resource].delete(key);
    if (resource === 'pods') this.podsByNodeIndex(key, previous, false);
    const object = clone(previous);
    object.metadata.resourceVersion = String(++this.currentRv);
    this.record({ rv: this.currentRv, resource, type: 'DELETED', object });
  }

  get(resource: Resource, name: string, namespace?: string): KubeObject | undefined {
    const object = this.store[resource].get(`${NAMESPACED[resource] ? (namespace ?? 'default') : ''}/${name}`);
    return object ? clone(object) : undefined;
  }

  list(resource: Resource): KubeObject[] {
    return [...this.store[resource].values()].map(clone);
  }

  /** Advance the resourceVersion without a change (other resources changing, in a real cluster). */
  bumpResourceVersion(by = 1): number {
    this.currentRv += by;
    return this.currentRv;
  }

  get resourceVersion(): string {
    return String(this.currentRv);
  }

  /** Forget all history: every older resourceVersion and continue token now gets 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.compactedThrough = this.currentRv;
    for (const [id, snapshot] of this.snapshots) if (snapshot.rv < this.compactedThrough) this.snapshots.delete(id);
  }

  /** Cut every watch connection abruptly (no final chunk), as a load balancer or a crash would. */
  dropWatches(): void {
    for (const watcher of [...this.watchers]) {
      this.watchers.delete(watcher);
      for (const timer of watcher.timers) clearTimeout(timer);
      watcher.res.socket?.destroy();
    }
  }

  /** End every watch cleanly, as a server-side timeout would. */
  endWatches(): void {
    for (const watcher of [...this.watchers]) this.endWatcher(watcher);
  }

  /** Send a BOOKMARK now to every watch that asked for them. */
  sendBookmarks(): void {
    for (const watcher of this.watchers) if (watcher.bookmarks) this.sendBookmark(watcher);
  }

  /** Every open watch goes silent: its connection stays open, nothing more is written to it. */
  hangWatches(): void {
    for (const watcher of this.watchers) watcher.hung = true;
  }

  /**
   * How later requests are treated; see FakeApiServerMode. `no_handshake` also cuts every open
   * connection (what sits behind the listening port went away), so no client has one to reuse.
   */
  setMode(mode: FakeApiServerMode): void {
    this.mode = mode;
    if (mode === 'no_handshake') {
      for (const watcher of [...this.watchers]) this.forget(watcher);
      for (const socket of this.sockets) socket.destroy();
    }
  }

  /** Answer the next `count` authenticated requests with `status` (a Status object body). */
  failRequests(status = 500, count = Number.POSITIVE_INFINITY): void {
    this.failures = { status, remaining: count };
  }

  stopFailing(): void {
    this.failures = undefined;
  }

  /** From now on only these tokens are accepted (token rotation). */
  setAcceptedTokens(...tokens: string[]): void {
    this.acceptedTokens = new Set(tokens);
  }

  /** Requests seen (including rejected ones), optionally by verb and resource. */
  requestCount(verb?: Verb, resource?: Resource | 'kubelet_pods'): number {
    let total = 0;
    for (const [key, n] of this.counts) {
      const [v, r] = key.split(' ');
      if ((verb === undefined || v === verb) && (resource === undefined || r === resource)) total += n;
    }
    return total;
  }

  requestCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }

  resetRequestCounts(): void {
    this.counts.clear();
  }

  /**
   * `watchCache` mode: while on, the watch cache is behind every resourceVersion a client asks for
   * (an API server just restarted, or a replica lagging): NotOlderThan lists get 504 "Too large
   * resource version", as kube-apiserver answers after waiting for its cache; rv=0 lists still work.
   */
  setWatchCacheLagging(lagging: boolean): void {
    this.cacheLagging = lagging;
  }

  /** List and byte counts since the start or the last `resetStats()`. */
  listStats(): ServerStats {
    return { ...this.stats, bytes: { ...this.stats.bytes }, watchBytesByNode: new Map(this.stats.watchBytesByNode) };
  }

  resetStats(): void {
    this.stats = emptyStats();
  }

  activeWatches(resource?: Resource): number {
    return [...this.watchers].filter((w) => resource === undefined || w.resource === resource).length;
  }

  // ---- protocol --------------------------------------------------------------------------------

  private record(event: HistoryEvent): void {
    this.history.push(event);
    if (this.history.length > this.options.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.options.historyLimit);
      this.compactedThrough = dropped[dropped.length - 1]!.rv;
    }
    const node = event.resource === 'pods' ? nodeNameOf(event.object) : event.resource === 'nodes' ? event.object.metadata.name : undefined;
    const before = event.resource === 'pods' ? nodeNameOf(event.previous) : node;
    for (const watcher of this.watchers) {
      if (watcher.resource !== event.resource) continue;
      // A watch of one node cannot match another node's object (the selector would reject it).
      if (watcher.node !== undefined && watcher.node !== node && watcher.node !== before) continue;
      this.deliver(watcher, event);
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://fake');
    const route = this.route(url.pathname);
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const verb: Verb =
      req.method === 'POST' ? 'create' : req.method === 'PUT' ? 'update' : route?.name !== undefined ? 'get' : watch ? 'watch' : 'list';
    const countKey = `${verb} ${route?.kubelet ? 'kubelet_pods' : (route?.resource ?? 'unknown')}`;
    this.counts.set(countKey, (this.counts.get(countKey) ?? 0) + 1);
    this.onRequest?.(verb, countKey.split(' ')[1]!, url);

    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    if (token === undefined || !this.acceptedTokens.has(token)) return this.reply(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    if (this.mode === 'no_response') {
      this.unanswered.add(res);
      res.on('close', () => this.unanswered.delete(res));
      return;
    }
    if (this.failures && this.failures.remaining > 0) {
      this.failures.remaining--;
      return this.reply(res, this.failures.status, status(this.failures.status, 'InternalError', 'injected failure'));
    }
    if (!route) return this.reply(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    if (req.method === 'POST' || req.method === 'PUT') {
      if (!WRITABLE.has(route.resource) || route.kubelet || (req.method === 'PUT') !== (route.name !== undefined)) {
        return this.reply(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not served for ${route.resource}`));
      }
      return void this.serveWrite(req, res, req.method, route.resource, route.namespace ?? 'default', route.name);
    }
    if (req.method !== 'GET') return this.reply(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not served`));

    try {
      if (route.kubelet) return this.serveKubeletPods(res);
      if (route.name !== undefined) return this.serveGet(res, route.resource, route.name, route.namespace);
      const matchers = [
        parseFieldSelector(route.resource, url.searchParams.get('fieldSelector')),
        parseLabelSelector(url.searchParams.get('labelSelector')),
      ];
      if (route.namespace !== undefined) matchers.push((o) => o.metadata.namespace === route.namespace);
      const matches: Matcher = (o) => matchers.every((m) => m(o));
      if (watch) return this.serveWatch(req, res, route.resource, matches, url.searchParams);
      const rv = url.searchParams.get('resourceVersion') ?? '';
      const notOlderThan = url.searchParams.get('resourceVersionMatch') === 'NotOlderThan';
      if (this.options.watchCache && route.namespace === undefined && (rv === '0' || (notOlderThan && rv !== ''))) {
        return this.serveCachedList(res, route.resource, matches, url.searchParams, notOlderThan ? Number(rv) : 0);
      }
      return this.serveList(res, route.resource, matches, url.searchParams);
    } catch (error) {
      if (error instanceof SelectorError) return this.reply(res, 400, status(400, 'BadRequest', error.message));
      throw error;
    }
  }

  private route(pathname: string): { resource: Resource; namespace?: string; name?: string; kubelet?: boolean } | undefined {
    if (pathname === '/pods' || pathname === '/pods/') return { resource: 'pods', kubelet: true };
    const parts = pathname.split('/').filter((p) => p !== '');
    // Named groups: /apis/<group>/<version>/[namespaces/<ns>/]<resource>[/<name>]
    if (parts[0] === 'apis') {
      const groupVersion = `${parts[1]}/${parts[2]}`;
      const rest = parts.slice(3);
      const resource = (['events', 'leases'] as const).find((r) => API_VERSIONS[r] === groupVersion && (rest[0] === r || rest[2] === r));
      if (resource === undefined) return undefined;
      if (rest.length === 1 && resource === 'events') return { resource };
      if (rest.length === 3 && rest[0] === 'namespaces' && rest[2] === resource) return { resource, namespace: rest[1]! };
      if (rest.length === 4 && rest[0] === 'namespaces' && rest[2] === resource) return { resource, namespace: rest[1]!, name: rest[3]! };
      return undefined;
    }
    if (parts[0] !== 'api' || parts[1] !== 'v1') return undefined;
    const rest = parts.slice(2);
    if (rest.length === 1 && (rest[0] === 'pods' || rest[0] === 'namespaces' || rest[0] === 'nodes')) return { resource: rest[0] };
    if (rest.length === 2 && (rest[0] === 'namespaces' || rest[0] === 'nodes')) return { resource: rest[0], name: rest[1]! };
    if (rest.length === 3 && rest[0] === 'namespaces' && rest[2] === 'pods') return { resource: 'pods', namespace: rest[1]! };
    if (rest.length === 4 && rest[0] === 'namespaces' && rest[2] === 'pods') return { resource: 'pods', namespace: rest[1]!, name: rest[3]! };
    return undefined;
  }

  private reply(res: ServerResponse, code: number, body: unknown, countAs?: string): void {
    const text = JSON.stringify(body);
    if (countAs !== undefined) this.stats.bytes[countAs] = (this.stats.bytes[countAs] ?? 0) + Buffer.byteLength(text);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private serveGet(res: ServerResponse, resource: Resource, name: string, namespace?: string): void {
    const object = this.get(resource, name, namespace);
    if (!object) return this.reply(res, 404, status(404, 'NotFound', `${resource} "${name}" not found`));
    this.reply(res, 200, object);
  }

  /**
   * POST (create) and PUT (update) like the real server: create of an existing name is 409
   * AlreadyExists; an update whose metadata.resourceVersion is not the current one is 409 Conflict
   * (optimistic concurrency); a namespaced object needs its namespace to exist (404 otherwise).
   */
  private async serveWrite(req: IncomingMessage, res: ServerResponse, method: 'POST' | 'PUT', resource: Resource, namespace: string, name?: string): Promise<void> {
    let body: KubeObject;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as KubeObject;
      if (typeof body?.metadata?.name !== 'string' || body.metadata.name === '') throw new Error('metadata.name is required');
    } catch (error) {
      return this.reply(res, 400, status(400, 'BadRequest', `invalid body: ${(error as Error).message}`));
    }
    const group = API_VERSIONS[resource].split('/')[0];
    const qualified = `${resource}.${group}`;
    if (body.metadata.namespace !== undefined && body.metadata.namespace !== namespace) {
      return this.reply(res, 400, status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
    }
    body.metadata.namespace = namespace;
    if (!this.store.namespaces.has(`/${namespace}`)) return this.reply(res, 404, status(404, 'NotFound', `namespaces "${namespace}" not found`));
    const current = this.get(resource, body.metadata.name, namespace);
    if (method === 'POST') {
      if (current) return this.reply(res, 409, status(409, 'AlreadyExists', `${qualified} "${body.metadata.name}" already exists`));
      delete body.metadata.resourceVersion;
      delete body.metadata.uid;
      delete body.metadata.creationTimestamp;
      return this.reply(res, 201, this.upsert(resource, body));
    }
    if (body.metadata.name !== name) return this.reply(res, 400, status(400, 'BadRequest', 'the name of the object does not match the name on the URL'));
    if (!current) return this.reply(res, 404, status(404, 'NotFound', `${qualified} "${name}" not found`));
    const sent = body.metadata.resourceVersion;
    if (sent !== undefined && sent !== '' && sent !== current.metadata.resourceVersion) {
      return this.reply(
        res,
        409,
        status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`),
      );
    }
    body.metadata.uid = current.metadata.uid;
    body.metadata.creationTimestamp = current.metadata.creationTimestamp;
    this.reply(res, 200, this.upsert(resource, body));
  }

  private serveKubeletPods(res: ServerResponse): void {
    const node = this.options.kubeletNodeName;
    const items = [...this.store.pods.values()].filter((p) => node === undefined || (p.spec as { nodeName?: string } | undefined)?.nodeName === node);
    this.reply(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
  }

  /** A list from the watch cache (see `watchCache`): the current state, one page, pods through the node index. */
  private serveCachedList(res: ServerResponse, resource: Resource, matches: Matcher, params: URLSearchParams, notOlderThan: number): void {
    if (!Number.isInteger(notOlderThan) || notOlderThan > this.currentRv || (notOlderThan > 0 && this.cacheLagging)) {
      return this.reply(res, 504, { ...status(504, 'Timeout', `Too large resource version: ${params.get('resourceVersion')}, current: ${this.currentRv}`), details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] } });
    }
    // The cacher's shortcuts: a `metadata.name=` selector is one lookup (MatchesSingle), pods of a node come from its spec.nodeName index.
    const fieldSelector = params.get('fieldSelector');
    const name = NAMESPACED[resource] ? undefined : selectedNode(fieldSelector, 'metadata.name');
    const node = resource === 'pods' ? selectedNode(fieldSelector, 'spec.nodeName') : undefined;
    const single = name !== undefined ? this.store[resource].get(`/${name}`) : undefined;
    const candidates =
      name !== undefined ? (single ? [single] : []) : node !== undefined ? [...(this.podsByNode.get(node) ?? [])].map((key) => this.store.pods.get(key)!) : [...this.store[resource].values()];
    this.stats.listsFromCache++;
    this.stats.objectsScanned += candidates.length;
    const items = candidates.filter(matches).map((o) => {
      const { kind: _kind, apiVersion: _apiVersion, ...rest } = o;
      return rest as KubeObject;
    });
    this.reply(res, 200, { kind: `${KINDS[resource]}List`, apiVersion: API_VERSIONS[resource], metadata: { resourceVersion: String(this.currentRv) }, items }, `list ${resource}`);
  }

  private serveList(res: ServerResponse, resource: Resource, matches: Matcher, params: URLSearchParams): void {
    const limit = Number(params.get('limit') ?? 0);
    const continueToken = params.get('continue');
    let snapshot: ListSnapshot;
    let snapshotId: string;
    let offset = 0;
    if (continueToken) {
      let decoded: { id: string; offset: number; rv: number };
      try {
        decoded = JSON.parse(Buffer.from(continueToken, 'base64').toString('utf8'));
      } catch {
        return this.reply(res, 400, status(400, 'BadRequest', 'invalid continue token'));
      }
      const found = this.snapshots.get(decoded.id);
      if (!found || decoded.rv < this.compactedThrough) {
        return this.reply(res, 410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'));
      }
      snapshot = found;
      snapshotId = decoded.id;
      offset = decoded.offset;
    } else {
      // Items sorted by key like etcd; the real server strips kind/apiVersion from list items.
      const items = [...this.store[resource].entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, o]) => o)
        .filter(matches)
        .map((o) => {
          const { kind: _kind, apiVersion: _apiVersion, ...rest } = clone(o);
          return rest as KubeObject;
        });
      snapshot = { rv: this.currentRv, items };
      snapshotId = randomUUID();
      this.stats.listsFromEtcd++;
      this.stats.objectsScanned += this.store[resource].size;
    }
    const end = limit > 0 ? Math.min(offset + limit, snapshot.items.length) : snapshot.items.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.rv) };
    if (end < snapshot.items.length) {
      this.snapshots.set(snapshotId, snapshot);
      metadata.continue = Buffer.from(JSON.stringify({ id: snapshotId, offset: end, rv: snapshot.rv })).toString('base64');
      metadata.remainingItemCount = snapshot.items.length - end;
    } else {
      this.snapshots.delete(snapshotId);
    }
    this.reply(res, 200, { kind: `${KINDS[resource]}List`, apiVersion: API_VERSIONS[resource], metadata, items: snapshot.items.slice(offset, end) }, `list ${resource}`);
  }

  private serveWatch(req: IncomingMessage, res: ServerResponse, resource: Resource, matches: Matcher, params: URLSearchParams): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const node = resource === 'pods' ? selectedNode(params.get('fieldSelector'), 'spec.nodeName') : resource === 'nodes' ? selectedNode(params.get('fieldSelector'), 'metadata.name') : undefined;
    const watcher: Watcher = { resource, matches, res, node, bookmarks: params.get('allowWatchBookmarks') === 'true' && !this.options.bookmarklessResources.includes(resource), timers: [], hung: this.mode === 'hang_watches' };
    const rvParam = params.get('resourceVersion') ?? '';
    if (this.mode === 'gone_watches') {
      this.write(watcher, 'ERROR', status(410, 'Expired', `too old resource version: ${rvParam} (${this.currentRv})`));
      res.end();
      return;
    }
    if (rvParam === '' || rvParam === '0') {
      // "Start at most recent" (or "any"): synthetic ADDED events for the current state.
      for (const object of this.store[resource].values()) if (matches(object)) this.write(watcher, 'ADDED', object);
    } else {
      const from = Number(rvParam);
      if (!Number.isInteger(from) || from < this.compactedThrough) {
        this.write(watcher, 'ERROR', status(410, 'Expired', `too old resource version: ${rvParam} (${this.compactedThrough + 1})`));
        res.end();
        return;
      }
      for (const event of this.history) if (event.rv > from && event.resource === resource) this.deliver(watcher, event);
    }
    const timeoutSeconds = Number(params.get('timeoutSeconds') ?? 0);
    const timeoutMs = timeoutSeconds > 0 ? timeoutSeconds * 1000 : this.options.defaultWatchTimeoutMs;
    // A hung watch is not ended at its timeout either: from the client's side the path is dead.
    watcher.timers.push(setTimeout(() => (watcher.hung ? this.forget(watcher) : this.endWatcher(watcher)), timeoutMs));
    if (watcher.bookmarks && this.options.bookmarkIntervalMs > 0) {
      const interval = setInterval(() => this.sendBookmark(watcher), this.options.bookmarkIntervalMs);
      watcher.timers.push(interval);
    }
    this.watchers.add(watcher);
    req.on('close', () => this.forget(watcher));
  }

  private deliver(watcher: Watcher, event: HistoryEvent): void {
    const now = watcher.matches(event.object);
    if (event.type === 'MODIFIED' && event.previous) {
      const before = watcher.matches(event.previous);
      if (before && now) this.write(watcher, 'MODIFIED', event.object);
      else if (!before && now) this.write(watcher, 'ADDED', event.object);
      else if (before && !now) this.write(watcher, 'DELETED', event.object);
    } else if (now) {
      this.write(watcher, event.type, event.object);
    }
  }

  private sendBookmark(watcher: Watcher): void {
    this.write(watcher, 'BOOKMARK', { kind: KINDS[watcher.resource], apiVersion: API_VERSIONS[watcher.resource], metadata: { resourceVersion: String(this.currentRv) } });
  }

  private write(watcher: Watcher, type: string, object: unknown): void {
    if (watcher.hung || watcher.res.writableEnded || watcher.res.destroyed) return;
    const line = `${JSON.stringify({ type, object })}\n`;
    const bytes = Buffer.byteLength(line);
    const key = `watch ${watcher.resource}`;
    this.stats.bytes[key] = (this.stats.bytes[key] ?? 0) + bytes;
    if (watcher.node !== undefined) this.stats.watchBytesByNode.set(watcher.node, (this.stats.watchBytesByNode.get(watcher.node) ?? 0) + bytes);
    watcher.res.write(line);
  }

  private forget(watcher: Watcher): void {
    this.watchers.delete(watcher);
    for (const timer of watcher.timers) clearTimeout(timer);
  }

  private endWatcher(watcher: Watcher): void {
    this.forget(watcher);
    if (!watcher.res.writableEnded) watcher.res.end();
  }
}

function emptyStats(): ServerStats {
  return { listsFromCache: 0, listsFromEtcd: 0, objectsScanned: 0, bytes: {}, watchBytesByNode: new Map() };
}

function nodeNameOf(object: KubeObject | undefined): string | undefined {
  const node = (object?.spec as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof node === 'string' ? node : undefined;
}

/** The value of a `<field>=<value>` (or `==`) term of a field selector, if it has one. */
function selectedNode(selector: string | null, field: string): string | undefined {
  for (const term of (selector ?? '').split(',')) {
    const m = /^\s*([^=!\s]+)\s*==?\s*(\S+)\s*$/.exec(term);
    if (m && m[1] === field) return m[2];
  }
  return undefined;
}
