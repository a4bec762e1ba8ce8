import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import type { LogEvent } from '../../core/event.js';
import { PartialMergeDecoder } from './partial-merge.js';
import type { PodLogPath } from './pod-log-path.js';
import { DecodeStats, type LineDecoder } from '../../tailer/line-decoder.js';
import { testContext } from '../../../test/source-driver.js';
import { kubernetesLogsSchema } from './config.js';
import { PodShaping } from './shaping.js';

const pod: PodLogPath = { podNamespace: 'shop', podName: 'web', podUid: 'u1', containerName: 'app', restartCount: 0, rotation: 'current', rotatedAt: undefined };
const metadata = { kubernetes: Object.freeze({ pod_name: 'web' }), otherFields: undefined };

/** A source's shaping with the pod's annotations in `annotations` (changed by the test, then `refresh`). */
function setup(options: Record<string, unknown> = {}, annotations: Record<string, string> = {}) {
  const config = kubernetesLogsSchema.parse({ ...options });
  const { ctx, metrics } = testContext('/tmp/unused');
  const state = { annotations };
  const shaping = new PodShaping(config, { annotations: () => state.annotations }, ctx);
  const decoder = (path = '/p/0.log') => shaping.wrap(pod, new PartialMergeDecoder({ path }, metadata, { autoPartialMerge: true, maxMergedLineBytes: 1 << 20 }, new DecodeStats()));
  return { shaping, state, decoder, ctx, metrics };
}

/** Feeds CRI lines (offsets as a file would give them); returns the events. */
function feed(d: LineDecoder, lines: string[], out: LogEvent[] = [], startOffset = 0): { out: LogEvent[]; end: number } {
  let offset = startOffset;
  for (const line of lines) {
    const buf = Buffer.from(line);
    d.decode(buf, 0, buf.length, offset, out);
    offset += buf.length + 1;
  }
  return { out, end: offset };
}

const cri = (stream: string, tag: 'F' | 'P', message: string, n = 1) => `2026-01-01T00:00:0${n}.000000000Z ${stream} ${tag} ${message}`;

