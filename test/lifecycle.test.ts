// The agent as a process: it runs until told to stop, and it never exits without saying why.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';

const repoRoot = join(import.meta.dirname, '..', '..');
const dist = join(repoRoot, 'dist', 'src');
const CLI = join(dist, 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(args: string[], options: SpawnOptions = {}): Running {
  // The timeout only turns a hang into a failure (SIGKILL) instead of stalling the suite.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL', ...options });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

async function waitFor(what: string, ready: () => boolean, agent: Running, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline || agent.child.exitCode !== null) {
      throw new Error(`${what}: not seen (exit code ${agent.child.exitCode}); stderr:\n${agent.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lines of the agent's own log (JSON on stderr). */
function logLines(stderr: string): Array<{ level: string; msg: string; [key: string]: unknown }> {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; msg: string });
}

/** Started, still alive a while after its components went idle, then drained by SIGINT with exit 0. */
async function assertRunsUntilSigint(agent: Running, hasOutput: () => boolean): Promise<void> {
  await waitFor('sluice started', () => agent.stderr().includes('sluice started'), agent);
  await waitFor('events on stdout', hasOutput, agent);
  // Every component is idle now; before the fix the process was gone (exit 13) within half a second.
  await sleep(3000);
  assert.equal(agent.child.exitCode, null, `exited by itself; stderr:\n${agent.stderr()}`);
  agent.child.kill('SIGINT');
  assert.equal(await agent.exit, 0, agent.stderr());
  assert.match(agent.stderr(), /stopped cleanly/);
}

describe('agent process lifecycle', () => {
  it('`npm start` (the examples/pods config) keeps running until SIGINT, then exits 0', async () => {
    const dataDir = join(dir.path, 'npm-start');
    mkdirSync(dataDir);
    const agent = start([CLI, '--config', 'examples/pods/sluice.toml'], {
      cwd: repoRoot,
      env: { ...process.env, SLUICE_DATA_DIR: dataDir },
    });
    await assertRunsUntilSigint(agent, () => agent.stdout().includes('"source_type":"kubernetes_logs"'));
  });

  it('a config without [api] (file -> console) keeps running until SIGINT, then exits 0', async () => {
    const logs = join(dir.path, 'app-logs');
    mkdirSync(logs);
    writeFileSync(join(logs, 'app.log'), 'hello\n');
    const config = join(dir.path, 'no-api.toml');
    writeFileSync(
      config,
      `data_dir = "${join(dir.path, 'no-api-data')}"\n` +
        `[sources.app]\ntype = "file"\ninclude = ["${logs}/*.log"]\n` +
        `[sinks.out]\ntype = "console"\ninputs = ["app"]\nencoding.codec = "json"\n`,
    );
    const agent = start([CLI, '--config', config]);
    await assertRunsUntilSigint(agent, () => agent.stdout().includes('"message":"hello"'));
  });

  it('an exit while the agent runs (process.exit from anywhere) is logged with its code', async () => {
    const logs = join(dir.path, 'exit-logs');
    mkdirSync(logs);
    const config = join(dir.path, 'exit.toml');
    writeFileSync(
      config,
      `data_dir = "${join(dir.path, 'exit-data')}"\n[sources.app]\ntype = "file"\ninclude = ["${logs}/*.log"]\n` +
        `[sinks.out]\ntype = "blackhole"\ninputs = ["app"]\n`,
    );
    // A library calling process.exit(7) once the agent is up: the exit must not be silent.
    const script =
      `import { pino } from 'pino';\n` +
      `import '${join(dist, 'components.js')}';\n` +
      `import { runAgent } from '${join(dist, 'core', 'agent.js')}';\n` +
      `const stderr = { write: (line) => { process.stderr.write(line); if (line.includes('sluice started')) process.exit(7); } };\n` +
      `void runAgent({ config: { files: [${JSON.stringify(config)}], dirs: [] }, logger: pino({}, stderr), gracefulShutdownLimitSecs: 5, requireHealthy: false });\n`;
    const agent = start(['--input-type=module', '-e', script]);
    assert.equal(await agent.exit, 7, agent.stderr());
    const last = logLines(agent.stderr()).at(-1);
    assert.equal(last?.msg, 'process exiting while the agent is still running', agent.stderr());
    assert.equal(last?.['exit_code'], 7);
  });

  for (const [kind, crash] of [
    ['uncaught exception', `setTimeout(() => { throw new Error('boom'); });`],
    ['unhandled rejection', `void Promise.reject(new Error('boom'));`],
  ]) {
    it(`an ${kind} is logged as one JSON line before exit 1`, async () => {
      const script =
        `import { logCrashes } from '${join(dist, 'core', 'lifecycle.js')}';\n` +
        `import { createLogger } from '${join(dist, 'core', 'logger.js')}';\n` +
        `logCrashes(createLogger('info'));\n${crash}\n`;
      const child = start(['--input-type=module', '-e', script]);
      assert.equal(await child.exit, 1, child.stderr());
      const lines = logLines(child.stderr());
      assert.equal(lines.length, 1, child.stderr());
      assert.equal(lines[0]!.level, 'fatal');
      assert.equal(lines[0]!.msg, `${kind}: exiting`);
      assert.equal((lines[0]!['err'] as { message: string }).message, 'boom');
      // Nothing but the log line: no raw stack trace printed by Node.
      assert.equal(child.stderr().trim().split('\n').length, 1, child.stderr());
    });
  }

  /** Runs the CLI with `[api] address` and expects exit 1 with one log line naming address and code. */
  async function assertListenFailure(address: string, code: string, options: SpawnOptions = {}): Promise<void> {
    const own = tempDir('sluice-api-');
    after(() => own.cleanup());
    const configDir = own.path;
    chmodSync(configDir, 0o755); // readable by the unprivileged user of the EACCES case
    const config = join(configDir, 'sluice.toml');
    writeFileSync(
      config,
      `data_dir = "${join(configDir, 'data')}"\n[api]\nenabled = true\naddress = "${address}"\n` +
        `[sources.demo]\ntype = "demo_logs"\n[sinks.out]\ntype = "blackhole"\ninputs = ["demo"]\n`,
    );
    chmodSync(config, 0o644);
    const agent = start([CLI, '--config', config], options);
    assert.equal(await agent.exit, 1, agent.stderr());
    const stderr = agent.stderr().trim();
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
    const lines = logLines(stderr);
    assert.equal(lines.length, stderr.split('\n').length, `only log lines on stderr:\n${stderr}`);
    const failure = lines.find((line) => line.level === 'error');
    assert.ok(failure, stderr);
    assert.equal(failure['address'], address);
    assert.equal(failure['code'], code);
    assert.ok(failure.msg.startsWith(`API cannot listen on ${address}: `) && failure.msg.endsWith(`(${code})`), failure.msg);
    assert.doesNotMatch(stderr, /sluice started/);
  }

  it('a busy [api] port: one log line naming the address and EADDRINUSE, exit 1', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = holder.address() as { port: number };
      await assertListenFailure(`127.0.0.1:${port}`, 'EADDRINUSE');
    } finally {
      holder.close();
    }
  });

  it('a privileged [api] port without the privilege: one log line naming the address and EACCES, exit 1', async (t) => {
    if (Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 1) {
      t.skip('this kernel lets anyone bind port 1');
      return;
    }
    // As root, bind as nobody so the kernel refuses the port.
    const asNobody: SpawnOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    await assertListenFailure('127.0.0.1:1', 'EACCES', asNobody);
  });
});
