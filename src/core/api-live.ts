import type { IncomingMessage, ServerResponse } from 'node:http';
import picomatch from 'picomatch';
import { isLoopbackAddress, TapClient, type TapHub } from './tap.js';
import type { ComponentStats } from './topology/runtime.js';

export interface LiveRoutesOptions {
  hub: TapHub;
  /** `api.tap_from_network`: serve events to clients that are not on the loopback address. */
  tapFromNetwork: boolean;
  /** The running topology's per-component counters (empty before it is built). */
  components: () => ComponentStats[];
  /** Per-client queue, in events (tests make it small). */
  maxQueued?: number;
  /** Concurrent tap clients; more get 503 (each holds a queue and a connection). */
  maxClients?: number;
}

export const MAX_TAP_CLIENTS = 8;

/** The API routes behind `sluice tap` and `sluice top` (documented in api.ts). */
export class LiveRoutes {
  static readonly paths = ['/components', '/tap'];
  private clients = 0;

  constructor(private readonly options: LiveRoutesOptions) {}

  /** Answer `path` if it is one of ours; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path === '/components') {
      json(res, 200, { sampled_at_ms: Date.now(), components: this.options.components() });
      return true;
    }
    if (path === '/tap') {
      this.tap(req, res);
      return true;
    }
    return false;
  }

  private tap(req: IncomingMessage, res: ServerResponse): void {
    if (!this.options.tapFromNetwork && !isLoopbackAddress(req.socket.remoteAddress)) {
      json(res, 403, { error: 'tap shows log data: only clients on the loopback address may tap (set api.tap_from_network = true to allow others)' });
      return;
    }
    const query = new URL(req.url ?? '/', 'http://api').searchParams;
    const list = (name: string): string[] => query.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    const inputsOf = list('inputs_of');
    let outputsOf = list('outputs_of');
    if (outputsOf.length === 0 && inputsOf.length === 0) outputsOf = ['*'];
    const limitText = query.get('limit');
    const limit = limitText === null ? undefined : Number(limitText);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      json(res, 400, { error: 'limit must be a positive integer' });
      return;
    }
    const rateText = query.get('max_rate');
    const maxPerSecond = rateText === null ? undefined : Number(rateText);
    if (maxPerSecond !== undefined && !(Number.isInteger(maxPerSecond) && maxPerSecond > 0)) {
      json(res, 400, { error: 'max_rate must be a positive integer (events per second)' });
      return;
    }
    const unmatched = this.unmatched(outputsOf, inputsOf);
    if (unmatched.length > 0) {
      json(res, 404, { error: `no component matches ${unmatched.join(', ')} (sinks have no outputs, sources no inputs)` });
      return;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end();
      return;
    }
    const maxClients = this.options.maxClients ?? MAX_TAP_CLIENTS;
    if (this.clients >= maxClients) {
      json(res, 503, { error: `${maxClients} tap clients are connected already; try again when one has ended` });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.write(JSON.stringify({ notice: 'tapping', outputs_of: outputsOf, inputs_of: inputsOf }) + '\n');
    let unsubscribe = (): void => undefined;
    const client = new TapClient(res, {
      outputsOf,
      inputsOf,
      limit,
      maxPerSecond,
      maxQueued: this.options.maxQueued,
      onLimit: () => {
        unsubscribe();
        res.end();
      },
    });
    const stop = this.options.hub.subscribe(client);
    this.clients++;
    let subscribed = true;
    unsubscribe = () => {
      if (!subscribed) return;
      subscribed = false;
      this.clients--;
      stop();
    };
    res.once('close', () => unsubscribe());
  }

  /** Patterns that match no component (a typo would otherwise wait forever for nothing). */
  private unmatched(outputsOf: readonly string[], inputsOf: readonly string[]): string[] {
    const components = this.options.components();
    if (components.length === 0) return []; // not built yet: nothing to check against
    const matches = (pattern: string, kinds: string[]): boolean =>
      components.some((c) => kinds.includes(c.kind) && (picomatch.isMatch(c.id, pattern) || pattern.startsWith(`${c.id}.`)));
    return [
      ...outputsOf.filter((p) => !matches(p, ['source', 'transform'])).map((p) => `outputs_of=${p}`),
      ...inputsOf.filter((p) => !matches(p, ['transform', 'sink'])).map((p) => `inputs_of=${p}`),
    ];
  }
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
