// The http_server source through the sluice process: status codes, audit EventList splitting, and
// the 200 that comes only once the sink has accepted the events.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { createTestPki } from '../../../test/fakes/tls.js';
import { tempDir } from '../../../test/harness.js';

const CLI = join(import.meta.dirname, '..', '..', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

interface Agent {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exit: Promise<number | null>;
}

async function startAgent(name: string, config: string): Promise<Agent> {
  const path = join(dir.path, `${name}.toml`);
  writeFileSync(path, `data_dir = "${dir.path}"\n${config}`);
  // The timeout only turns a hang into a failure instead of stalling the suite.
  const child = spawn(process.execPath, [CLI, '--config', path], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = /"address":"127\.0\.0\.1:(\d+)".*http_server listening/.exec(stderr);
    if (match) return { child, port: Number(match[1]), stderr: () => stderr, exit };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not listen; stderr:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function stopAgent(agent: Agent): Promise<void> {
  agent.child.kill('SIGINT');
  assert.equal(await agent.exit, 0, agent.stderr());
}

interface Reply {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
}

function send(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; chunks?: Buffer[] }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'POST', path: options.path ?? '/', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    if (options.chunks) for (const chunk of options.chunks) req.write(chunk);
    req.end(options.body);
  });
}

/** Like kube-apiserver's webhook backend: POST the batch, retry with backoff until a 2xx. */
async function postLikeWebhookBackend(port: number, path: string, token: string, body: string): Promise<{ attempts: number; statuses: number[] }> {
  const statuses: number[] = [];
  for (let attempt = 1, backoff = 50; attempt <= 20; attempt++, backoff *= 2) {
    try {
      const reply = await send(port, { path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
      statuses.push(reply.status);
      if (reply.status >= 200 && reply.status < 300) return { attempts: attempt, statuses };
    } catch {
      statuses.push(0);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(backoff, 1000)));
  }
  throw new Error(`webhook batch never accepted: ${statuses.join(',')}`);
}

function auditEvent(id: string, verb: string): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: id,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/default/pods',
    verb,
    user: { username: 'system:admin', groups: ['system:masters'] },
    objectRef: { resource: 'pods', namespace: 'default', apiVersion: 'v1' },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: '2026-12-01T20:00:00.000000Z',
    stageTimestamp: '2026-12-01T20:00:00.010000Z',
  };
}

function readLines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}


