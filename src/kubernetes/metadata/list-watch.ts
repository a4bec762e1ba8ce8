import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import { ApiError, type ApiClient } from './api-client.js';
import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import type { KubeObject, ObjectList, WatchEvent } from './kube-types.js';
import type { MetadataMetrics } from './metrics.js';
import { DEFAULT_WATCH_BOOKMARK_INTERVAL_MS } from './options.js';

/** What a list+watch tells its owner. */
export interface ListWatchHandler<T extends KubeObject> {
  /** The complete current set after a (re)list: anything cached and absent here was deleted. */
  replace(items: T[], resourceVersion?: string): void;
  /** One change from the watch stream. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void;
}

export interface ListWatchOptions {
  /** Label for metrics and logs: "pods", "namespaces", "nodes". */
  readonly resource: string;
  /** Collection path, e.g. `/api/v1/pods`. */
  readonly path: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  /** List page size (limit/continue); default 500 like client-go. */
  readonly pageSize?: number;
  readonly backoff?: BackoffOptions;
  /** Server-side watch timeout; default: random in [5, 10) minutes like client-go, to spread reconnects. */
  readonly watchTimeoutSeconds?: () => number;
  /** The server's bookmark interval (default one minute, like kube-apiserver's watch cache). */
  readonly bookmarkIntervalMs?: number;
  /**
   * Resume: the first request is a watch from this resourceVersion, no list (a list comes only
   * if the server answers 410). For an owner that recorded how far it got (kubernetes_events).
   */
  readonly initialResourceVersion?: string;
  /**
   * A relist that would go out at once (the first 410 after a sound watch) waits a random time in
   * [0, this) instead: an API server restart expires every node's watch in the same second, and
   * their relists then arrive spread over this window. Default 0.
   */
  readonly relistJitterMs?: number;
  /** Random source of the jitter (tests). */
  readonly random?: () => number;
}

/**
 * Bookmarks missed before a silent watch counts as dead. Two: one late bookmark (the server
 * buckets them by the second, and it may be busy) is no reason to reconnect every node at once.
 */
const SILENT_BOOKMARK_INTERVALS = 2;

class Gone extends Error {
  constructor(
    message: string,
    /** The list's own continue token expired (not a watch's resourceVersion). */
    readonly fromList = false,
  ) {
    super(message);
  }
}
/** A NotOlderThan list the server cannot serve (410 Expired, or 504 "Too large resource version"): list consistently instead. */
class CannotServeFromCache extends Error {}
/** A watch stream that went silent past the limit (see `silenceLimitMs`). */
class SilentWatch extends Error {}

/** A watch that ended this fast without a single event is treated as a failure (backoff applies). */
const MIN_HEALTHY_WATCH_MS = 1000;

/**
 * A watch open for this many bookmark intervals proved the server sound: the backoff starts over.
 * Not a successful list, nor a first event: a server that lists fine and then answers every watch
 * with 410 (or cuts it) would otherwise get a full LIST per initial delay, forever.
 */
const HEALTHY_WATCH_BOOKMARK_INTERVALS = 1;

/**
 * One list+watch of one resource (what client-go calls a reflector), written here instead of using
 * client-node 1.x's `ListWatch` informer because that one:
 * - stops for good on any error or dropped stream (it only emits `error`), so every user must
 *   wrap it in restart logic anyway;
 * - never asks for watch bookmarks, so a quiet resource's resourceVersion ages and each watch
 *   timeout risks a 410 and a full relist (load on the API server from every node);
 * - keys its cache by namespace/name: a pod re-created under the same name while the watch was
 *   down comes back as an "update" of the old one (we key by UID);
 * - its Watch never times out (the 30 s abort signal in 1.4.0 is overwritten: dead code), so a
 *   silently dead connection hangs until TCP keepalive, and it opens a new TLS agent per request;
 * - lists through the generated API, which turns timestamps into Date objects while watch events
 *   stay raw JSON: two shapes for one object, and `extra_pod_fields` reads the raw one;
 * - re-reads a token file only every 60 s, not on a 401.
 * client-node still parses the kubeconfig and resolves credentials (see credentials.ts).
 *
 * Behaviour: list (paged, resourceVersion=0 first: served from the API server's watch cache; a
 * relist after 410 asks for a state not older than the cache's, also from the watch cache),
 * then watch from the list's resourceVersion with bookmarks, resume from the last seen
 * resourceVersion when a watch ends or goes silent (no event, no bookmark for two bookmark
 * intervals); relist on 410 Gone; back off with jitter on errors and relists alike, until a watch
 * stays open a bookmark interval. A failed list never clears anything: the owner's cache stays as
 * it was until a list succeeds.
 */