describe('per-pod shaping decoder', () => {
  it('java multiline through CRI partial lines: one event; the checkpoint offset stays at the first fragment until it is emitted', () => {
    const { decoder } = setup({}, { 'sluice.dev/multiline': 'java' });
    const d = decoder();
    const lines = [
      cri('stdout', 'F', 'request 1'),
      cri('stdout', 'P', 'java.lang.IllegalStateException: '),
      cri('stdout', 'F', 'boom'),
      cri('stdout', 'P', '\tat com.example.App'),
      cri('stdout', 'F', '.run(App.java:42)'),
    ];
    const { out, end } = feed(d, lines);
    const firstFragment = Buffer.byteLength(lines[0]!) + 1;
    assert.deepEqual(out.map((e) => e.fields.message), ['request 1']);
    assert.equal(d.pendingOffset(), firstFragment, 'the group started at the first fragment of its first line');
    feed(d, [cri('stdout', 'F', 'request 2')], out, end);
    assert.deepEqual(out.map((e) => e.fields.message), ['request 1', 'java.lang.IllegalStateException: boom\n\tat com.example.App.run(App.java:42)', 'request 2']);
    assert.equal(out[1]!.fields.timestamp, '2026-01-01T00:00:01.000000000Z');
    assert.equal(d.pendingOffset(), undefined);
  });

  it('json: fields merged; a line cannot overwrite what sluice sets (kept as log_<key>); a non-JSON line ships as it is, counted', () => {
    const { decoder, shaping, metrics } = setup({}, { 'sluice.dev/parser': 'json' });
    const d = decoder();
    const { out } = feed(d, [
      cri('stdout', 'F', '{"level":"info","msg":"hi","timestamp":"yesterday","kubernetes":{"pod_name":"forged"},"stream":"x"}'),
      cri('stdout', 'F', 'plain text'),
    ]);
    const f = out[0]!.fields;
    assert.equal(f.level, 'info');
    assert.equal(f.msg, 'hi');
    assert.equal(f.timestamp, '2026-01-01T00:00:01.000000000Z');
    assert.equal(f.log_timestamp, 'yesterday');
    assert.equal((f.kubernetes as { pod_name: string }).pod_name, 'web');
    assert.deepEqual(f.log_kubernetes, { pod_name: 'forged' });
    assert.equal(f.stream, 'stdout');
    assert.equal(out[1]!.fields.message, 'plain text');
    shaping.close(); // flushes the counts into metrics
    return metrics.registry.metrics().then((text) => assert.match(text, /sluice_component_errors_total\{[^}]*reason="pod_parser_failed"[^}]*\} 1/));
  });

  it('logfmt and klog use remap\'s parse_logfmt / parse_klog; per-container annotations win over the pod\'s', () => {
    const { decoder } = setup({}, { 'sluice.dev/parser': 'klog', 'sluice.dev/parser-app': 'logfmt' });
    const { out } = feed(decoder(), [cri('stdout', 'F', 'at=info code=200 path="/x y"')]);
    assert.equal(out[0]!.fields.at, 'info');
    assert.equal(out[0]!.fields.path, '/x y');
    const k = setup({ default_parser: 'klog' });
    const { out: klog } = feed(k.decoder(), [cri('stderr', 'F', 'I0505 17:59:40.692994   28133 klog.go:70] hello from klog')]);
    assert.equal(klog[0]!.fields.level, 'info');
    assert.equal(klog[0]!.fields.message, 'hello from klog');
    assert.equal(klog[0]!.fields.log_file, 'klog.go', 'file is sluice\'s (the log path): klog\'s goes to log_file');
    assert.equal(klog[0]!.fields.file, '/p/0.log');
  });

  it('a named VRL program from `parsers`; "none" turns the source default off for one pod; an unknown parser or bad pattern is counted and ignored', async () => {
    const named = setup({ parsers: { nginx: { source: '.parsed = true\n.cluster = "prod"' } } }, { 'sluice.dev/parser': 'nginx' });
    const { out } = feed(named.decoder(), [cri('stdout', 'F', 'GET /')]);
    assert.equal(out[0]!.fields.parsed, true);
    assert.equal(out[0]!.fields.cluster, 'prod');
    const off = setup({ default_parser: 'json' }, { 'sluice.dev/parser': 'none' });
    assert.equal(feed(off.decoder(), [cri('stdout', 'F', '{"a":1}')]).out[0]!.fields.a, undefined);
    const bad = setup({}, { 'sluice.dev/parser': 'yaml', 'sluice.dev/multiline': '(?<=x)' });
    assert.deepEqual(feed(bad.decoder(), [cri('stdout', 'F', '{"a":1}')]).out.map((e) => e.fields.message), ['{"a":1}']);
    bad.shaping.refresh('u1'); // the pod changed (status, labels) but not its choice: not reported again
    bad.shaping.refresh('u1');
    assert.match(await bad.metrics.registry.metrics(), /sluice_component_errors_total\{[^}]*reason="invalid_pod_annotation"[^}]*\} 2/);
  });

  it('an annotation change applies from the next line; turning multiline off emits the open group first', () => {
    const { decoder, shaping, state } = setup();
    const d = decoder();
    const { out, end } = feed(d, [cri('stdout', 'F', '{"a":1}')]);
    state.annotations = { 'sluice.dev/parser': 'json', 'sluice.dev/multiline': '^\\S' };
    shaping.refresh('u1');
    const next = feed(d, [cri('stdout', 'F', '{"a":2}'), cri('stdout', 'F', ' continued')], out, end);
    assert.equal(out[0]!.fields.a, undefined);
    assert.equal(out.length, 1, 'the second line waits for its group');
    state.annotations = {};
    shaping.refresh('u1');
    feed(d, [cri('stdout', 'F', '{"a":3}')], out, next.end);
    assert.deepEqual(out.map((e) => e.fields.message), ['{"a":1}', '{"a":2}\n continued', '{"a":3}']);
  });

  it('rotation: the next file adopts an open group (and a partial line) and completes it; the old file keeps nothing', () => {
    const { decoder } = setup({}, { 'sluice.dev/multiline': 'java' });
    const rotated = decoder('/p/0.log.20260101-000000');
    const out: LogEvent[] = [];
    feed(rotated, [cri('stdout', 'F', 'java.lang.RuntimeException: x'), cri('stdout', 'P', '\tat A.')], out);
    assert.equal(rotated.pendingOffset(), 0);
    const current = decoder('/p/0.log');
    assert.equal(current.adoptPending!(rotated, 0), true);
    assert.equal(rotated.pendingOffset(), undefined);
    assert.equal(current.pendingOffset(), 0);
    feed(current, [cri('stdout', 'F', 'a(A.java:1)'), cri('stdout', 'F', 'done')], out);
    rotated.flush(out);
    assert.deepEqual(out.map((e) => e.fields.message), ['java.lang.RuntimeException: x\n\tat A.a(A.java:1)', 'done']);
  });

  it('flushExpired emits a group quiet for timeout_ms, not before', async () => {
    const { decoder } = setup({ multiline: { timeout_ms: 50 } }, { 'sluice.dev/multiline': 'java' });
    const d = decoder();
    const { out } = feed(d, [cri('stdout', 'F', 'java.lang.RuntimeException: x')]);
    assert.equal(d.flushExpired!(out), false);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(d.flushExpired!(out), true);
    assert.deepEqual(out.map((e) => e.fields.message), ['java.lang.RuntimeException: x']);
    assert.equal(d.pendingOffset(), undefined);
  });

  it('the README\'s source example: its named parser runs for a pod annotated with it', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Multiline stack traces'));
    const example = [...section.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('type = "kubernetes_logs"'))!;
    const { sources } = parseToml(example) as { sources: { k8s: Record<string, unknown> } };
    const { type: _type, ...options } = sources.k8s;
    const { decoder } = setup(options, { 'sluice.dev/parser': 'nginx' });
    const line = '10.0.0.9 - - [01/Jan/2026:00:00:01 +0000] "GET /cart HTTP/1.1" 200 512 "-" "curl/8.0"';
    const { out } = feed(decoder(), [cri('stdout', 'F', line)]);
    assert.equal(out[0]!.fields.status, 200);
    assert.equal(out[0]!.fields.path, '/cart');
    assert.equal(out[0]!.fields.cluster, 'prod-eu-1');
  });

  it('config: an unknown default parser or a bad default pattern fails validation naming the key', () => {
    const problems = (options: Record<string, unknown>) => {
      const result = kubernetesLogsSchema.safeParse(options);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.match(problems({ default_parser: 'yaml' }).join('\n'), /^default_parser: unknown parser "yaml"/);
    assert.match(problems({ default_multiline: '(a' }).join('\n'), /^default_multiline: .*RE2/);
    assert.match(problems({ parsers: { p: { source: '.a = parse_json(.message)' } } }).join('\n'), /^parsers\.p\.source: invalid VRL program/);
    assert.deepEqual(problems({ default_parser: 'p', default_multiline: 'go', parsers: { p: { source: '.a = 1' } } }), []);
  });
});
