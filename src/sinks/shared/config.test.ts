import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../core/config/load.js';
import { ConfigError } from '../../core/config/errors.js';
import '../../components.js';
import '../aws_s3/index.js';
import '../elasticsearch/index.js';
import '../http/index.js';
import '../loki/index.js';

// The sinks' schemas as the agent's config loader sees them: TOML in, typed options out,
// core-owned `buffer`/`healthcheck` beside them, mistakes reported by file and key.

const dir = mkdtempSync(join(tmpdir(), 'sluice-sink-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(toml: string) {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(file, toml);
  return { file, load: () => loadConfig({ files: [file] }, {}) };
}

const SOURCE = `
[sources.in]
type = "demo_logs"
`;

test('a config with every network sink, disk buffers and healthcheck settings loads', () => {
  const { load: run } = load(`${SOURCE}
[sinks.es]
type = "elasticsearch"
inputs = ["in"]
endpoints = ["https://es:9200"]
bulk.index = "logs-{{ kubernetes.pod_namespace }}-%Y.%m.%d"
auth = { strategy = "basic", user = "elastic", password = "pw" }
buffer = { type = "disk", max_size = 268435456 }
healthcheck.enabled = false

[sinks.loki]
type = "loki"
inputs = ["in"]
endpoint = "http://loki:3100"
labels = { namespace = "{{ kubernetes.pod_namespace }}" }
request = { concurrency = "adaptive" }

[sinks.archive]
type = "aws_s3"
inputs = ["in"]
bucket = "logs"
region = "eu-west-1"

[sinks.hook]
type = "http"
inputs = ["in"]
uri = "https://collector/ingest"
encoding.codec = "ndjson"
batch = { max_events = 10 }
`);
  const config = run();
  const sinks = Object.fromEntries(config.components.filter((c) => c.kind === 'sink').map((c) => [c.id, c]));
  assert.deepEqual(Object.keys(sinks).sort(), ['archive', 'es', 'hook', 'loki']);
  assert.equal(sinks.es!.buffer?.type, 'disk');
  const hook = sinks.hook!.options as { batch: { max_events: number; timeout_secs: number } };
  assert.deepEqual(hook.batch, { max_events: 10, max_bytes: 10_000_000, timeout_secs: 1 });
});

test('mistakes name the file and key; secret values never appear in the problems', () => {
  const { file, load: run } = load(`${SOURCE}
[sinks.es]
type = "elasticsearch"
inputs = ["in"]
endpoints = ["https://es:9200"]
bulk.indx = "typo"
auth = { strategy = "bearer", token = 42, password = "hunter2-secret" }

[sinks.disk]
type = "http"
inputs = ["in"]
uri = "http://x"
buffer = { type = "disk" }
`);
  let problems: readonly string[] = [];
  try {
    run();
    assert.fail('config should be refused');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    problems = error.problems;
  }
  const text = problems.join('\n');
  assert.ok(problems.every((p) => p.includes(file)), text);
  assert.match(text, /indx/);
  assert.match(text, /max_size is required/);
  assert.ok(!text.includes('hunter2-secret'), text);
});

test('a URL option that is not an http(s) URL and a malformed template are refused naming file and key', () => {
  const { file, load: run } = load(`${SOURCE}
[sinks.h]
type = "http"
inputs = ["in"]
uri = "localhost:8080/{{ kubernetes.pod_namespace }}"

[sinks.hok]
type = "http"
inputs = ["in"]
uri = "https://{{ host }}/logs/{{ kubernetes.pod_namespace }}"

[sinks.hcreds]
type = "http"
inputs = ["in"]
uri = "user:hunter2-secret@host"

[sinks.l]
type = "loki"
inputs = ["in"]
endpoint = "loki:3100"
labels = { ns = "{{ kubernetes.pod_namespace" }
tenant_id = "t-%Q"

[sinks.es]
type = "elasticsearch"
inputs = ["in"]
endpoints = ["ftp://es:9200"]
bulk.index = "logs-{{ }}"

[sinks.s3]
type = "aws_s3"
inputs = ["in"]
bucket = "b"
region = "eu-west-1"
key_prefix = "{{ kubernetes.pod_namespace }/"

[sinks.f]
type = "file"
inputs = ["in"]
path = "/out/{{ kubernetes.pod_namespace .ndjson"
`);
  let problems: readonly string[] = [];
  try {
    run();
    assert.fail('config should be refused');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    problems = error.problems;
  }
  const url = 'expected an http:// or https:// URL (like "https://host:port"), got';
  assert.deepEqual(problems, [
    `${file}: sinks.h.uri: ${url} "localhost:8080/{{ kubernetes.pod_namespace }}"`,
    `${file}: sinks.hcreds.uri: ${url} "***@host"`,
    `${file}: sinks.l.endpoint: ${url} "loki:3100"`,
    `${file}: sinks.l.labels.ns: invalid template: unclosed "{{" at character 1 of "{{ kubernetes.pod_namespace" (a field reference is "{{ field.path }}")`,
    `${file}: sinks.l.tenant_id: invalid template: unsupported strftime directive %Q in "t-%Q"`,
    `${file}: sinks.es.endpoints.0: ${url} "ftp://es:9200"`,
    `${file}: sinks.es.bulk.index: invalid template: "{{ }}" in "logs-{{ }}" is not a field reference (expected "{{ field.path }}")`,
    `${file}: sinks.s3.key_prefix: invalid template: unclosed "{{" at character 1 of "{{ kubernetes.pod_namespace }/" (a field reference is "{{ field.path }}")`,
    `${file}: sinks.f.path: invalid template: unclosed "{{" at character 6 of "/out/{{ kubernetes.pod_namespace .ndjson" (a field reference is "{{ field.path }}")`,
  ]);
});
