// Test helper: the sluice process fed over HTTP by its http_server source, whose 200 comes only once
// every event of the request is acknowledged (shipped, or dropped and acked by a transform).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');

export interface HttpFedAgent {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  /** POST ndjson lines; resolves with the status, or 0 when no answer came within `timeoutMs`. */
  post(lines: object[], timeoutMs?: number): Promise<number>;
  /** The agent's Prometheus metrics text. */
  metrics(): Promise<string>;
  /** SIGINT, then the exit code. */
  stop(): Promise<number | null>;
}

/** `transforms` and `sinks` are TOML tables; the source is `[sources.in]`. */
export async function startHttpFedAgent(dir: string, name: string, rest: string): Promise<HttpFedAgent> {
  const path = join(dir, `${name}.toml`);
  writeFileSync(path, `data_dir = "${dir}"\napi.enabled = true\napi.address = "127.0.0.1:0"\n[sources.in]\ntype = "http_server"\naddress = "127.0.0.1:0"\ndecoding.codec = "ndjson"\n${rest}`);
  // The timeout only turns a hang into a failure instead of stalling the suite.
  const child = spawn(process.execPath, [CLI, '--config', path], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  let port = 0;
  let apiPort = 0;
  for (;;) {
    const source = /"address":"127\.0\.0\.1:(\d+)".*http_server listening/.exec(stderr);
    const api = /"address":"127\.0\.0\.1:(\d+)".*API listening/.exec(stderr);
    if (source && api) {
      port = Number(source[1]);
      apiPort = Number(api[1]);
      break;
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not listen; stderr:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    port,
    stderr: () => stderr,
    post(lines, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', timeout: timeoutMs }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('timeout', () => {
          req.destroy();
          resolve(0);
        });
        req.on('error', reject);
        req.end(lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
      });
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
    },
    async stop() {
      child.kill('SIGINT');
      return exit;
    },
  };
}

export function readNdjson(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The value of one Prometheus sample line from the agent's metrics, e.g. discarded events. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Waits until the agent's stderr (`get`) matches `pattern`; the error shows what it logged. The deadline only turns a hang into a failure (a loaded machine starts node slowly). */
export async function waitForLog(get: () => string, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = get().match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no log matching ${pattern}; stderr:\n${get()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The sluice process on `config` with `input` on stdin, run to its exit: the exit code and stderr. */
export async function runStdinAgent(config: string, input: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, '--config', config, '--log-level', 'warn'], {
    stdio: ['pipe', 'ignore', 'pipe'],
    timeout: 60_000,
    killSignal: 'SIGKILL',
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdin!.end(input);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stderr };
}
