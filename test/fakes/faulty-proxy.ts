import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'drop' }
  /** Forward the request, but only after this long. */
  | { kind: 'slow'; delayMs: number };

/**
 * An HTTP proxy in front of a real server (s3rver) that fails the next requests as scripted
 * (an error status, or a cut connection) and forwards the rest untouched.
 */
export class FaultyProxy {
  private server!: Server;
  private readonly faults: Fault[] = [];
  forwarded = 0;
  /** Authorization headers of every request seen (to check SigV4 signing). */
  readonly authorizations: string[] = [];
  failed = 0;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      this.authorizations.push(req.headers.authorization ?? '');
      const fault = this.faults.shift();
      if (fault?.kind === 'slow') {
        req.pause();
        return void setTimeout(() => {
          req.resume();
          this.forward(target, req, res);
        }, fault.delayMs);
      }
      if (fault) {
        this.failed++;
        req.resume();
        if (fault.kind === 'drop') return void req.socket.destroy();
        res.writeHead(fault.status, { 'content-type': 'application/xml', ...fault.headers });
        return void res.end(fault.body ?? '');
      }
      this.forward(target, req, res);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private forward(target: URL, req: IncomingMessage, res: ServerResponse): void {
    this.forwarded++;
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  script(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
