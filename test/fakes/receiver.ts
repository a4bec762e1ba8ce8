import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One request as the fake server saw it, body decompressed. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The body bytes as sent (compressed if they were). */
  raw: Buffer;
  /** Size on the wire (compressed if it was). */
  wireBytes: number;
  /** The status the server answered (undefined while pending or when the connection was cut). */
  status?: number;
  /** Subject CN of the client certificate, when mutual TLS presented one. */
  clientCertCn?: string | undefined;
}

/** What the server does with the next request: answer, answer late, or cut the connection. */
export type Behaviour =
  | { kind: 'answer'; status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | { kind: 'drop' };

export interface ReceiverOptions {
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requestClientCert?: boolean };
  /** Produces the normal answer (status + body) for requests with no scripted behaviour. */
  handle?: (request: ReceivedRequest) => { status: number; body?: string; headers?: Record<string, string> };
}

/**
 * A real HTTP(S) server on 127.0.0.1 (ephemeral port) that records requests and can be scripted
 * to fail: queue behaviours with `script(...)`; each request takes the next one, then the
 * default handler applies.
 */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests being answered right now, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;
  private readonly scripted: Behaviour[] = [];
  private server!: Server;
  private waiters: Array<() => void> = [];
  url = '';

  constructor(private readonly options: ReceiverOptions = {}) {}

  async start(): Promise<this> {
    const listener = (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res);
    const tls = this.options.tls;
    this.server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.requestClientCert ?? false, rejectUnauthorized: false }, listener)
      : createHttpServer(listener);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  script(...behaviours: Behaviour[]): void {
    this.scripted.push(...behaviours);
  }

  /** Resolves once at least `count` requests have arrived. */
  async waitForRequests(count: number): Promise<void> {
    while (this.requests.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
    const socket = req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } };
    const received: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body,
      raw,
      wireBytes: raw.length,
      clientCertCn: socket.getPeerCertificate?.()?.subject?.CN,
    };
    this.requests.push(received);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.answer(req, res, received);
    } finally {
      this.inFlight--;
    }
  }

  private async answer(req: IncomingMessage, res: ServerResponse, received: ReceivedRequest): Promise<void> {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();

    const behaviour = this.scripted.shift() ?? { kind: 'answer', ...(this.options.handle?.(received) ?? { status: 200, body: '{}' }) };
    if (behaviour.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (res.destroyed) return;
    received.status = behaviour.status;
    res.writeHead(behaviour.status, { 'content-type': 'application/json', ...behaviour.headers });
    res.end(behaviour.body ?? '');
  }
}

/**
 * A vendor fake: a Receiver whose answers come from `handle` (the vendor's protocol); the fakes
 * differ only in what they store and answer.
 */
export abstract class ReceiverFake {
  readonly receiver: Receiver;

  constructor(tls?: ReceiverOptions['tls']) {
    this.receiver = new Receiver({ tls, handle: (request) => this.handle(request) });
  }

  get url(): string {
    return this.receiver.url;
  }

  async start(): Promise<this> {
    await this.receiver.start();
    return this;
  }

  close(): Promise<void> {
    return this.receiver.close();
  }

  protected abstract handle(request: ReceivedRequest): { status: number; body?: string; headers?: Record<string, string> };
}
