// Test helper: a real nats-server with JetStream, on a free port and a temp store dir, that can be
// killed and started again on the same port and store (a server restart).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect } from 'node:net';
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { freePort, tempDir } from './harness.js';

export const NATS_SERVER = process.env.NATS_SERVER ?? 'nats-server';


function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export class NatsServer {
  private child: ChildProcess | undefined;
  private readonly store = tempDir('sluice-nats-');
  port = 0;
  log = '';

  /** `args`: extra nats-server flags (TLS, auth); `clientOptions`: what the test's own client then needs. */
  constructor(
    private readonly args: string[] = [],
    private readonly clientOptions: ConnectionOptions = {},
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(extraArgs: string[] = []): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.store.path, ...this.args, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => (this.log += chunk));
    child.stderr!.on('data', (chunk) => (this.log += chunk));
    this.child = child;
    const deadline = Date.now() + 15_000;
    while (!(await accepting(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited ${child.exitCode}:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`nats-server not listening on ${this.port}:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Listening precedes JetStream recovery: wait until the JetStream API answers.
    const nc = await this.client();
    try {
      for (;;) {
        try {
          await (await nc.jetstreamManager()).getAccountInfo();
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      await nc.close();
    }
    return this;
  }

  /** Stops the server with `signal` and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  client(): Promise<NatsConnection> {
    return connect({ servers: this.url, ...this.clientOptions });
  }

  async close(): Promise<void> {
    await this.kill();
    this.store.cleanup();
  }
}

/** Creates a stream (file storage) capturing `subjects`. */
export async function addStream(nc: NatsConnection, name: string, subjects: string[]): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name, subjects });
}

/** Every message of a stream, in order: subject and payload text. */
export async function readStream(nc: NatsConnection, name: string): Promise<Array<{ subject: string; data: string }>> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(name);
  const out: Array<{ subject: string; data: string }> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    try {
      const message = await jsm.streams.getMessage(name, { seq });
      out.push({ subject: message.subject, data: new TextDecoder().decode(message.data) });
    } catch (error) {
      if (!/no message found/i.test((error as Error).message)) throw error;
    }
  }
  return out;
}