/** A destination for the http sink that holds requests while `holding`, answering them on release. */
async function holdingDestination(): Promise<{ port: number; events: () => number; held: () => number; requests: () => number; release: () => void; close: () => void }> {
  const held: ServerResponse[] = [];
  let holding = true;
  let events = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests++;
      events += body.split('\n').filter((line) => line.trim() !== '').length;
      if (holding) held.push(res);
      else res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    events: () => events,
    held: () => held.length,
    requests: () => requests,
    release: () => {
      holding = false;
      for (const res of held.splice(0)) res.writeHead(200).end();
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const heldSink = (port: number, extra = '') =>
  `[sinks.out]\ntype = "http"\ninputs = ["in"]\nuri = "http://127.0.0.1:${port}/bulk"\nencoding.codec = "ndjson"\nbatch.timeout_secs = 0.05\nbatch.max_events = 5\nrequest.concurrency = 1\nhealthcheck.enabled = false\n${extra}`;

describe('http_server source (sluice process)', () => {
  it('an audit EventList posted like the webhook backend arrives once per item, keys unchanged', async () => {
    const out = join(dir.path, 'audit.ndjson');
    const port = await freePort();
    // The API server posts (and retries) before the agent listens.
    const items = [auditEvent('a-1', 'create'), auditEvent('a-2', 'get'), auditEvent('a-3', 'delete')];
    const posting = postLikeWebhookBackend(port, '/audit', 's3cr3t', JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items }));
    posting.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    const agent = await startAgent(
      'audit',
      `[sources.audit]\ntype = "http_server"\naddress = "127.0.0.1:${port}"\npath = "/audit"\ndecoding.codec = "json"\nauth.strategy = "bearer"\nauth.token = "s3cr3t"\n` +
        `[sinks.out]\ntype = "file"\ninputs = ["audit"]\npath = "${out}"\nencoding.codec = "json"\n`,
    );
    try {
      const result = await posting;
      assert.ok(result.attempts > 1 && result.statuses[0] === 0, `statuses: ${result.statuses.join(',')}`);
      assert.equal(result.statuses.at(-1), 200);
      // The 200 came after the file sink accepted, so the lines are there now.
      const lines = readLines(out);
      assert.deepEqual(lines.map((l) => l.auditID), ['a-1', 'a-2', 'a-3']);
      for (const [i, line] of lines.entries()) {
        const { source_type, timestamp, ...rest } = line;
        assert.equal(source_type, 'http_server');
        assert.ok(!Number.isNaN(Date.parse(String(timestamp))));
        assert.deepEqual(rest, items[i]);
      }
    } finally {
      await stopAgent(agent);
    }
  });

  it('answers 401, 400, 413, 415, 405 and 404, and ships nothing for them; gzip bodies are inflated within the limit', async () => {
    const out = join(dir.path, 'codes.ndjson');
    const agent = await startAgent(
      'codes',
      `[sources.in]\ntype = "http_server"\naddress = "127.0.0.1:0"\npath = "/in"\ndecoding.codec = "ndjson"\nmax_body_bytes = 1024\nauth.strategy = "basic"\nauth.username = "agent"\nauth.password = "pw"\n` +
        `[sinks.out]\ntype = "file"\ninputs = ["in"]\npath = "${out}"\nencoding.codec = "json"\n`,
    );
    const good = { authorization: `Basic ${Buffer.from('agent:pw').toString('base64')}` };
    try {
      const missing = await send(agent.port, { path: '/in', body: '{"a":1}\n' });
      assert.equal(missing.status, 401);
      assert.match(String(missing.headers['www-authenticate']), /^Basic/);
      assert.equal((await send(agent.port, { path: '/in', headers: { authorization: `Basic ${Buffer.from('agent:wrong').toString('base64')}` }, body: '{"a":1}\n' })).status, 401);
      assert.equal((await send(agent.port, { path: '/in', headers: { authorization: 'Bearer pw' }, body: '{"a":1}\n' })).status, 401);
      const bad = await send(agent.port, { path: '/in', headers: good, body: '{"a":1}\n{not json\n' });
      assert.equal(bad.status, 400);
      assert.match(bad.body, /line 2/);
      // Declared too large: refused before reading; streamed too large (chunked): refused at the limit.
      assert.equal((await send(agent.port, { path: '/in', headers: { ...good, 'content-length': '5000' }, body: 'x'.repeat(5000) })).status, 413);
      assert.equal((await send(agent.port, { path: '/in', headers: good, chunks: [Buffer.from('{"a":1}\n'.repeat(100)), Buffer.from('{"a":1}\n'.repeat(100))] })).status, 413);
      assert.equal((await send(agent.port, { path: '/in', headers: { ...good, 'content-encoding': 'br' }, body: '{"a":1}\n' })).status, 415);
      // gzip: the limit applies to the inflated body (a 100 KB bomb of a few hundred bytes), and a broken stream is a 400.
      const bomb = gzipSync(Buffer.alloc(100_000, 0x20));
      assert.ok(bomb.length < 1024);
      assert.equal((await send(agent.port, { path: '/in', headers: { ...good, 'content-encoding': 'gzip' }, body: bomb })).status, 413);
      assert.equal((await send(agent.port, { path: '/in', headers: { ...good, 'content-encoding': 'gzip' }, body: bomb.subarray(0, 20) })).status, 400);
      const get = await send(agent.port, { method: 'GET', path: '/in', headers: good });
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST');
      assert.equal((await send(agent.port, { path: '/elsewhere', headers: good, body: '{"a":1}\n' })).status, 404);
      assert.equal((await send(agent.port, { path: '/in/sub', headers: good, body: '{"a":1}\n' })).status, 404);
      // Only the good request is shipped.
      const ok = await send(agent.port, { path: '/in', headers: { ...good, 'content-encoding': 'gzip' }, body: gzipSync('{"seq":1,"message":"kept"}\n{"seq":2}\n') });
      assert.equal(ok.status, 200, ok.body);
      assert.deepEqual(readLines(out).map((l) => l.seq), [1, 2]);
      assert.equal(readLines(out)[0]!.message, 'kept');
    } finally {
      await stopAgent(agent);
    }
  });

  it('answers 200 only after the http sink downstream accepted; a permanent sink rejection answers 500', async () => {
    const held: ServerResponse[] = [];
    const received: string[] = [];
    let answer = 200;
    const destination = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push(body);
        if (answer === 200) held.push(res);
        else res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => destination.listen(0, '127.0.0.1', resolve));
    const destPort = (destination.address() as AddressInfo).port;
    const agent = await startAgent(
      'acks',
      `[sources.in]\ntype = "http_server"\naddress = "127.0.0.1:0"\ndecoding.codec = "json"\n` +
        `[sinks.out]\ntype = "http"\ninputs = ["in"]\nuri = "http://127.0.0.1:${destPort}/bulk"\nencoding.codec = "ndjson"\nbatch.timeout_secs = 0.05\nrequest.retry_attempts = 0\nhealthcheck.enabled = false\n`,
    );
    try {
      let replied: Reply | undefined;
      const pending = send(agent.port, { body: JSON.stringify([{ n: 1 }, { n: 2 }]) }).then((reply) => (replied = reply));
      await eventually('the sink request at the destination', () => held.length === 1);
      assert.deepEqual(received[0]!.trim().split('\n').map((line) => (JSON.parse(line) as { n: number }).n), [1, 2]);
      // The sink's request is still open, so the source has no ack: the client has no answer yet.
      // A round trip through the agent after the events went out: a premature 200 would be here by now.
      assert.equal((await send(agent.port, { method: 'GET', path: '/nowhere' })).status, 404);
      assert.equal(replied, undefined);
      held[0]!.writeHead(200).end();
      assert.equal((await pending).status, 200);

      answer = 400;
      const rejected = await send(agent.port, { body: JSON.stringify({ n: 3 }) });
      assert.equal(rejected.status, 500);
      assert.match(rejected.body, /rejected/);
    } finally {
      await stopAgent(agent);
      destination.close();
    }
  });
  it('answers 503 while the buffer is full; a 503 request is not shipped, the others get 200 once delivered', async () => {
    const destination = await holdingDestination();
    const agent = await startAgent('full', `[sources.in]\ntype = "http_server"\naddress = "127.0.0.1:0"\ndecoding.codec = "json"\n` + heldSink(destination.port, 'buffer.max_events = 5\n'));
    try {
      const batch = (n: number) => JSON.stringify(Array.from({ length: 5 }, (_, i) => ({ request: n, i })));
      const replies: Array<Promise<Reply>> = [];
      let refusedSeen = false;
      for (let n = 0; n < 40 && !refusedSeen; n++) {
        const reply = send(agent.port, { body: batch(n) });
        replies.push(reply);
        // A round trip through the agent paces the loop: by its end this request was answered 503 or is waiting.
        await send(agent.port, { method: 'GET', path: '/nowhere' });
        const early = await Promise.race([reply, new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
        refusedSeen = early?.status === 503;
      }
      destination.release();
      const answers = await Promise.all(replies);
      const refused = answers.filter((r) => r.status === 503);
      const ok = answers.filter((r) => r.status === 200);
      assert.ok(refused.length > 0, 'no 503 although the sink holds every request');
      assert.equal(refused[0]!.headers['retry-after'], '1');
      assert.ok(ok.length > 0);
      assert.equal(ok.length + refused.length, answers.length, `statuses: ${answers.map((r) => r.status).join(',')}`);
      // Every event of a 200 reached the destination; none of a 503.
      assert.equal(destination.events(), ok.length * 5);
    } finally {
      await stopAgent(agent);
      destination.close();
    }
  });

  it('at shutdown: stops accepting, and a request in flight still gets its 200 once delivered', async () => {
    const destination = await holdingDestination();
    const agent = await startAgent('shutdown', `[sources.in]\ntype = "http_server"\naddress = "127.0.0.1:0"\ndecoding.codec = "json"\n` + heldSink(destination.port));
    try {
      let replied: Reply | undefined;
      const inFlight = send(agent.port, { body: JSON.stringify({ n: 1 }) }).then((reply) => (replied = reply));
      await eventually('the sink request at the destination', () => destination.held() === 1);
      agent.child.kill('SIGINT');
      await eventually('the listener closed', () => /signal received: draining/.test(agent.stderr()));
      let refusedNew = false;
      for (let i = 0; i < 100 && !refusedNew; i++) {
        refusedNew = await send(agent.port, { body: '{}' }).then((r) => r.status === 503, () => true);
        if (!refusedNew) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(refusedNew, 'a new request was accepted during shutdown');
      assert.equal(replied, undefined);
      destination.release();
      assert.equal((await inFlight).status, 200);
      assert.equal(await agent.exit, 0, agent.stderr());
      assert.equal(destination.events(), 1);
    } finally {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
      destination.close();
    }
  });

  it('tls with ca_file requires a client certificate signed by that CA (mutual TLS)', async () => {
    const pki = createTestPki();
    const out = join(dir.path, 'tls.ndjson');
    const agent = await startAgent(
      'tls',
      `[sources.in]\ntype = "http_server"\naddress = "127.0.0.1:0"\ndecoding.codec = "json"\n` +
        `tls = { crt_file = "${join(pki.dir, 'server.crt')}", key_file = "${join(pki.dir, 'server.key')}", ca_file = "${pki.caFile}" }\n` +
        `[sinks.out]\ntype = "file"\ninputs = ["in"]\npath = "${out}"\nencoding.codec = "json"\n`,
    );
    const post = (withClientCert: boolean) =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: agent.port,
            method: 'POST',
            path: '/',
            ca: pki.ca,
            ...(withClientCert ? { cert: readFileSync(pki.clientCertFile), key: readFileSync(pki.clientKeyFile) } : {}),
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ secure: withClientCert }));
      });
    try {
      assert.equal(await post(true), 200);
      await assert.rejects(post(false));
      assert.deepEqual(readLines(out).map((l) => l.secure), [true]);
    } finally {
      await stopAgent(agent);
      pki.cleanup();
    }
  });
});