export class ListWatch<T extends KubeObject> {
  private resourceVersion = '';
  /**
   * The last resourceVersion this cache reflected when a watch got 410: the relist asks for a
   * state not older than it (`resourceVersionMatch=NotOlderThan`, served from the API server's
   * watch cache like client-go's reflector does) instead of a consistent read of etcd from every
   * node. '' once the server could not serve that: the next list is consistent.
   */
  private relistFrom = '';
  private readonly backoff: Backoff;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private listedOnce = false;
  private firstListSettled!: () => void;
  /** Resolves after the first list attempt, successful or not (startup ordering). */
  readonly firstListDone: Promise<void> = new Promise((resolve) => (this.firstListSettled = resolve));
  private everSynced = false;
  private listAttempted = false;
  /** When the current watch got its response; cleared once the backoff has taken it into account. */
  private watchOpenedAt: number | undefined;

  constructor(
    private readonly client: ApiClient,
    private readonly options: ListWatchOptions,
    private readonly handler: ListWatchHandler<T>,
    private readonly metrics: MetadataMetrics,
    private readonly logger: Logger,
  ) {
    this.backoff = new Backoff(options.backoff);
    if (options.initialResourceVersion) {
      this.resourceVersion = options.initialResourceVersion;
      this.listedOnce = true; // a relist after 410 must then be consistent (no rv=0)
      this.firstListSettled(); // nothing to wait for: no first list
    }
  }

