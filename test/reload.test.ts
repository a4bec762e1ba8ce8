// Reloading the config of a running agent (SIGHUP, --watch-config), through the `sluice` process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

interface Agent {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startAgent(args: string[]): Agent {
  // The timeout only turns a hang into a failure (SIGKILL) instead of stalling the suite.
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 90_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function waitFor(what: string, ready: () => boolean, agent: Agent, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline || agent.child.exitCode !== null || agent.child.signalCode !== null) {
      throw new Error(`${what}: not seen (exit ${agent.child.exitCode ?? agent.child.signalCode}); stderr:\n${agent.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Messages of the events a file sink wrote (one JSON object per line). */
function messagesIn(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { message: string }).message);
}

function appendLines(path: string, from: number, to: number): void {
  let text = '';
  for (let i = from; i <= to; i++) text += `line ${i}\n`;
  appendFileSync(path, text);
}

const expected = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);
const sortedByNumber = (messages: string[]) => [...messages].sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1]));

/** A file source tailing `<case>/logs/app.log` into a file sink writing to `sinkPath`. */
function setup(name: string): { base: string; log: string; config: string; write: (sinkPath: string, extra?: string) => void; writeRaw: (body: string) => void } {
  const base = join(dir.path, name);
  mkdirSync(join(base, 'logs'), { recursive: true });
  const log = join(base, 'logs', 'app.log');
  writeFileSync(log, '');
  const config = join(base, 'sluice.toml');
  const write = (sinkPath: string, extra = ''): void =>
    writeFileSync(
      config,
      `data_dir = "${join(base, 'data')}"\n[api]\nenabled = true\naddress = "127.0.0.1:0"\n` +
        `[sources.app]\ntype = "file"\ninclude = ["${join(base, 'logs')}/*.log"]\n` +
        `[sinks.out]\ntype = "file"\ninputs = ["app"]\npath = "${sinkPath}"\n${extra}`,
    );
  const writeRaw = (body: string): void => writeFileSync(config, `data_dir = "${join(base, 'data')}"\n` + body);
  return { base, log, config, write, writeRaw };
}

async function metricsOf(agent: Agent): Promise<string> {
  const port = /"address":"127\.0\.0\.1:(\d+)"/.exec(agent.stderr())?.[1];
  assert.ok(port, 'API address logged');
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

async function stopWithSigint(agent: Agent): Promise<void> {
  agent.child.kill('SIGINT');
  assert.equal(await agent.exit, 0, agent.stderr());
  assert.match(agent.stderr(), /stopped cleanly/);
}

describe('config reload', () => {
  it('SIGHUP with a changed sink path: every line arrives exactly once across the old and the new file, the agent keeps running', async () => {
    const { base, log, config, write } = setup('changed');
    const a = join(base, 'a.ndjson');
    const b = join(base, 'b.ndjson');
    write(a);
    appendLines(log, 1, 50);
    const agent = startAgent(['--config', config]);
    await waitFor('first lines in A', () => messagesIn(a).length >= 50, agent);
    // Lines still in flight while the reload happens.
    appendLines(log, 51, 100);
    write(b);
    agent.child.kill('SIGHUP');
    await waitFor('reload logged', () => /config reloaded: rebuilt/.test(agent.stderr()), agent);
    appendLines(log, 101, 150);
    await waitFor('every line in A or B', () => messagesIn(a).length + messagesIn(b).length >= 150, agent);
    assert.equal(agent.child.exitCode, null, 'still running after the reload');
    assert.ok(messagesIn(b).includes('line 150'), 'lines written after the reload go to the new path');
    assert.match(agent.stderr(), /config reloaded: rebuilt 1 component\(s\) in place \(changed: out; added: none; removed: none\); kept running: app/);
    assert.doesNotMatch(agent.stderr(), /shutting down/, 'the source was not stopped');
    assert.match(await metricsOf(agent), /sluice_config_reloads_total\{result="ok"\} 1\b/);
    await stopWithSigint(agent);
    assert.deepEqual(sortedByNumber([...messagesIn(a), ...messagesIn(b)]), expected(150), 'each line exactly once');
  });

  it('SIGHUP with an invalid config: the running config stays, and the log names the file and key', async () => {
    const { base, log, config, write } = setup('invalid');
    const a = join(base, 'a.ndjson');
    write(a);
    appendLines(log, 1, 10);
    const agent = startAgent(['--config', config]);
    await waitFor('first lines in A', () => messagesIn(a).length >= 10, agent);
    write(join(base, 'b.ndjson'), 'encoding.codecc = "json"\n');
    agent.child.kill('SIGHUP');
    await waitFor('reload rejected', () => /config reload rejected: the running config stays/.test(agent.stderr()), agent);
    assert.match(agent.stderr(), /config reload rejected: [^"]*sluice\.toml: sinks\.out\.encoding\.codecc: unknown option/);
    appendLines(log, 11, 20);
    await waitFor('later lines still in A', () => messagesIn(a).length >= 20, agent);
    assert.doesNotMatch(agent.stderr(), /shutting down/, 'nothing was stopped');
    assert.match(await metricsOf(agent), /sluice_config_reloads_total\{result="rejected"\} 1\b/);
    await stopWithSigint(agent);
    assert.deepEqual(sortedByNumber(messagesIn(a)), expected(20));
    assert.equal(existsSync(join(base, 'b.ndjson')), false);
  });

  it('SIGHUP with an unchanged config (rewritten, same meaning): nothing is rebuilt', async () => {
    const { base, log, config, write } = setup('unchanged');
    const a = join(base, 'a.ndjson');
    write(a);
    appendLines(log, 1, 10);
    const agent = startAgent(['--config', config]);
    await waitFor('first lines in A', () => messagesIn(a).length >= 10, agent);
    write(a, '# only a comment is new\n');
    agent.child.kill('SIGHUP');
    await waitFor('reload logged', () => /config reloaded: unchanged, nothing rebuilt/.test(agent.stderr()), agent);
    appendLines(log, 11, 20);
    await waitFor('later lines in A', () => messagesIn(a).length >= 20, agent);
    assert.doesNotMatch(agent.stderr(), /shutting down|rebuilt \d/, 'nothing was stopped or rebuilt');
    assert.match(await metricsOf(agent), /sluice_config_reloads_total\{result="ok"\} 1\b/);
    await stopWithSigint(agent);
    assert.deepEqual(sortedByNumber(messagesIn(a)), expected(20));
  });

  it('--watch-config reloads when a config file is edited', async () => {
    const { base, log, config, write } = setup('watch');
    const a = join(base, 'a.ndjson');
    const b = join(base, 'b.ndjson');
    write(a);
    appendLines(log, 1, 10);
    const agent = startAgent(['--config', config, '--watch-config']);
    await waitFor('first lines in A', () => messagesIn(a).length >= 10, agent);
    await waitFor('watching logged', () => /watching config files for changes/.test(agent.stderr()), agent);
    write(b);
    await waitFor('reload logged', () => /config reloaded: rebuilt/.test(agent.stderr()), agent);
    assert.match(agent.stderr(), /"trigger":"config file changed"/);
    appendLines(log, 11, 20);
    await waitFor('later lines in B', () => messagesIn(a).length + messagesIn(b).length >= 20, agent);
    await stopWithSigint(agent);
    assert.deepEqual(sortedByNumber([...messagesIn(a), ...messagesIn(b)]), expected(20));
    assert.ok(messagesIn(b).includes('line 20'));
  });

  it('-w watches a --config-dir: a file replaced by rename (as editors and ConfigMap volumes do) is seen', async () => {
    const { base, log, config, write } = setup('watch-dir');
    const confDir = join(base, 'conf.d');
    mkdirSync(confDir);
    const a = join(base, 'a.ndjson');
    const b = join(base, 'b.ndjson');
    write(a);
    renameSync(config, join(confDir, 'sluice.toml'));
    appendLines(log, 1, 10);
    const agent = startAgent(['--config-dir', confDir, '-w']);
    await waitFor('first lines in A', () => messagesIn(a).length >= 10, agent);
    await waitFor('watching logged', () => /watching config files for changes/.test(agent.stderr()), agent);
    write(b);
    renameSync(config, join(confDir, 'sluice.toml'));
    await waitFor('reload logged', () => /config reloaded: rebuilt/.test(agent.stderr()), agent);
    appendLines(log, 11, 20);
    await waitFor('later lines in B', () => messagesIn(a).length + messagesIn(b).length >= 20, agent);
    await stopWithSigint(agent);
    assert.deepEqual(sortedByNumber([...messagesIn(a), ...messagesIn(b)]), expected(20));
  });

  it('SIGHUP adding a transform in front of a disk-buffered sink: swapped in place, each line exactly once', async () => {
    const { base, log, config, writeRaw } = setup('transform');
    const a = join(base, 'a.ndjson');
    const source = `[sources.app]\ntype = "file"\ninclude = ["${join(base, 'logs')}/*.log"]\n`;
    const sink = (input: string) =>
      `[sinks.out]\ntype = "file"\ninputs = ["${input}"]\npath = "${a}"\nbuffer.type = "disk"\nbuffer.max_size = 1048576\n`;
    writeRaw(source + sink('app'));
    appendLines(log, 1, 50);
    const agent = startAgent(['--config', config]);
    await waitFor('first lines', () => messagesIn(a).length >= 50, agent);
    appendLines(log, 51, 100);
    writeRaw(source + `[transforms.keep]\ntype = "filter"\ninputs = ["app"]\ncondition = 'message.contains("line")'\n` + sink('keep'));
    agent.child.kill('SIGHUP');
    await waitFor('reload logged', () => /config reloaded: rebuilt 2 component\(s\) in place \(changed: out; added: keep/.test(agent.stderr()), agent);
    appendLines(log, 101, 150);
    await waitFor('every line', () => messagesIn(a).length >= 150, agent);
    assert.doesNotMatch(agent.stderr(), /shutting down/, 'the source was not stopped');
    await stopWithSigint(agent);
    assert.deepEqual(sortedByNumber(messagesIn(a)), expected(150), 'each line exactly once');
  });

  it('SIGHUP with a changed source: it and its downstream drain and restart, resuming from the checkpoints; an unrelated pipeline keeps running; each line exactly once', async () => {
    const { base, log, config, writeRaw } = setup('source');
    const a = join(base, 'a.ndjson');
    const sideOut = join(base, 'side.ndjson');
    const other = join(base, 'other');
    const sideDir = join(base, 'side');
    mkdirSync(other);
    mkdirSync(sideDir);
    writeFileSync(join(other, 'more.log'), 'other 1\n');
    const sideLog = join(sideDir, 'side.log');
    writeFileSync(sideLog, '');
    const body = (include: string[]) =>
      `[sources.app]\ntype = "file"\ninclude = ${JSON.stringify(include)}\n[sinks.out]\ntype = "file"\ninputs = ["app"]\npath = "${a}"\n` +
      `[sources.side]\ntype = "file"\ninclude = ["${sideDir}/*.log"]\n[sinks.side_out]\ntype = "file"\ninputs = ["side"]\npath = "${sideOut}"\n`;
    writeRaw(body([`${join(base, 'logs')}/*.log`]));
    appendLines(log, 1, 50);
    appendLines(sideLog, 1, 20);
    const agent = startAgent(['--config', config]);
    await waitFor('first lines', () => messagesIn(a).length >= 50 && messagesIn(sideOut).length >= 20, agent);
    appendLines(log, 51, 100);
    writeRaw(body([`${join(base, 'logs')}/*.log`, `${other}/*.log`]));
    agent.child.kill('SIGHUP');
    await waitFor('reload logged', () => /config reloaded: rebuilt 2 component\(s\) in place \(changed: app; added: none; removed: none\); kept running: side, side_out/.test(agent.stderr()), agent);
    appendLines(log, 101, 150);
    appendLines(sideLog, 21, 40);
    await waitFor('every line', () => messagesIn(a).length >= 151 && messagesIn(sideOut).length >= 40, agent);
    await stopWithSigint(agent);
    const messages = messagesIn(a);
    assert.deepEqual(sortedByNumber(messages.filter((m) => m.startsWith('line'))), expected(150), 'each line exactly once');
    assert.deepEqual(messages.filter((m) => m.startsWith('other')), ['other 1'], 'the newly included file is read');
    assert.deepEqual(sortedByNumber(messagesIn(sideOut)), expected(40), 'the unrelated pipeline: each line exactly once');
  });
});
