import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';

// `sluice validate` as a process: every broken config exits 78 naming file and key (and line and
// column for syntax errors), as the agent would fail on start.

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

function write(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

function validate(...args: string[]) {
  return spawnSync(process.execPath, [CLI, 'validate', ...args], { encoding: 'utf8' });
}

const SOURCE = '[sources.in]\ntype = "demo_logs"\n';

function invalid(file: string, problems: string[], ...args: string[]): void {
  const result = validate('--config', file, ...args);
  assert.equal(result.status, 78, result.stderr);
  const header = `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):`;
  assert.equal(result.stderr, [header, ...problems.map((p) => `  ${p}`)].join('\n') + '\n');
}

describe('sluice validate catches what the run would hit', () => {
  it('a uri / endpoint that is not an http(s) URL', () => {
    const file = write('url.toml', `${SOURCE}[sinks.h]\ntype = "http"\ninputs = ["in"]\nuri = "localhost:8080/ingest"\n[sinks.l]\ntype = "loki"\ninputs = ["in"]\nendpoint = "loki:3100"\nlabels.app = "x"\n`);
    const got = 'expected an http:// or https:// URL (like "https://host:port"), got';
    invalid(file, [`${file}: sinks.h.uri: ${got} "localhost:8080/ingest"`, `${file}: sinks.l.endpoint: ${got} "loki:3100"`]);
  });

  it('a tls.ca_file that does not exist, and --no-environment accepting the same config', () => {
    const missing = join(dir.path, 'no-such', 'ca.pem');
    const file = write('ca.toml', `${SOURCE}[sinks.h]\ntype = "http"\ninputs = ["in"]\nuri = "https://logs.example/ingest"\ntls.ca_file = "${missing}"\n`);
    invalid(file, [`${file}: sinks.h.tls.ca_file: "${missing}" does not exist (a check of this machine: validate --no-environment skips it)`]);
    const offNode = validate('--config', file, '--no-environment');
    assert.equal(offNode.status, 0, offNode.stderr);
    assert.match(offNode.stdout, /^valid: 1 file\(s\), 1 source\(s\), 0 transform\(s\), 1 sink\(s\)$/m);
  });

  it('a template with an unclosed "{{"', () => {
    const file = write('tmpl.toml', `${SOURCE}[sinks.f]\ntype = "file"\ninputs = ["in"]\npath = "/tmp/out/{{ kubernetes.pod_namespace.ndjson"\n`);
    invalid(file, [
      `${file}: sinks.f.path: invalid template: unclosed "{{" at character 10 of "/tmp/out/{{ kubernetes.pod_namespace.ndjson" (a field reference is "{{ field.path }}")`,
    ]);
  });

  it('an option of the wrong type says what it expected and got', () => {
    const file = write('type.toml', `${SOURCE}[sinks.f]\ntype = "file"\ninputs = ["in"]\npath = "/tmp/out.ndjson"\nidle_timeout_secs = "30"\n`);
    invalid(file, [`${file}: sinks.f.idle_timeout_secs: expected number, got string`]);
  });

  it('a misspelt option gets "did you mean"', () => {
    const file = write('typo.toml', '[sources.k]\ntype = "kubernetes_logs"\nlog_directroy = "/var/log/pods"\n[sinks.out]\ntype = "blackhole"\ninputs = ["k"]\n');
    invalid(file, [`${file}: sources.k.log_directroy: unknown option (did you mean "log_directory"?)`]);
  });

  it('a TOML syntax error names line and column and shows the line', () => {
    const file = write('syntax.toml', `${SOURCE}[sinks.out]\ntype = "console"\ninputs = ["in"]\nencoding.codec = json\n`);
    invalid(file, [`${file}:6:18: syntax error: invalid value\n    6 | encoding.codec = json\n      |                  ^`]);
  });

  it('a YAML syntax error names line and column and shows the line', () => {
    const file = write('syntax.yaml', 'sources:\n  in:\n    type: demo_logs\n   bad: x\nsinks: {}\n');
    invalid(file, [`${file}:4:1: syntax error: All mapping items must start at the same column\n    4 |    bad: x\n      | ^`]);
  });

  it('--healthchecks runs each sink healthcheck and exits 1 naming the sink that fails', async () => {
    const server = createServer((req, res) => res.writeHead(req.url === '/down' ? 503 : 200).end('busy'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const run = (file: string) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          // Asynchronous: the server answering the healthchecks lives in this process.
          const child = spawn(process.execPath, [CLI, 'validate', '--healthchecks', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk) => (stdout += chunk));
          child.stderr.on('data', (chunk) => (stderr += chunk));
          child.on('close', (status) => resolve({ status, stdout, stderr }));
        });
      const healthy = write('hc-ok.toml', `${SOURCE}[sinks.up]\ntype = "http"\ninputs = ["in"]\nuri = "${base}/ingest"\n`);
      const ok = await run(healthy);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /^healthcheck passed: sinks\.up$/m);
      const failing = write('hc-down.toml', `${SOURCE}[sinks.up]\ntype = "http"\ninputs = ["in"]\nuri = "${base}/ingest"\n[sinks.down]\ntype = "http"\ninputs = ["in"]\nuri = "${base}/down"\n`);
      const down = await run(failing);
      assert.equal(down.status, 1, down.stderr);
      assert.equal(down.stderr, `healthcheck failed (1 sink):\n  ${failing}: sinks.down: healthcheck HEAD ${base}/down answered HTTP 503\n`);
      // Without the flag no request is made: the same config is valid.
      assert.equal(validate('--config', failing).status, 0);
    } finally {
      server.close();
    }
  });

  it('Vector\'s acknowledgements.enabled: true is valid, false exits 78 saying sluice always acknowledges', () => {
    const on = write('acks-on.yaml', 'acknowledgements:\n  enabled: true\nsources:\n  in:\n    type: demo_logs\nsinks:\n  out:\n    type: console\n    inputs: [in]\n    acknowledgements:\n      enabled: true\n');
    const ok = validate('--config', on, '--no-environment');
    assert.equal(ok.status, 0, ok.stderr);
    const off = write('acks-off.toml', `${SOURCE}[sinks.out]\ntype = "console"\ninputs = ["in"]\nacknowledgements.enabled = false\n`);
    invalid(off, [`${off}: sinks.out.acknowledgements.enabled: sluice always acknowledges end to end; remove acknowledgements.enabled = false`]);
  });
});
