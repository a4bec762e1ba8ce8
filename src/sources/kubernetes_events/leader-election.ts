import type { Logger } from 'pino';
import { ApiError, type ApiClient } from '../../kubernetes/metadata/api-client.js';
import { sleep } from '../../kubernetes/metadata/backoff.js';
import type { KubeObject } from '../../kubernetes/metadata/kube-types.js';

/** `coordination.k8s.io/v1` Lease, the parts leader election reads and writes. */
export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectorOptions {
  readonly client: ApiClient;
  readonly namespace: string;
  readonly name: string;
  /** Written as `spec.holderIdentity` exactly. */
  readonly identity: string;
  readonly leaseDurationMs: number;
  /**
   * How often the holder renews (writing `annotations()` too) and a standby looks at the Lease.
   * Default: a third of the lease duration, at most 2 s (the progress annotation's freshness).
   */
  readonly retryPeriodMs?: number;
  /** Annotations the holder writes with every renewal and on release (its progress). */
  readonly annotations?: () => Record<string, string>;
  /** This elector now holds the Lease; `lease` is the object as it was before taking it (recorded progress). */
  readonly onStartedLeading: (lease: Lease) => void;
  /** Lost it (someone else holds it, or renewals failed past the renew deadline). */
  readonly onStoppedLeading: () => void;
  readonly logger: Logger;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/**
 * Leader election on a Lease, as client-go's leaderelection does it:
 * - a standby takes the Lease when it has no holder, or when its record (resourceVersion) did not
 *   change for `leaseDurationSeconds` as measured on the standby's own clock (no clock skew);
 * - every write is conditional on the resourceVersion read: a 409 means someone else wrote
 *   first, and that one won;
 * - the holder renews every retry period and steps down when it could not renew for the renew
 *   deadline (two thirds of the lease duration), before a standby may take over;
 * - `stop()` releases: holderIdentity cleared and leaseDurationSeconds 1, so a standby takes
 *   over at its next look instead of waiting out the lease.
 * There is no fencing: a holder cut off from the API server may emit until its renew deadline
 * while (after the lease duration) a standby has taken over; the lease duration covers that.
 */
export class LeaderElector {
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private lease: Lease | undefined;
  /** The resourceVersion of the Lease last seen, and when (local clock) it was first seen. */
  private observed: { rv: string; at: number } | undefined;
  private leading = false;
  private lastRenewal = 0;
  private readonly retryPeriodMs: number;
  private readonly path: string;
  private readonly leasePath: string;

  constructor(private readonly options: LeaderElectorOptions) {
    this.retryPeriodMs = options.retryPeriodMs ?? Math.min(2000, Math.floor(options.leaseDurationMs / 3));
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases`;
    this.leasePath = `${this.path}/${encodeURIComponent(options.name)}`;
  }

  /** A holder that could not renew for this long steps down (client-go: 10 s of a 15 s lease). */
  private get renewDeadlineMs(): number {
    return Math.floor((this.options.leaseDurationMs * 2) / 3);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stop; when leading, release the Lease (with the last annotations). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    if (!this.leading) return;
    this.leading = false;
    const signal = AbortSignal.timeout(5000);
    let lease = this.lease;
    // A renewal cut short by the stop may have been written all the same: a 409 then, re-read and retry.
    for (let attempt = 0; lease !== undefined && attempt < 3; attempt++) {
      try {
        await this.options.client.write<Lease>('PUT', this.leasePath, this.record(lease, { holderIdentity: '', leaseDurationSeconds: 1 }), { verb: 'update', resource: 'leases', signal });
        this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}` }, 'leader lease released');
        return;
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          lease = await this.getLease(signal).catch(() => undefined);
          if (lease?.spec?.holderIdentity !== this.options.identity) return; // not ours any more
          continue;
        }
        this.options.logger.warn({ err: (error as Error).message }, 'could not release the leader lease: a standby takes over when it expires');
        return;
      }
    }
  }

  private async loop(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      // Each attempt ends by the renew deadline: a request hanging past it (the client's own
      // timeout is 30 s) must not keep a holder emitting after a standby may have taken over.
      const attempt = AbortSignal.any([signal, AbortSignal.timeout(this.renewDeadlineMs)]);
      try {
        if (this.leading) await this.renew(attempt);
        else await this.tryAcquire(attempt);
      } catch (error) {
        if (signal.aborted) break;
        this.options.logger.warn({ err: (error as Error).message, leading: this.leading }, 'leader election: lease request failed');
      }
      if (this.leading && Date.now() - this.lastRenewal > this.renewDeadlineMs) {
        this.options.logger.warn('leader election: could not renew the lease in time, stepping down');
        this.stepDown();
      }
      await sleep(this.retryPeriodMs, signal);
    }
  }

  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.options.onStoppedLeading();
  }

  private async getLease(signal: AbortSignal): Promise<Lease | undefined> {
    try {
      const response = await this.options.client.get(this.leasePath, { verb: 'get', resource: 'leases', signal });
      return (await response.body.json()) as Lease;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  private record(lease: Lease, spec: Lease['spec']): Lease {
    const annotations = { ...(lease.metadata.annotations ?? {}), ...(this.options.annotations?.() ?? {}) };
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      ...lease,
      metadata: { ...lease.metadata, annotations },
      spec: { ...lease.spec, renewTime: microTime(), ...spec },
    };
  }

  private async tryAcquire(signal: AbortSignal): Promise<void> {
    const now = Date.now();
    const current = await this.getLease(signal);
    const durationSeconds = Math.max(1, Math.ceil(this.options.leaseDurationMs / 1000));
    if (current === undefined) {
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.options.name, namespace: this.options.namespace, uid: '' },
        spec: { holderIdentity: this.options.identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      delete (lease.metadata as { uid?: string }).uid;
      try {
        const created = await this.options.client.write<Lease>('POST', this.path, lease, { verb: 'create', resource: 'leases', signal });
        this.becomeLeader(created, lease);
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) return; // another replica created it first
        if (error instanceof ApiError && error.status === 404) throw new Error(`lease namespace "${this.options.namespace}" does not exist (leader_election.lease_namespace)`);
        throw error;
      }
      return;
    }
    const rv = current.metadata.resourceVersion ?? '';
    if (this.observed?.rv !== rv) this.observed = { rv, at: now };
    const holder = current.spec?.holderIdentity ?? '';
    const leaseMs = (current.spec?.leaseDurationSeconds ?? durationSeconds) * 1000;
    const free = holder === '' || holder === this.options.identity || now - this.observed.at >= leaseMs;
    if (!free) return;
    const transitions = (current.spec?.leaseTransitions ?? 0) + (holder === this.options.identity ? 0 : 1);
    const taken: Lease = {
      ...current,
      spec: { ...current.spec, holderIdentity: this.options.identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: transitions },
    };
    try {
      const updated = await this.options.client.write<Lease>('PUT', this.leasePath, taken, { verb: 'update', resource: 'leases', signal });
      this.becomeLeader(updated, current);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return; // someone else took it first
      throw error;
    }
  }

  private becomeLeader(lease: Lease, before: Lease): void {
    this.lease = lease;
    this.observed = { rv: lease.metadata.resourceVersion ?? '', at: Date.now() };
    this.lastRenewal = Date.now();
    this.leading = true;
    this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity }, 'leader lease acquired');
    this.options.onStartedLeading(before);
  }

  private async renew(signal: AbortSignal): Promise<void> {
    const lease = this.lease!;
    try {
      this.lease = await this.options.client.write<Lease>('PUT', this.leasePath, this.record(lease, {}), { verb: 'update', resource: 'leases', signal });
      this.lastRenewal = Date.now();
    } catch (error) {
      if (!(error instanceof ApiError && (error.status === 409 || error.status === 404))) throw error;
      // Written by someone else meanwhile: still ours only if it still names us.
      const current = await this.getLease(signal);
      if (current?.spec?.holderIdentity === this.options.identity) {
        this.lease = current; // renewed on the next tick from the fresh resourceVersion
        return;
      }
      this.lease = current;
      if (current) this.observed = { rv: current.metadata.resourceVersion ?? '', at: Date.now() };
      this.options.logger.warn({ holder: current?.spec?.holderIdentity }, 'leader election: the lease was taken by another replica');
      this.stepDown();
    }
  }
}
