import type { Logger } from 'pino';
import type { ApiClient } from './api-client.js';
import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import type { ListWatchHandler } from './list-watch.js';
import type { ObjectList, Pod } from './kube-types.js';
import type { MetadataMetrics } from './metrics.js';

/** On-demand polls (a file of an unknown pod appeared) are at most this frequent. */
const MIN_POLL_GAP_MS = 1000;

/**
 * This node's pods from the kubelet's `/pods` endpoint (`metadata_source = "kubelet"`): zero load
 * on the API server, and it works while the API server is down (kubelet knows what it runs).
 * Polled every `intervalMs`, and sooner when asked (`pollSoon`, for a pod not yet known), at most
 * once a second. A failed poll keeps the cache and backs off.
 */
export class KubeletPodPoller {
  private readonly stopping = new AbortController();
  private readonly backoff: Backoff;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastPoll = 0;
  private everSynced = false;
  private firstListSettled!: () => void;
  readonly firstListDone: Promise<void> = new Promise((resolve) => (this.firstListSettled = resolve));

  constructor(
    private readonly client: ApiClient,
    private readonly intervalMs: number,
    private readonly handler: ListWatchHandler<Pod>,
    private readonly metrics: MetadataMetrics,
    private readonly logger: Logger,
    backoff?: BackoffOptions,
  ) {
    this.backoff = new Backoff(backoff);
  }

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

  pollSoon(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const signal = this.stopping.signal;
    this.metrics.setStale('kubelet_pods', true);
    while (!signal.aborted) {
      let delay = this.intervalMs;
      try {
        this.lastPoll = Date.now();
        const response = await this.client.get('/pods', { verb: 'list', resource: 'kubelet_pods', signal });
        const list = (await response.body.json()) as ObjectList<Pod>;
        this.handler.replace(list.items ?? []);
        this.everSynced = true;
        this.backoff.reset();
        this.metrics.setStale('kubelet_pods', false);
      } catch (error) {
        if (signal.aborted) break;
        this.metrics.restart('kubelet_pods', 'error');
        this.metrics.setStale('kubelet_pods', true);
        this.logger.warn({ err: (error as Error).message }, 'kubelet /pods poll failed; keeping the cache');
        delay = Math.max(delay, this.backoff.next());
      } finally {
        this.firstListSettled();
      }
      await this.waitForNextPoll(delay, signal);
    }
  }

  private async waitForNextPoll(delay: number, signal: AbortSignal): Promise<void> {
    const woken = new AbortController();
    const onAbort = () => woken.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.wake = () => woken.abort();
    await sleep(delay, woken.signal);
    this.wake = undefined;
    signal.removeEventListener('abort', onAbort);
    const gap = Date.now() - this.lastPoll;
    if (gap < MIN_POLL_GAP_MS) await sleep(MIN_POLL_GAP_MS - gap, signal);
  }
}
