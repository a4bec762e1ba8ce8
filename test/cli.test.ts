import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';
import { waitForLog } from './agent-process.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

function write(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

function startAgent(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

describe('sluice CLI', () => {
  it('prints its version and help', () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const result = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.equal(result.stdout.trim(), version);
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    assert.match(help.stdout, /validate/);
    assert.match(help.stdout, /Exit codes/);
  });

  it('validate names the file and key of a typo and exits 78; a valid config exits 0', () => {
    const bad = write('custom.toml', '[sources.in]\ntype = "demo_logs"\n[sinks.out]\ntype = "console"\ninputs = ["in"]\nencoding.codecc = "json"\n');
    const result = spawnSync(process.execPath, [CLI, 'validate', '--config', bad], { encoding: 'utf8' });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /custom\.toml: sinks\.out\.encoding\.codecc: unknown option/);
    const good = write('good.yaml', 'sources: {in: {type: demo_logs}}\nsinks: {out: {type: blackhole, inputs: [in]}}\n');
    const ok = spawnSync(process.execPath, [CLI, 'validate', '--config', good], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /valid: 1 file\(s\), 1 source\(s\), 0 transform\(s\), 1 sink\(s\)/);
  });

  it('validate: environment values stay inside their string and cannot add a sink', () => {
    const validate = (config: string, OUT: string) =>
      spawnSync(process.execPath, [CLI, 'validate', '--config', config], { encoding: 'utf8', env: { ...process.env, OUT } });
    const flow = write('env-flow.yaml', 'sources: {in: {type: demo_logs}}\nsinks: {out: {type: file, inputs: [in], path: "${OUT}"}}\n');
    const ok = validate(flow, '/tmp/x"}, evil: {type: console, inputs: [in], target: "stdout');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /1 source\(s\), 0 transform\(s\), 1 sink\(s\)/);
    const toml = write('env-inject.toml', '[sources.in]\ntype = "demo_logs"\n[sinks.out]\ntype = "file"\ninputs = ["in"]\npath = "${OUT}"\n');
    const bad = validate(toml, '/tmp/x"\n[sinks.evil]\ntype = "console"\ninputs = ["in"]\ntarget = "stdout');
    assert.equal(bad.status, 78);
    assert.match(bad.stderr, /env-inject\.toml: sinks\.out\.path: environment variable OUT contains a line break/);
    assert.doesNotMatch(bad.stderr + bad.stdout, /evil/);
  });

  it('generates a JSON Schema of the configuration', () => {
    const result = spawnSync(process.execPath, [CLI, 'generate-schema'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    const schema = JSON.parse(result.stdout) as { properties: Record<string, { additionalProperties: { properties: { type: { enum: string[] } } } }> };
    const sinkTypes = schema.properties.sinks!.additionalProperties.properties.type.enum;
    assert.ok(sinkTypes.includes('file') && sinkTypes.includes('console'), sinkTypes.join());
  });

  it('runs demo_logs -> filter -> file, serves probes and metrics, and drains on SIGTERM with exit 0', async () => {
    const out = join(dir.path, 'out', 'demo.ndjson');
    const config = write(
      'demo.yaml',
      `data_dir: ${join(dir.path, 'data')}\napi: {enabled: true, address: "127.0.0.1:0"}\n` +
        `sources: {demo: {type: demo_logs, interval_secs: 0.01, batch_size: 5}}\n` +
        `transforms: {errors: {type: filter, inputs: [demo], condition: 'message.contains("error")'}}\n` +
        `sinks: {out: {type: file, inputs: [errors], path: "${out}"}}\n`,
    );
    const agent = startAgent(['--config', config, '--graceful-shutdown-limit-secs', '5']);
    const [, port] = await waitForLog(agent.stderr, /"address":"127\.0\.0\.1:(\d+)"/);
    await waitForLog(agent.stderr, /sluice started/);
    const get = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: response.status, body: await response.text() };
    };
    assert.equal((await get('/health')).status, 200);
    assert.equal((await get('/started')).status, 200);
    assert.equal((await get('/ready')).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const metrics = (await get('/metrics')).body;
    assert.match(metrics, /sluice_component_sent_events_total\{component_kind="sink",component_id="out",component_type="file"\} [1-9]/);
    assert.match(metrics, /sluice_component_discarded_events_total\{[^}]*component_id="errors"[^}]*reason="filtered"\} [1-9]/);
    assert.match(metrics, /^process_resident_memory_bytes \d/m);
    const started = Date.now();
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exit, 0, agent.stderr());
    assert.ok(Date.now() - started < 5000);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.ok(lines.length > 0);
    for (const line of lines) {
      const event = JSON.parse(line) as { message: string; source_type: string };
      assert.match(event.message, /error/);
      assert.equal(event.source_type, 'demo_logs');
    }
  });

  it('exits 124 when draining exceeds the limit, and at once on a second signal', async () => {
    const config = write(
      'stuck.yaml',
      `data_dir: ${join(dir.path, 'data2')}\nsources: {demo: {type: demo_logs, interval_secs: 0, batch_size: 500}}\nsinks: {out: {type: console, inputs: [demo]}}\n`,
    );
    // Nobody reads stdout: the console sink blocks once the pipe is full, so draining cannot finish.
    const slow = startAgent(['--config', config, '--graceful-shutdown-limit-secs', '1']);
    await waitForLog(slow.stderr, /sluice started/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    slow.child.kill('SIGTERM');
    assert.equal(await slow.exit, 124);
    assert.match(slow.stderr(), /graceful shutdown limit reached/);

    const twice = startAgent(['--config', config, '--graceful-shutdown-limit-secs', '30']);
    await waitForLog(twice.stderr, /sluice started/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    twice.child.kill('SIGTERM');
    await waitForLog(twice.stderr, /signal received: draining/);
    twice.child.kill('SIGTERM');
    assert.equal(await twice.exit, 143);
  });

  it('exits 78 and lists problems when started with an invalid config', () => {
    const bad = write('bad.yaml', 'sources: {in: {type: demo_logs, format: xml}}\nsinks: {out: {type: blackhole, inputs: [nope]}}\n');
    const result = spawnSync(process.execPath, [CLI, '--config', bad], { encoding: 'utf8' });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /bad\.yaml: sources\.in\.format: expected one of json, syslog, apache_common, shuffle/);
  });
});