  /** True once a list has succeeded (the cache reflects the server at least once). */
  get synced(): boolean {
    return this.everSynced;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const signal = this.stopping.signal;
    this.metrics.setStale(this.options.resource, true);
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === '') await this.list(signal);
        await this.watch(signal);
        this.settleWatch();
      } catch (error) {
        if (signal.aborted) break;
        this.settleWatch();
        this.metrics.setStale(this.options.resource, true);
        const gone = error instanceof Gone;
        if (gone) {
          this.relistFrom = this.listedOnce && !(error as Gone).fromList ? this.resourceVersion : '';
          this.resourceVersion = '';
        }
        const reason = gone ? 'expired' : reasonOf(error);
        this.metrics.restart(this.options.resource, reason);
        this.logger.warn({ resource: this.options.resource, reason, err: (error as Error).message }, 'kubernetes list/watch restarting');
        // The first 410 after a sound watch relists at once (the normal way to catch up); every
        // other restart waits, relists included, so the delay keeps growing while nothing works.
        const first = this.backoff.pristine;
        const delay = this.backoff.next();
        if (!(gone && first)) await sleep(delay, signal);
        else if (this.options.relistJitterMs) await sleep((this.options.random ?? Math.random)() * this.options.relistJitterMs, signal);
      }
    }
    this.metrics.setStale(this.options.resource, true);
  }

  /** After a watch ended: one that stayed open long enough resets the backoff. */
  private settleWatch(): void {
    const healthyMs = HEALTHY_WATCH_BOOKMARK_INTERVALS * (this.options.bookmarkIntervalMs ?? DEFAULT_WATCH_BOOKMARK_INTERVAL_MS);
    if (this.watchOpenedAt !== undefined && Date.now() - this.watchOpenedAt >= healthyMs) this.backoff.reset();
    this.watchOpenedAt = undefined;
  }

  private query(extra: Record<string, string>): string {
    const params = new URLSearchParams();
    if (this.options.fieldSelector) params.set('fieldSelector', this.options.fieldSelector);
    if (this.options.labelSelector) params.set('labelSelector', this.options.labelSelector);
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    return `${this.options.path}?${params}`;
  }

  private async list(signal: AbortSignal): Promise<void> {
    if (this.listAttempted) this.metrics.relist(this.options.resource);
    this.listAttempted = true;
    try {
      let result: { items: T[]; resourceVersion: string };
      try {
        result = await this.listPages(signal);
      } catch (error) {
        if (!(error instanceof CannotServeFromCache)) throw error;
        this.logger.info({ resource: this.options.resource, err: error.message }, 'kubernetes relist: not served from the watch cache, listing consistently');
        this.relistFrom = '';
        result = await this.listPages(signal);
      }
      this.relistFrom = '';
      this.listedOnce = true;
      this.everSynced = true;
      this.handler.replace(result.items, result.resourceVersion);
      this.resourceVersion = result.resourceVersion;
    } finally {
      this.firstListSettled();
    }
  }

  /**
   * Every page of one list. The first list asks for resourceVersion=0 (any state, served from the
   * API server's watch cache); a relist after a watch's 410 for a state not older than the one
   * this cache had (also from the watch cache, never back in time); otherwise, and when the server
   * cannot serve that, a consistent list (no resourceVersion: a quorum read of etcd).
   */
  private async listPages(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    const notOlderThan = this.relistFrom;
    do {
      const params: Record<string, string> = { limit: String(this.options.pageSize ?? 500) };
      if (continueToken) params.continue = continueToken;
      else if (!this.listedOnce) params.resourceVersion = '0';
      else if (notOlderThan !== '') {
        params.resourceVersion = notOlderThan;
        params.resourceVersionMatch = 'NotOlderThan';
      }
      let page: ObjectList<T>;
      try {
        const response = await this.client.get(this.query(params), { verb: 'list', resource: this.options.resource, signal });
        page = (await response.body.json()) as ObjectList<T>;
      } catch (error) {
        if (error instanceof ApiError && notOlderThan !== '' && (error.status === 410 || (error.status === 504 && /too large resource version/i.test(error.message)))) {
          throw new CannotServeFromCache(error.message);
        }
        if (error instanceof ApiError && error.status === 410) throw new Gone('continue token expired', true);
        throw error;
      }
      items.push(...(page.items ?? []));
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? '';
    } while (continueToken);
    return { items, resourceVersion };
  }

  /** One watch request; returns when the server ends it cleanly, throws otherwise. */
  private async watch(signal: AbortSignal): Promise<void> {
    const timeoutSeconds = this.options.watchTimeoutSeconds?.() ?? Math.floor(300 + Math.random() * 300);
    const started = Date.now();
    let events = 0;
    let response;
    try {
      response = await this.client.get(
        this.query({ watch: 'true', resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) }),
        // The body timeout is the longest silence between chunks: without it a half-open connection
        // would only be noticed when the server-side timeout passed (5-10 min), metadata frozen meanwhile.
        { verb: 'watch', resource: this.options.resource, signal, bodyTimeoutMs: this.silenceLimitMs },
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 410) throw new Gone('watch: 410');
      throw error;
    }
    this.watchOpenedAt = Date.now();
    this.metrics.setStale(this.options.resource, false);
    // A multi-byte character can straddle two chunks: decode as a stream, not chunk by chunk.
    const decoder = new StringDecoder('utf8');
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        buffered += decoder.write(chunk);
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line === '') continue;
          this.handleEvent(JSON.parse(line) as WatchEvent);
          events++;
        }
      }
    } catch (error) {
      if ((error as { code?: unknown }).code === 'UND_ERR_BODY_TIMEOUT') throw new SilentWatch(`watch ${this.options.resource}: no event or bookmark for ${this.silenceLimitMs} ms`);
      throw error;
    }
    if (events === 0 && Date.now() - started < MIN_HEALTHY_WATCH_MS) throw new Error('watch ended at once without events');
  }

  /** A watch that sent neither an event nor a bookmark for this long is dead. */
  private get silenceLimitMs(): number {
    return SILENT_BOOKMARK_INTERVALS * (this.options.bookmarkIntervalMs ?? DEFAULT_WATCH_BOOKMARK_INTERVAL_MS);
  }

  private handleEvent(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      const code = event.object.code ?? 0;
      if (code === 410) throw new Gone(event.object.message ?? 'expired');
      throw new ApiError(code, `watch ${this.options.resource}: ${event.object.message ?? 'error event'}`);
    }
    if (event.type !== 'BOOKMARK') this.handler.apply(event.type, event.object as T);
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401 || error.status === 403) return 'unauthorized';
    if (error.status >= 500) return 'http_5xx';
    return 'http_error';
  }
  if (error instanceof SyntaxError) return 'decode';
  if (error instanceof SilentWatch) return 'silent';
  if (isTimeout(error)) return 'timeout';
  return 'connection';
}

/** undici's connect, response-header and body (silence between chunks) timeouts. */
function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}
