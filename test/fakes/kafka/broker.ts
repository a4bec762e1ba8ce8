import { createHash, createHmac, pbkdf2Sync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { assignOffset, COMPRESSION_NAMES, decodeRecords, ProtocolError, Reader, splitBatches, Writer, type BatchHeader, type StoredRecord } from './codec.js';

/**
 * A fake Kafka cluster for tests: one or more brokers in this process, each a real TCP (or TLS)
 * listener speaking the Kafka wire protocol, sharing one in-memory log. It implements what a
 * producer and a classic consumer group need, over a range of versions per API (all of them within
 * what a Kafka 3.x broker serves, every version of a range implemented, and ApiVersions advertises
 * exactly the range): ApiVersions v0-v3, Metadata v6-v9, Produce v7 (record batches v2, CRC-32C
 * checked, idempotent sequence checks), InitProducerId v0-v3, FindCoordinator v1-v4, JoinGroup
 * v5-v6, SyncGroup v3-v4, Heartbeat v3-v4, LeaveGroup v3-v4, OffsetCommit v5-v8, OffsetFetch v4-v8,
 * ListOffsets v2-v5, Fetch v11-v12 (long-poll), SaslHandshake v1 + SaslAuthenticate v0-v2 (PLAIN,
 * SCRAM-SHA-256/512), and CreateTopics v7 / DeleteTopics v6 for admin clients. The lower ends are
 * what kafkajs 2.x (non-flexible versions only) asks for, the upper ends what @platformatic/kafka asks
 * for, so both clients run against the same broker.
 *
 * Faults a test can cause: a partition's leadership moving to another broker (the old one answers
 * NOT_LEADER_OR_FOLLOWER), responses held back (client time-outs) or lost after the request was
 * applied (a lost acknowledgement), and a restart of every broker on the same ports with the log,
 * producer state and committed offsets kept (as a broker keeps them on disk).
 */

export const ERR = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  NOT_LEADER_OR_FOLLOWER: 6,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  SASL_AUTHENTICATION_FAILED: 58,
  UNKNOWN_PRODUCER_ID: 59,
  FENCED_LEADER_EPOCH: 74,
  MEMBER_ID_REQUIRED: 79,
} as const;

const API = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  SaslHandshake: 17,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  InitProducerId: 22,
  SaslAuthenticate: 36,
} as const;
export type ApiName = keyof typeof API;
const API_NAMES = new Map<number, ApiName>(Object.entries(API).map(([name, key]) => [key, name as ApiName]));

/** The versions served per API (every one from min to max), and from which version each API is flexible (KIP-482). */
const SERVED: Record<ApiName, { min: number; max: number; flexibleFrom: number }> = {
  Produce: { min: 7, max: 7, flexibleFrom: 9 },
  Fetch: { min: 11, max: 12, flexibleFrom: 12 },
  ListOffsets: { min: 2, max: 5, flexibleFrom: 6 },
  Metadata: { min: 6, max: 9, flexibleFrom: 9 },
  OffsetCommit: { min: 5, max: 8, flexibleFrom: 8 },
  OffsetFetch: { min: 4, max: 8, flexibleFrom: 6 },
  FindCoordinator: { min: 1, max: 4, flexibleFrom: 3 },
  JoinGroup: { min: 5, max: 6, flexibleFrom: 6 },
  Heartbeat: { min: 3, max: 4, flexibleFrom: 4 },
  LeaveGroup: { min: 3, max: 4, flexibleFrom: 4 },
  SyncGroup: { min: 3, max: 4, flexibleFrom: 4 },
  SaslHandshake: { min: 1, max: 1, flexibleFrom: 99 },
  ApiVersions: { min: 0, max: 3, flexibleFrom: 3 },
  CreateTopics: { min: 7, max: 7, flexibleFrom: 5 },
  DeleteTopics: { min: 6, max: 6, flexibleFrom: 4 },
  InitProducerId: { min: 0, max: 3, flexibleFrom: 2 },
  SaslAuthenticate: { min: 0, max: 2, flexibleFrom: 2 },
};

/** How one request is read and answered: its version, and whether that version is flexible. */
interface Version {
  v: number;
  flex: boolean;
}

/** A request larger than this closes the connection (a broker's socket.request.max.bytes). */
const MAX_FRAME = 100 * 1024 * 1024;

interface StoredBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  header: BatchHeader;
  bytes: Buffer;
}

interface ProducerState {
  epoch: number;
  /** The last 5 batches appended (what a broker keeps to answer duplicates). */
  recent: Array<{ firstSeq: number; lastSeq: number; baseOffset: bigint }>;
}

class Partition {
  batches: StoredBatch[] = [];
  nextOffset = 0n;
  leaderEpoch = 0;
  producers = new Map<bigint, ProducerState>();
  waiters = new Set<() => void>();
  constructor(public leader: number) {}

  append(header: BatchHeader, bytes: Buffer): bigint {
    const baseOffset = this.nextOffset;
    const stored = assignOffset(bytes, baseOffset, this.leaderEpoch);
    this.batches.push({ baseOffset, lastOffset: baseOffset + BigInt(header.lastOffsetDelta), header: { ...header, baseOffset }, bytes: stored });
    this.nextOffset = baseOffset + BigInt(header.lastOffsetDelta) + 1n;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    return baseOffset;
  }
}

interface Member {
  id: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: Array<{ name: string; metadata: Buffer }>;
  lastSeen: number;
  joined: boolean;
  joinReply?: (w: Buffer) => void;
  /** The member's last JoinGroup was a flexible version: its answer is encoded the same way. */
  flex: boolean;
  syncReply?: (assignment: Buffer | null, error: number) => void;
  assignment: Buffer;
}

class Group {
  state: 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' = 'Empty';
  generation = 0;
  protocol = '';
  leader = '';
  members = new Map<string, Member>();
  offsets = new Map<string, { offset: bigint; leaderEpoch: number; metadata: string | null }>();
  rebalanceTimer: NodeJS.Timeout | undefined;
  constructor(readonly id: string) {}
}

export interface FakeKafkaOptions {
  /** Broker count (node ids 1..n). Default 1. */
  brokers?: number;
  /** Topics created at start: name -> partition count. */
  topics?: Record<string, number>;
  /** Create a topic asked for in Metadata when the client allows it. Default false. */
  autoCreateTopics?: boolean;
  /** SASL required on every connection; mechanisms accepted. */
  sasl?: { user: string; password: string; mechanisms?: Array<'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'> };
  tls?: { cert: Buffer; key: Buffer };
  /** How long the first JoinGroup of an empty group waits for others (group.initial.rebalance.delay.ms). */
  initialRebalanceDelayMs?: number;
}

