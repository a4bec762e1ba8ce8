import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { LiveRoutes } from './api-live.js';
import type { MetricsRegistry } from './metrics.js';
import { Readiness } from './readiness.js';

/**
 * The agent's HTTP API. It exposes state; event data only through `/tap`, to loopback clients.
 *
 * - `GET /health`  liveness: 200 whenever the event loop answers (a wedged loop fails the probe).
 * - `GET /started` startup: 200 once the topology is built and the initial sink healthchecks ran;
 *                  503 before (with `--require-healthy`: until every sink's healthcheck passed). Kubernetes' startupProbe points here so slow starts are not killed.
 * - `GET /ready`   readiness: 200 while running and not draining; 503 while starting or shutting down,
 *                  or while a component is stuck (`reasons` in the body, see Readiness).
 * - `GET /metrics` Prometheus text format.
 *
 * Live view (`sluice top`, `sluice tap`; src/core/api-live.ts):
 * - `GET /components` JSON `{sampled_at_ms, components: [{id, kind, type, received_events,
 *                  sent_events, received_bytes, sent_bytes, errors, discarded_events,
 *                  buffer_events?, buffer_max_events?}]}`: counters since start; rates are the
 *                  client's job (two samples).
 * - `GET /tap?outputs_of=<glob>[,<glob>]&inputs_of=<glob>&limit=N&max_rate=R`
 *                  a chunked NDJSON stream. Each event is
 *                  `{"component_id":"<id>","event":<the event as the json codec encodes it>}`
 *                  (a named output shows as `<id>.<output>`); other lines are notices
 *                  `{"notice": ...}`: the first one confirms the subscription; `dropped` counts
 *                  events dropped because the client read slower than they flowed (a tap never
 *                  slows the pipeline); `sampled_out` counts events past `max_rate` a second
 *                  (default 1000). No pattern = `outputs_of=*`; a pattern matching no component
 *                  is a 404. `limit` ends the stream after N events. At most 8 clients at once
 *                  (503). Only for clients on the loopback address unless
 *                  `api.tap_from_network = true`: others get 403 (events hold log data).
 */
export type AgentPhase = 'starting' | 'running' | 'draining' | 'stopped';

export class ApiServer {
  private readonly server: Server;
  phase: AgentPhase = 'starting';
  /** `/components` and `/tap`, once the agent has a topology to show. */
  live: LiveRoutes | undefined;

  constructor(
    private readonly metrics: MetricsRegistry,
    private readonly logger: Logger,
    private readonly readiness: Readiness = new Readiness(),
  ) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const json = (status: number, body: object): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      switch (path) {
        case '/health':
          json(200, { ok: true, phase: this.phase });
          return;
        case '/started':
          json(this.phase === 'starting' ? 503 : 200, { started: this.phase !== 'starting', phase: this.phase });
          return;
        case '/ready': {
          const reasons = this.readiness.notReadyBecause();
          const ready = this.phase === 'running' && reasons.length === 0;
          json(ready ? 200 : 503, { ready, phase: this.phase, ...(reasons.length > 0 ? { reasons } : {}) });
          return;
        }
        case '/metrics':
          this.metrics.registry
            .metrics()
            .then((text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text))
            .catch((error: Error) => res.writeHead(500).end(error.message));
          return;
        default:
          if (this.live?.handle(req, res, path)) return;
          json(404, { error: 'not found', endpoints: ['/health', '/started', '/ready', '/metrics', ...LiveRoutes.paths] });
      }
    });
  }

  async listen(address: string): Promise<{ host: string; port: number }> {
    const separator = address.lastIndexOf(':');
    const host = address.slice(0, separator).replace(/^\[|\]$/g, '') || '0.0.0.0';
    const port = Number(address.slice(separator + 1));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (error: NodeJS.ErrnoException) => reject(new ApiListenError(`${host}:${port}`, error)));
      this.server.listen(port, host, () => resolve());
    });
    const bound = this.server.address();
    const actualPort = typeof bound === 'object' && bound ? bound.port : port;
    this.logger.info({ address: `${host}:${actualPort}` }, 'API listening');
    return { host, port: actualPort };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const LISTEN_HINTS: Record<string, string> = {
  EADDRINUSE: 'address already in use (another process holds the port)',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'address not available (no such IP address on this host)',
};

/** The API could not bind its address: one line that names the address and the cause. */
export class ApiListenError extends Error {
  readonly code: string | undefined;
  constructor(
    readonly address: string,
    cause: NodeJS.ErrnoException,
  ) {
    const reason = (cause.code && LISTEN_HINTS[cause.code]) ?? cause.message;
    super(`API cannot listen on ${address}: ${reason}${cause.code ? ` (${cause.code})` : ''}`, { cause });
    this.code = cause.code;
  }
}