interface Node {
  id: number;
  port: number;
  server: Server | undefined;
  sockets: Set<Socket>;
}

interface ConnectionState {
  node: Node;
  socket: Socket;
  clientId: string;
  authenticated: boolean;
  mechanism?: string;
  scram?: { clientFirstBare: string; serverFirst: string; nonce: string; salted: Buffer; hash: 'sha256' | 'sha512' };
}

export class FakeKafka {
  readonly clusterId = 'fake-' + randomUUID().slice(0, 8);
  readonly nodes: Node[];
  readonly topics = new Map<string, Partition[]>();
  readonly groups = new Map<string, Group>();
  /** Requests served, by API name (ApiVersions included). */
  readonly requests = new Map<ApiName, number>();
  /** Requests served, by API name and version (`Metadata v6`). */
  readonly requestVersions = new Map<string, number>();
  /** Errors answered, by name of the error code (e.g. NOT_LEADER_OR_FOLLOWER). */
  readonly errorsAnswered = new Map<string, number>();
  /** What producers asked: acks per Produce, producer ids, compression codec per batch. */
  /** Offsets committed, in the order the broker took them: `group topic:partition` → offsets. */
  readonly commitLog = new Map<string, bigint[]>();
  readonly produceLog: Array<{ acks: number; producerId: bigint; compression: string; records: number; node: number }> = [];
  private nextProducerId = 1000n;
  private readonly issuedProducers = new Set<bigint>();
  private holdUntil = 0;
  private readonly lose = new Map<ApiName, number>();
  /** Faults armed to start at the n-th request of an API (counted from when they were armed). */
  private readonly triggers: Array<{ api: ApiName; remaining: number; fire: () => void }> = [];
  private sweeper: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: FakeKafkaOptions = {}) {
    this.nodes = Array.from({ length: options.brokers ?? 1 }, (_, i) => ({ id: i + 1, port: 0, server: undefined, sockets: new Set() }));
    for (const [name, count] of Object.entries(options.topics ?? {})) this.createTopic(name, count);
  }

  /** `host:port` of every broker, for bootstrap_servers. */
  get bootstrap(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  createTopic(name: string, partitions: number): void {
    if (this.topics.has(name)) return;
    this.topics.set(name, Array.from({ length: partitions }, (_, i) => new Partition(this.nodes[i % this.nodes.length]!.id)));
  }

  async start(): Promise<this> {
    for (const node of this.nodes) await this.listen(node);
    this.running = true;
    this.sweeper ??= setInterval(() => this.expireSessions(), 100);
    return this;
  }

  /** Closes every listener and connection; the log, producers and offsets stay. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(
      this.nodes.map(async (node) => {
        for (const socket of node.sockets) socket.destroy();
        node.sockets.clear();
        const server = node.server;
        node.server = undefined;
        if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
    for (const partitions of this.topics.values()) for (const p of partitions) for (const wake of p.waiters) wake();
  }

  /** Down for `downMs`, then back on the same ports with the same data (a broker restart). */
  async restart(downMs: number): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  async close(): Promise<void> {
    await this.stop();
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const group of this.groups.values()) clearTimeout(group.rebalanceTimer);
  }

  /** Moves a partition's leadership (a new leader epoch); the old leader answers NOT_LEADER_OR_FOLLOWER. */
  moveLeader(topic: string, partition: number, nodeId: number): void {
    const p = this.partition(topic, partition);
    if (!p) throw new Error(`no partition ${topic}/${partition}`);
    p.leader = nodeId;
    p.leaderEpoch++;
    for (const wake of p.waiters) wake();
  }

  /**
   * Every response is held back for `ms` (requests are still applied): from now, or from the
   * `after.nth` request of `after.api` on.
   */
  holdResponses(ms: number, after?: { api: ApiName; nth: number }): void {
    this.arm(after, () => (this.holdUntil = Date.now() + ms));
  }

  /**
   * `count` requests of this API are applied but never answered (a lost acknowledgement): the
   * next ones, or those from the `fromNth` request on.
   */
  loseResponses(api: ApiName, count: number, fromNth = 1): void {
    this.arm({ api, nth: fromNth }, () => this.lose.set(api, (this.lose.get(api) ?? 0) + count));
  }

  private arm(after: { api: ApiName; nth: number } | undefined, fire: () => void): void {
    if (!after || after.nth <= 1) fire();
    else this.triggers.push({ api: after.api, remaining: after.nth - 1, fire });
  }

  /** Appends an uncompressed record batch (made with `encodeBatch`) as a producer would. */
  appendBatch(topic: string, partition: number, batch: Buffer): bigint {
    const p = this.partition(topic, partition);
    if (!p) throw new Error(`no partition ${topic}/${partition}`);
    const [one] = splitBatches(batch);
    return p.append(one!.header, one!.bytes);
  }

  /** Every record of a topic (all partitions, offset order within each); gzip and none decoded. */
  records(topic: string): Array<StoredRecord & { partition: number }> {
    const out: Array<StoredRecord & { partition: number }> = [];
    (this.topics.get(topic) ?? []).forEach((p, partition) => {
      for (const b of p.batches) for (const r of decodeRecords(b.header, b.bytes)) out.push({ ...r, partition });
    });
    return out;
  }

  /** Compression codec of every stored batch of a topic. */
  codecs(topic: string): string[] {
    return (this.topics.get(topic) ?? []).flatMap((p) => p.batches.map((b) => COMPRESSION_NAMES[b.header.attributes & 7] ?? '?'));
  }

  highWatermark(topic: string, partition: number): bigint {
    return this.partition(topic, partition)?.nextOffset ?? -1n;
  }

  committed(group: string, topic: string, partition: number): bigint | undefined {
    return this.groups.get(group)?.offsets.get(`${topic}:${partition}`)?.offset;
  }

  private partition(topic: string, index: number): Partition | undefined {
    return this.topics.get(topic)?.[index];
  }

  private count<K>(map: Map<K, number>, key: K): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  private answered(code: number): number {
    if (code !== 0) this.count(this.errorsAnswered, Object.entries(ERR).find(([, c]) => c === code)?.[0] ?? String(code));
    return code;
  }

  private async listen(node: Node): Promise<void> {
    const onConnection = (socket: Socket) => this.serve(node, socket);
    const tls = this.options.tls;
    const server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }, onConnection) : createTcpServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(node.port, '127.0.0.1', () => resolve());
    });
    node.port = (server.address() as AddressInfo).port;
    node.server = server;
  }

  private serve(node: Node, socket: Socket): void {
    node.sockets.add(socket);
    socket.on('close', () => node.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const connection: ConnectionState = { node, socket, clientId: '', authenticated: this.options.sasl === undefined };
    let pending: Buffer = Buffer.alloc(0);
    let queue: Promise<unknown> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (size < 0 || size > MAX_FRAME) {
          socket.destroy();
          return;
        }
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        // One request at a time per connection, answers in order, as a broker does.
        queue = queue.then(() => this.handle(connection, frame)).catch(() => socket.destroy());
      }
    });
  }

  private async handle(connection: ConnectionState, frame: Buffer): Promise<void> {
    const r = new Reader(frame);
    const apiKey = r.int16();
    const version = r.int16();
    const correlationId = r.int32();
    const name = API_NAMES.get(apiKey);
    const served = name ? SERVED[name] : undefined;
    connection.clientId = r.string(false) ?? '';
    if (!name || !served) throw new ProtocolError(`unknown API key ${apiKey}`);
    this.count(this.requests, name);
    this.count(this.requestVersions, `${name} v${version}`);
    for (const trigger of [...this.triggers]) {
      if (trigger.api !== name || trigger.remaining-- > 0) continue;
      this.triggers.splice(this.triggers.indexOf(trigger), 1);
      trigger.fire();
    }
    if (!connection.authenticated && name !== 'ApiVersions' && name !== 'SaslHandshake' && name !== 'SaslAuthenticate') {
      throw new ProtocolError(`${name} before SASL authentication`); // a broker closes the connection
    }
    if (name === 'ApiVersions' && version > served.max) {
      // KIP-511: a version the broker does not know is answered in v0 (the client parses it
      // whatever it asked), UNSUPPORTED_VERSION with the versions served; the client asks again.
      return this.respond(connection, name, correlationId, false, this.apiVersionsBody(ERR.UNSUPPORTED_VERSION, { v: 0, flex: false }));
    }
    if (version < served.min || version > served.max) throw new ProtocolError(`${name} v${version}: only v${served.min}-v${served.max} are served`);
    const flexible = version >= served.flexibleFrom;
    if (flexible) r.taggedFields();
    const body = await this.dispatch(connection, name, r, { v: version, flex: flexible });
    if (body === null) return;
    // ApiVersions answers with response header v0 (no tagged fields), whatever its version.
    await this.respond(connection, name, correlationId, flexible && name !== 'ApiVersions', body);
  }

  private async respond(connection: ConnectionState, name: ApiName, correlationId: number, flexibleHeader: boolean, body: Buffer): Promise<void> {
    const lost = this.lose.get(name) ?? 0;
    if (lost > 0) {
      this.lose.set(name, lost - 1);
      return;
    }
    const hold = this.holdUntil - Date.now();
    if (hold > 0) await new Promise((resolve) => setTimeout(resolve, hold));
    const header = new Writer().int32(correlationId);
    if (flexibleHeader) header.tags();
    const head = header.build();
    const size = Buffer.alloc(4);
    size.writeInt32BE(head.length + body.length);
    if (!connection.socket.destroyed) connection.socket.write(Buffer.concat([size, head, body]));
  }

  private dispatch(connection: ConnectionState, name: ApiName, r: Reader, v: Version): Promise<Buffer | null> | Buffer | null {
    switch (name) {
      case 'ApiVersions':
        if (v.v >= 3) {
          r.string(true); // client_software_name
          r.string(true); // client_software_version
          r.taggedFields();
        }
        return this.apiVersionsBody(ERR.NONE, v);
      case 'SaslHandshake':
        return this.saslHandshake(connection, r);
      case 'SaslAuthenticate':
        return this.saslAuthenticate(connection, r, v);
      case 'Metadata':
        return this.metadata(r, v);
      case 'InitProducerId':
        return this.initProducerId(r, v);
      case 'Produce':
        return this.produce(connection, r);
      case 'FindCoordinator':
        return this.findCoordinator(r, v);
      case 'JoinGroup':
        return this.joinGroup(connection, r, v);
      case 'SyncGroup':
        return this.syncGroup(r, v);
      case 'Heartbeat':
        return this.heartbeat(r, v);
      case 'LeaveGroup':
        return this.leaveGroup(r, v);
      case 'OffsetCommit':
        return this.offsetCommit(r, v);
      case 'OffsetFetch':
        return this.offsetFetch(r, v);
      case 'ListOffsets':
        return this.listOffsets(connection, r, v);
      case 'Fetch':
        return this.fetch(connection, r, v);
      case 'CreateTopics':
        return this.createTopics(r);
      case 'DeleteTopics':
        return this.deleteTopics(r);
    }
  }

  private apiVersionsBody(error: number, { v, flex }: Version): Buffer {
    const w = new Writer().int16(error);
    w.array(Object.entries(SERVED), flex, (w, [name, { min, max }]) => w.int16(API[name as ApiName]).int16(min).int16(max).tags(flex));
    if (v >= 1) w.int32(0); // throttle_time_ms
    return w.tags(flex).build();
  }

  // --- SASL -------------------------------------------------------------------------------

  private saslHandshake(connection: ConnectionState, r: Reader): Buffer {
    const mechanism = r.string(false) ?? '';
    const offered = this.options.sasl?.mechanisms ?? ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
    const ok = this.options.sasl !== undefined && (offered as string[]).includes(mechanism);
    if (ok) connection.mechanism = mechanism;
    return new Writer()
      .int16(this.answered(ok ? ERR.NONE : ERR.UNSUPPORTED_SASL_MECHANISM))
      .array(this.options.sasl ? offered : [], false, (w, m) => w.string(m, false))
      .build();
  }

  private saslAuthenticate(connection: ConnectionState, r: Reader, { v, flex }: Version): Buffer {
    const authBytes = r.bytesField(flex) ?? Buffer.alloc(0);
    r.taggedFields(flex);
    const sasl = this.options.sasl;
    const reply = (error: number, message: string | null, bytes: Buffer) => {
      if (error !== ERR.NONE) setImmediate(() => connection.socket.end()); // the broker closes after a failure
      const w = new Writer().int16(this.answered(error)).string(message, flex).bytesField(bytes, flex);
      if (v >= 1) w.int64(0n); // session_lifetime_ms
      return w.tags(flex).build();
    };
    if (!sasl || !connection.mechanism) return reply(ERR.ILLEGAL_SASL_STATE, 'SaslAuthenticate before SaslHandshake', Buffer.alloc(0));
    const text = authBytes.toString('utf8');
    if (connection.mechanism === 'PLAIN') {
      const [, user, password] = text.split('\0');
      if (user === sasl.user && password === sasl.password) {
        connection.authenticated = true;
        return reply(ERR.NONE, null, Buffer.alloc(0));
      }
      return reply(ERR.SASL_AUTHENTICATION_FAILED, `Authentication failed: Invalid username or password`, Buffer.alloc(0));
    }
    const hash = connection.mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256';
    if (!connection.scram) {
      // client-first-message: gs2 header "n,," then "n=user,r=nonce"
      const bare = text.replace(/^[ny],[^,]*,/, '');
      const attrs = scramAttributes(bare);
      if (attrs.n !== sasl.user || !attrs.r) return reply(ERR.SASL_AUTHENTICATION_FAILED, 'Authentication failed during authentication due to invalid credentials with SASL mechanism ' + connection.mechanism, Buffer.alloc(0));
      const salt = randomBytes(16);
      const iterations = 4096;
      const nonce = attrs.r + randomBytes(12).toString('base64');
      const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
      connection.scram = { clientFirstBare: bare, serverFirst, nonce, salted: pbkdf2Sync(sasl.password, salt, iterations, hash === 'sha256' ? 32 : 64, hash), hash };
      return reply(ERR.NONE, null, Buffer.from(serverFirst));
    }
    const scram = connection.scram;
    const attrs = scramAttributes(text);
    const withoutProof = text.replace(/,p=[^,]*$/, '');
    const clientKey = createHmac(scram.hash, scram.salted).update('Client Key').digest();
    const storedKey = createHash(scram.hash).update(clientKey).digest();
    const authMessage = `${scram.clientFirstBare},${scram.serverFirst},${withoutProof}`;
    const signature = createHmac(scram.hash, storedKey).update(authMessage).digest();
    const expected = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    const proof = Buffer.from(attrs.p ?? '', 'base64');
    if (attrs.r !== scram.nonce || proof.length !== expected.length || !timingSafeEqual(proof, expected)) {
      return reply(ERR.SASL_AUTHENTICATION_FAILED, 'Authentication failed during authentication due to invalid credentials with SASL mechanism ' + connection.mechanism, Buffer.alloc(0));
    }
    const serverKey = createHmac(scram.hash, scram.salted).update('Server Key').digest();
    connection.authenticated = true;
    return reply(ERR.NONE, null, Buffer.from(`v=${createHmac(scram.hash, serverKey).update(authMessage).digest('base64')}`));
  }

  // --- metadata and producing ---------------------------------------------------------------

  private runningNodes(): Node[] {
    return this.running ? this.nodes.filter((n) => n.server !== undefined) : [];
  }

  private metadata(r: Reader, { v, flex }: Version): Buffer {
    // A null array asks for every topic: length 0 when compact, -1 otherwise.
    const everyTopic = flex ? r.buf[r.offset] === 0 : r.buf.readInt32BE(r.offset) === -1;
    const asked = r.array(flex, (r) => {
      const name = r.string(flex);
      r.taggedFields(flex);
      return name ?? '';
    });
    const allowAuto = r.bool();
    if (v >= 8) {
      r.bool(); // include_cluster_authorized_operations
      r.bool(); // include_topic_authorized_operations
    }
    r.taggedFields(flex);
    const names = everyTopic ? [...this.topics.keys()] : asked;
    const w = new Writer().int32(0);
    w.array(this.runningNodes(), flex, (w, n) => w.int32(n.id).string('127.0.0.1', flex).int32(n.port).string(null, flex).tags(flex));
    w.string(this.clusterId, flex).int32(this.nodes[0]!.id);
    w.array(names, flex, (w, name) => {
      if (!this.topics.has(name) && allowAuto && this.options.autoCreateTopics) this.createTopic(name, 1);
      const partitions = this.topics.get(name);
      w.int16(this.answered(partitions ? ERR.NONE : ERR.UNKNOWN_TOPIC_OR_PARTITION)).string(name, flex).bool(false);
      w.array(partitions ?? [], flex, (w, p) => {
        const index = partitions!.indexOf(p);
        w.int16(0).int32(index).int32(p.leader);
        if (v >= 7) w.int32(p.leaderEpoch);
        const replicas = this.nodes.map((n) => n.id);
        w.array(replicas, flex, (w, id) => w.int32(id)).array(replicas, flex, (w, id) => w.int32(id)).array([], flex, () => undefined).tags(flex);
      });
      if (v >= 8) w.int32(-2147483648); // topic_authorized_operations
      w.tags(flex);
    });
    if (v >= 8) w.int32(-2147483648); // cluster_authorized_operations
    return w.tags(flex).build();
  }

  private initProducerId(r: Reader, { v, flex }: Version): Buffer {
    const transactionalId = r.string(flex);
    r.int32();
    // v3 (KIP-360) lets a producer ask to bump its own epoch.
    const askedId = v >= 3 ? r.int64() : -1n;
    const askedEpoch = v >= 3 ? r.int16() : -1;
    r.taggedFields(flex);
    let id: bigint;
    let epoch = 0;
    if (transactionalId !== null) throw new ProtocolError('transactions are not supported by the fake');
    if (askedId >= 0n && this.issuedProducers.has(askedId)) {
      id = askedId;
      epoch = askedEpoch + 1;
    } else {
      id = this.nextProducerId++;
      this.issuedProducers.add(id);
    }
    return new Writer().int32(0).int16(0).int64(id).int16(epoch).tags(flex).build();
  }

  private produce(connection: ConnectionState, r: Reader): Buffer | null {
    const transactionalId = r.string(false);
    const acks = r.int16();
    r.int32(); // timeout_ms
    if (transactionalId !== null) throw new ProtocolError('transactions are not supported by the fake');
    const topics = r.array(false, (r) => ({
      name: r.string(false) ?? '',
      partitions: r.array(false, (r) => ({ index: r.int32(), records: r.bytesField(false) })),
    }));
    const results = topics.map(({ name, partitions }) => ({
      name,
      partitions: partitions.map(({ index, records }) => ({ index, ...this.appendProduced(connection, acks, name, index, records) })),
    }));
    if (acks === 0) return null;
    const w = new Writer();
    w.array(results, false, (w, t) => {
      w.string(t.name, false);
      w.array(t.partitions, false, (w, p) => w.int32(p.index).int16(this.answered(p.error)).int64(p.baseOffset).int64(-1n).int64(0n));
    });
    return w.int32(0).build();
  }

  private appendProduced(connection: ConnectionState, acks: number, topic: string, index: number, records: Buffer | null): { error: number; baseOffset: bigint } {
    const fail = (error: number) => ({ error, baseOffset: -1n });
    const p = this.partition(topic, index);
    if (!p) return fail(ERR.UNKNOWN_TOPIC_OR_PARTITION);
    if (p.leader !== connection.node.id) return fail(ERR.NOT_LEADER_OR_FOLLOWER);
    let batches;
    try {
      batches = splitBatches(records ?? Buffer.alloc(0));
    } catch {
      return fail(ERR.CORRUPT_MESSAGE);
    }
    if (batches.length === 0) return fail(ERR.CORRUPT_MESSAGE);
    let first = -1n;
    for (const { header, bytes } of batches) {
      this.produceLog.push({ acks, producerId: header.producerId, compression: COMPRESSION_NAMES[header.attributes & 7] ?? '?', records: header.recordCount, node: connection.node.id });
      if (header.producerId >= 0n) {
        const check = this.checkSequence(p, header);
        if (check.error !== ERR.NONE || check.duplicateOf !== undefined) {
          if (check.error !== ERR.NONE) return fail(check.error);
          if (first < 0n) first = check.duplicateOf!;
          continue;
        }
      }
      const base = p.append(header, bytes);
      if (header.producerId >= 0n) {
        const state = p.producers.get(header.producerId)!;
        state.recent.push({ firstSeq: header.baseSequence, lastSeq: header.baseSequence + header.lastOffsetDelta, baseOffset: base });
        if (state.recent.length > 5) state.recent.shift();
      }
      if (first < 0n) first = base;
    }
    return { error: ERR.NONE, baseOffset: first };
  }

  /** Idempotent producer checks: epoch, duplicate of a recent batch, or the next sequence. */
  private checkSequence(p: Partition, header: BatchHeader): { error: number; duplicateOf?: bigint } {
    if (!this.issuedProducers.has(header.producerId)) return { error: ERR.UNKNOWN_PRODUCER_ID };
    let state = p.producers.get(header.producerId);
    if (state && header.producerEpoch < state.epoch) return { error: ERR.INVALID_PRODUCER_EPOCH };
    if (!state || header.producerEpoch > state.epoch) {
      if (header.baseSequence !== 0) return { error: ERR.OUT_OF_ORDER_SEQUENCE_NUMBER };
      state = { epoch: header.producerEpoch, recent: [] };
      p.producers.set(header.producerId, state);
      return { error: ERR.NONE };
    }
    const lastSeq = header.baseSequence + header.lastOffsetDelta;
    const duplicate = state.recent.find((b) => b.firstSeq === header.baseSequence && b.lastSeq === lastSeq);
    if (duplicate) return { error: ERR.NONE, duplicateOf: duplicate.baseOffset };
    const expected = (state.recent.at(-1)?.lastSeq ?? -1) + 1;
    if (header.baseSequence !== expected) return { error: ERR.OUT_OF_ORDER_SEQUENCE_NUMBER };
    return { error: ERR.NONE };
  }

  /** CreateTopics: partitions spread over the brokers; replication and configs are not simulated. */
  private createTopics(r: Reader): Buffer {
    const topics = r.array(true, (r) => {
      const name = r.string(true) ?? '';
      const partitions = r.int32();
      r.int16();
      r.array(true, (r) => {
        r.int32();
        r.array(true, (r) => r.int32());
        r.taggedFields();
      });
      r.array(true, (r) => {
        r.string(true);
        r.string(true);
        r.taggedFields();
      });
      r.taggedFields();
      return { name, partitions: partitions > 0 ? partitions : 1 };
    });
    r.int32();
    const validateOnly = r.bool();
    r.taggedFields();
    const w = new Writer().int32(0);
    w.array(topics, true, (w, t) => {
      const exists = this.topics.has(t.name);
      if (!exists && !validateOnly) this.createTopic(t.name, t.partitions);
      w.string(t.name, true).raw(Buffer.alloc(16)).int16(this.answered(exists ? 36 : ERR.NONE)).string(exists ? `Topic '${t.name}' already exists.` : null, true);
      w.int32(t.partitions).int16(1).array([], true, () => undefined).tags();
    });
    return w.tags().build();
  }

  private deleteTopics(r: Reader): Buffer {
    const names = r.array(true, (r) => {
      const name = r.string(true);
      r.bytes(16); // topic_id: the fake names topics only
      r.taggedFields();
      return name ?? '';
    });
    r.int32();
    r.taggedFields();
    const w = new Writer().int32(0);
    w.array(names, true, (w, name) => {
      const existed = this.topics.delete(name);
      w.string(name, true).raw(Buffer.alloc(16)).int16(this.answered(existed ? ERR.NONE : ERR.UNKNOWN_TOPIC_OR_PARTITION)).string(null, true).tags();
    });
    return w.tags().build();
  }

  // --- consumer groups ---------------------------------------------------------------------

  private findCoordinator(r: Reader, { v, flex }: Version): Buffer {
    const coordinator = this.runningNodes()[0];
    if (v < 4) {
      // One key per request, the answer at the top level (v4, KIP-699, batches keys).
      r.string(flex); // key
      r.int8(); // key_type
      r.taggedFields(flex);
      const w = new Writer().int32(0);
      if (coordinator) w.int16(0).string(null, flex).int32(coordinator.id).string('127.0.0.1', flex).int32(coordinator.port);
      else w.int16(this.answered(ERR.COORDINATOR_NOT_AVAILABLE)).string(null, flex).int32(-1).string('', flex).int32(-1);
      return w.tags(flex).build();
    }
    r.int8(); // key_type
    const keys = r.array(true, (r) => r.string(true) ?? '');
    r.taggedFields();
    const w = new Writer().int32(0);
    w.array(keys, true, (w, key) => {
      if (coordinator) w.string(key, true).int32(coordinator.id).string('127.0.0.1', true).int32(coordinator.port).int16(0).string(null, true).tags();
      else w.string(key, true).int32(-1).string('', true).int32(-1).int16(this.answered(ERR.COORDINATOR_NOT_AVAILABLE)).string(null, true).tags();
    });
    return w.tags().build();
  }

  private group(id: string): Group {
    let group = this.groups.get(id);
    if (!group) this.groups.set(id, (group = new Group(id)));
    return group;
  }

  private joinGroup(connection: ConnectionState, r: Reader, { flex }: Version): Promise<Buffer> | Buffer {
    const groupId = r.string(flex) ?? '';
    const sessionTimeoutMs = r.int32();
    const rebalanceTimeoutMs = r.int32();
    const memberId = r.string(flex) ?? '';
    r.string(flex); // group_instance_id (static membership is not simulated)
    r.string(flex); // protocol_type
    const protocols = r.array(flex, (r) => {
      const name = r.string(flex) ?? '';
      const metadata = r.bytesField(flex) ?? Buffer.alloc(0);
      r.taggedFields(flex);
      return { name, metadata };
    });
    r.taggedFields(flex);
    const group = this.group(groupId);
    const errorReply = (error: number, assignedId = '') =>
      new Writer().int32(0).int16(this.answered(error)).int32(-1).string('', flex).string('', flex).string(assignedId, flex).array([], flex, () => undefined).tags(flex).build();
    if (memberId === '') {
      // KIP-394: a new member gets an id and must join again with it.
      const id = `${connection.clientId || 'member'}-${randomUUID()}`;
      group.members.set(id, { id, clientId: connection.clientId, sessionTimeoutMs, rebalanceTimeoutMs, protocols, lastSeen: Date.now(), joined: false, flex, assignment: Buffer.alloc(0) });
      return errorReply(ERR.MEMBER_ID_REQUIRED, id);
    }
    const member = group.members.get(memberId);
    if (!member) return errorReply(ERR.UNKNOWN_MEMBER_ID);
    if (group.protocol !== '' && group.state !== 'Empty' && !protocols.some((p) => p.name === group.protocol) && group.members.size > 1) return errorReply(ERR.INCONSISTENT_GROUP_PROTOCOL);
    Object.assign(member, { protocols, sessionTimeoutMs, rebalanceTimeoutMs, lastSeen: Date.now(), joined: true, flex });
    return new Promise<Buffer>((resolve) => {
      member.joinReply = resolve;
      this.prepareRebalance(group, group.state === 'Empty' ? (this.options.initialRebalanceDelayMs ?? 100) : rebalanceTimeoutMs);
      this.maybeCompleteJoin(group);
    });
  }

  private prepareRebalance(group: Group, waitMs: number): void {
    if (group.state === 'PreparingRebalance') return;
    group.state = 'PreparingRebalance';
    for (const m of group.members.values()) {
      if (!m.joinReply) m.joined = false;
      // Members waiting in SyncGroup learn of the new round.
      m.syncReply?.(null, ERR.REBALANCE_IN_PROGRESS);
      m.syncReply = undefined;
    }
    clearTimeout(group.rebalanceTimer);
    // From Empty this is the initial delay that lets other members join the first round.
    group.rebalanceTimer = setTimeout(() => this.completeJoin(group), waitMs);
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    const members = [...group.members.values()];
    if (group.generation > 0 && members.every((m) => m.joined)) this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    clearTimeout(group.rebalanceTimer);
    for (const [id, m] of group.members) if (!m.joined) group.members.delete(id);
    const members = [...group.members.values()];
    if (members.length === 0) {
      group.state = 'Empty';
      group.generation++;
      return;
    }
    group.generation++;
    const first = members[0]!;
    group.protocol = first.protocols.find((p) => members.every((m) => m.protocols.some((q) => q.name === p.name)))?.name ?? first.protocols[0]?.name ?? '';
    if (!group.members.has(group.leader)) group.leader = first.id;
    group.state = 'CompletingRebalance';
    for (const m of members) {
      const flex = m.flex;
      const w = new Writer().int32(0).int16(0).int32(group.generation).string(group.protocol, flex).string(group.leader, flex).string(m.id, flex);
      const list = m.id === group.leader ? members : [];
      w.array(list, flex, (w, other) => w.string(other.id, flex).string(null, flex).bytesField(other.protocols.find((p) => p.name === group.protocol)?.metadata ?? Buffer.alloc(0), flex).tags(flex));
      const reply = m.joinReply;
      m.joinReply = undefined;
      m.lastSeen = Date.now();
      reply?.(w.tags(flex).build());
    }
  }

  private memberCheck(group: Group | undefined, memberId: string, generation: number): number {
    const member = group?.members.get(memberId);
    if (!group || !member) return ERR.UNKNOWN_MEMBER_ID;
    member.lastSeen = Date.now();
    if (generation !== group.generation) return ERR.ILLEGAL_GENERATION;
    return ERR.NONE;
  }

  private syncGroup(r: Reader, { flex }: Version): Promise<Buffer> | Buffer {
    const groupId = r.string(flex) ?? '';
    const generation = r.int32();
    const memberId = r.string(flex) ?? '';
    r.string(flex);
    const assignments = r.array(flex, (r) => {
      const id = r.string(flex) ?? '';
      const assignment = r.bytesField(flex) ?? Buffer.alloc(0);
      r.taggedFields(flex);
      return { id, assignment };
    });
    r.taggedFields(flex);
    const reply = (error: number, assignment: Buffer | null) => new Writer().int32(0).int16(this.answered(error)).bytesField(assignment ?? Buffer.alloc(0), flex).tags(flex).build();
    const group = this.groups.get(groupId);
    const check = this.memberCheck(group, memberId, generation);
    if (check !== ERR.NONE) return reply(check, null);
    if (group!.state === 'PreparingRebalance') return reply(ERR.REBALANCE_IN_PROGRESS, null);
    const member = group!.members.get(memberId)!;
    if (group!.state === 'Stable') return reply(ERR.NONE, member.assignment);
    return new Promise<Buffer>((resolve) => {
      member.syncReply = (assignment, error) => resolve(reply(error, assignment));
      if (memberId === group!.leader) {
        for (const m of group!.members.values()) m.assignment = assignments.find((a) => a.id === m.id)?.assignment ?? Buffer.alloc(0);
        group!.state = 'Stable';
        for (const m of group!.members.values()) {
          const send = m.syncReply;
          m.syncReply = undefined;
          send?.(m.assignment, ERR.NONE);
        }
      }
    });
  }

  private heartbeat(r: Reader, { flex }: Version): Buffer {
    const groupId = r.string(flex) ?? '';
    const generation = r.int32();
    const memberId = r.string(flex) ?? '';
    r.string(flex);
    r.taggedFields(flex);
    const group = this.groups.get(groupId);
    let error = this.memberCheck(group, memberId, generation);
    if (error === ERR.NONE && group!.state === 'PreparingRebalance') error = ERR.REBALANCE_IN_PROGRESS;
    return new Writer().int32(0).int16(this.answered(error)).tags(flex).build();
  }

  private leaveGroup(r: Reader, { flex }: Version): Buffer {
    const groupId = r.string(flex) ?? '';
    const members = r.array(flex, (r) => {
      const id = r.string(flex) ?? '';
      const instance = r.string(flex);
      r.taggedFields(flex);
      return { id, instance };
    });
    r.taggedFields(flex);
    const group = this.groups.get(groupId);
    const results = members.map(({ id, instance }) => {
      const known = group?.members.delete(id) ?? false;
      return { id, instance, error: known ? ERR.NONE : ERR.UNKNOWN_MEMBER_ID };
    });
    if (group && results.some((m) => m.error === ERR.NONE)) this.membersChanged(group);
    const w = new Writer().int32(0).int16(0);
    w.array(results, flex, (w, m) => w.string(m.id, flex).string(m.instance, flex).int16(this.answered(m.error)).tags(flex));
    return w.tags(flex).build();
  }

  /** A member left or expired: the others must join again. */
  private membersChanged(group: Group): void {
    if (group.members.size === 0) {
      clearTimeout(group.rebalanceTimer);
      group.state = 'Empty';
      return;
    }
    const timeout = Math.max(...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    this.prepareRebalance(group, timeout);
    this.maybeCompleteJoin(group);
  }

  private expireSessions(): void {
    const now = Date.now();
    for (const group of this.groups.values()) {
      let changed = false;
      for (const [id, m] of group.members) {
        if (m.joinReply) continue; // waiting in JoinGroup counts as alive
        if (now - m.lastSeen > m.sessionTimeoutMs) {
          group.members.delete(id);
          changed = true;
        }
      }
      if (changed) this.membersChanged(group);
    }
  }

  private offsetCommit(r: Reader, { v, flex }: Version): Buffer {
    const groupId = r.string(flex) ?? '';
    const generation = r.int32();
    const memberId = r.string(flex) ?? '';
    if (v >= 7) r.string(flex); // group_instance_id
    const topics = r.array(flex, (r) => {
      const name = r.string(flex) ?? '';
      const partitions = r.array(flex, (r) => {
        const p = { index: r.int32(), offset: r.int64(), leaderEpoch: v >= 6 ? r.int32() : -1, metadata: r.string(flex) };
        r.taggedFields(flex);
        return p;
      });
      r.taggedFields(flex);
      return { name, partitions };
    });
    r.taggedFields(flex);
    const group = this.group(groupId);
    let error: number = ERR.NONE;
    if (generation >= 0 || memberId !== '') {
      error = this.memberCheck(group, memberId, generation);
      if (error === ERR.NONE && group.state === 'CompletingRebalance') error = ERR.REBALANCE_IN_PROGRESS;
    } else if (group.members.size > 0) error = ERR.UNKNOWN_MEMBER_ID; // a stand-alone commit to an active group
    const w = new Writer().int32(0);
    w.array(topics, flex, (w, t) => {
      w.string(t.name, flex);
      w.array(t.partitions, flex, (w, p) => {
        let code = error;
        if (code === ERR.NONE && !this.partition(t.name, p.index)) code = ERR.UNKNOWN_TOPIC_OR_PARTITION;
        if (code === ERR.NONE) {
          group.offsets.set(`${t.name}:${p.index}`, { offset: p.offset, leaderEpoch: p.leaderEpoch, metadata: p.metadata });
          const log = `${groupId} ${t.name}:${p.index}`;
          this.commitLog.set(log, [...(this.commitLog.get(log) ?? []), p.offset]);
        }
        w.int32(p.index).int16(this.answered(code)).tags(flex);
      });
      w.tags(flex);
    });
    return w.tags(flex).build();
  }

  private offsetFetch(r: Reader, v: Version): Buffer {
    if (v.v < 8) return this.offsetFetchOneGroup(r, v);
    const groups = r.array(true, (r) => {
      const id = r.string(true) ?? '';
      const topics = r.array(true, (r) => {
        const name = r.string(true) ?? '';
        const partitions = r.array(true, (r) => r.int32());
        r.taggedFields();
        return { name, partitions };
      });
      r.taggedFields();
      return { id, topics };
    });
    r.bool();
    r.taggedFields();
    const w = new Writer().int32(0);
    w.array(groups, true, (w, g) => {
      const group = this.groups.get(g.id);
      w.string(g.id, true);
      w.array(g.topics, true, (w, t) => {
        w.string(t.name, true);
        w.array(t.partitions, true, (w, index) => {
          const committed = group?.offsets.get(`${t.name}:${index}`);
          w.int32(index).int64(committed?.offset ?? -1n).int32(committed?.leaderEpoch ?? -1).string(committed?.metadata ?? null, true).int16(0).tags();
        });
        w.tags();
      });
      w.int16(0).tags();
    });
    return w.tags().build();
  }

  /** OffsetFetch before v8 (KIP-709): one group per request, its answer at the top level. */
  private offsetFetchOneGroup(r: Reader, { v, flex }: Version): Buffer {
    const groupId = r.string(flex) ?? '';
    // A null topic list asks for every committed partition of the group.
    const everyTopic = flex ? r.buf[r.offset] === 0 : r.buf.readInt32BE(r.offset) === -1;
    let topics = r.array(flex, (r) => {
      const name = r.string(flex) ?? '';
      const partitions = r.array(flex, (r) => r.int32());
      r.taggedFields(flex);
      return { name, partitions };
    });
    if (v >= 7) r.bool(); // require_stable: no transactions here, every offset is stable
    r.taggedFields(flex);
    const group = this.groups.get(groupId);
    if (everyTopic) {
      const byTopic = new Map<string, number[]>();
      for (const key of group?.offsets.keys() ?? []) {
        const at = key.lastIndexOf(':');
        byTopic.set(key.slice(0, at), [...(byTopic.get(key.slice(0, at)) ?? []), Number(key.slice(at + 1))]);
      }
      topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }));
    }
    const w = new Writer().int32(0);
    w.array(topics, flex, (w, t) => {
      w.string(t.name, flex);
      w.array(t.partitions, flex, (w, index) => {
        const committed = group?.offsets.get(`${t.name}:${index}`);
        w.int32(index).int64(committed?.offset ?? -1n);
        if (v >= 5) w.int32(committed?.leaderEpoch ?? -1);
        w.string(committed?.metadata ?? null, flex).int16(0).tags(flex);
      });
      w.tags(flex);
    });
    return w.int16(0).tags(flex).build();
  }

  // --- consuming -------------------------------------------------------------------------------

  private listOffsets(connection: ConnectionState, r: Reader, { v }: Version): Buffer {
    r.int32(); // replica_id
    r.int8(); // isolation_level (v2+): no transactions here, both levels read the same
    const topics = r.array(false, (r) => ({
      name: r.string(false) ?? '',
      // current_leader_epoch from v4 (KIP-320)
      partitions: r.array(false, (r) => ({ index: r.int32(), leaderEpoch: v >= 4 ? r.int32() : -1, timestamp: r.int64() })),
    }));
    const w = new Writer().int32(0);
    w.array(topics, false, (w, t) => {
      w.string(t.name, false);
      w.array(t.partitions, false, (w, q) => {
        const p = this.partition(t.name, q.index);
        let error: number = ERR.NONE;
        let offset = -1n;
        if (!p) error = ERR.UNKNOWN_TOPIC_OR_PARTITION;
        else if (p.leader !== connection.node.id) error = ERR.NOT_LEADER_OR_FOLLOWER;
        else if (q.timestamp === -2n) offset = 0n;
        else if (q.timestamp === -1n) offset = p.nextOffset;
        else offset = p.batches.find((b) => b.header.maxTimestamp >= q.timestamp)?.baseOffset ?? p.nextOffset;
        w.int32(q.index).int16(this.answered(error)).int64(-1n).int64(offset);
        if (v >= 4) w.int32(p?.leaderEpoch ?? -1);
      });
    });
    return w.build();
  }

  private async fetch(connection: ConnectionState, r: Reader, { v, flex }: Version): Promise<Buffer> {
    r.int32(); // replica_id
    const maxWaitMs = Math.min(Math.max(r.int32(), 0), 30_000);
    r.int32(); // min_bytes: any data answers
    const maxBytes = r.int32();
    r.int8(); // isolation_level: no transactions here, both levels read the same
    r.int32(); // session_id: sessions are not kept, every fetch is a full one
    r.int32();
    const topics = r.array(flex, (r) => {
      const name = r.string(flex) ?? '';
      const partitions = r.array(flex, (r) => {
        // last_fetched_epoch from v12
        const p = { index: r.int32(), currentLeaderEpoch: r.int32(), fetchOffset: r.int64(), lastFetchedEpoch: v >= 12 ? r.int32() : -1, logStart: r.int64(), maxBytes: r.int32() };
        r.taggedFields(flex);
        return p;
      });
      r.taggedFields(flex);
      return { name, partitions };
    });
    r.array(flex, (r) => {
      r.string(flex);
      r.array(flex, (r) => r.int32());
      r.taggedFields(flex);
    });
    r.string(flex); // rack_id
    r.taggedFields(flex);
    const read = () => {
      let budget = maxBytes;
      let any = false;
      const out = topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((q) => {
          const p = this.partition(t.name, q.index);
          if (!p) return { index: q.index, error: ERR.UNKNOWN_TOPIC_OR_PARTITION, hw: -1n, records: null as Buffer | null };
          if (p.leader !== connection.node.id) return { index: q.index, error: ERR.NOT_LEADER_OR_FOLLOWER, hw: -1n, records: null };
          if (q.currentLeaderEpoch >= 0 && q.currentLeaderEpoch < p.leaderEpoch) return { index: q.index, error: ERR.FENCED_LEADER_EPOCH, hw: -1n, records: null };
          if (q.fetchOffset > p.nextOffset || q.fetchOffset < 0n) return { index: q.index, error: ERR.OFFSET_OUT_OF_RANGE, hw: p.nextOffset, records: null };
          const chosen: Buffer[] = [];
          let size = 0;
          for (const b of p.batches) {
            if (b.lastOffset < q.fetchOffset) continue;
            // At least one batch, even past the limits, so a consumer always makes progress.
            if (chosen.length > 0 && (size + b.bytes.length > q.maxBytes || size + b.bytes.length > budget)) break;
            chosen.push(b.bytes);
            size += b.bytes.length;
          }
          budget -= size;
          if (chosen.length > 0) any = true;
          return { index: q.index, error: ERR.NONE, hw: p.nextOffset, records: chosen.length > 0 ? Buffer.concat(chosen) : null };
        }),
      }));
      return { out, any };
    };
    let result = read();
    const anyError = () => result.out.some((t) => t.partitions.some((p) => p.error !== ERR.NONE));
    if (!result.any && !anyError() && maxWaitMs > 0 && this.running) {
      await new Promise<void>((resolve) => {
        const partitions = topics.flatMap((t) => t.partitions.map((q) => this.partition(t.name, q.index))).filter((p): p is Partition => p !== undefined);
        const timer = setTimeout(done, maxWaitMs);
        function done() {
          clearTimeout(timer);
          for (const p of partitions) p.waiters.delete(done);
          resolve();
        }
        for (const p of partitions) p.waiters.add(done);
      });
      result = read();
    }
    const w = new Writer().int32(0).int16(0).int32(0);
    w.array(result.out, flex, (w, t) => {
      w.string(t.name, flex);
      w.array(t.partitions, flex, (w, p) => {
        w.int32(p.index).int16(this.answered(p.error)).int64(p.hw).int64(p.hw).int64(0n).array(null, flex, () => undefined).int32(-1).bytesField(p.records, flex).tags(flex);
      });
      w.tags(flex);
    });
    return w.tags(flex).build();
  }
}

function scramAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
