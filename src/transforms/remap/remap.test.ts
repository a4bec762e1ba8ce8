import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import '../../components.js';
import type { Transform, TransformDefinition } from '../../core/component.js';
import { LogEvent, type Fields } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { ConfigError } from '../../core/config/errors.js';
import { loadConfig } from '../../core/config/load.js';
import { MetricsRegistry } from '../../core/metrics.js';
import { findDefinition } from '../../core/registry.js';
import { planTopology } from '../../core/topology/plan.js';
import { collector, sourceOutcomes, startTopology, waitUntil } from '../../../test/harness.js';
import { compileProgram } from './program.js';
import { composePrograms } from './schema.js';

const definition = findDefinition('transform', 'remap') as TransformDefinition;

function build(options: Record<string, unknown>, id = 'remap_it'): Transform {
  const parsed = definition.schema.parse(options);
  return definition.build(parsed, {
    id,
    logger: pino({ level: 'silent' }),
    metrics: new MetricsRegistry().forComponent('transform', id, 'remap'),
    dataDir: tmpdir(),
  });
}

/** Run one batch; returns what went to each output and how each event's finalizer ended. */
function run(transform: Transform, inputs: Fields[]) {
  const outputs = new Map<string, Fields[]>();
  const acked: string[] = [];
  const events = inputs.map((fields, i) => new LogEvent(fields, new Finalizer(1, () => acked.push(String(i)))));
  transform.process(events, (output, out) => {
    const key = output ?? 'default';
    outputs.set(key, [...(outputs.get(key) ?? []), ...out.map((e) => e.fields)]);
  });
  return { outputs, acked, events };
}

function writeConfig(text: string, name = 'sluice.toml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'remap-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('remap transform', () => {
  it('parses JSON app logs, drops noisy fields and adds cluster', () => {
    const t = build({
      source: `
        . = merge(., object(parse_json(.message) ?? {}) ?? {})
        del(.stream)
        .cluster = "prod-eu"
      `,
    });
    const { outputs, acked } = run(t, [{ message: '{"level":"info","msg":"ok"}', stream: 'stdout' }, { message: 'plain text', stream: 'stderr' }]);
    assert.deepEqual(outputs.get('default'), [
      { message: '{"level":"info","msg":"ok"}', level: 'info', msg: 'ok', cluster: 'prod-eu' },
      { message: 'plain text', cluster: 'prod-eu' },
    ]);
    assert.deepEqual(acked, [], 'passed-on events are acked by their sinks, not here');
  });

  it('runs the README example: JSON app logs lifted, noisy fields dropped, cluster added', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Remap (VRL)'));
    const toml = section.slice(section.indexOf('```toml\n') + 8, section.indexOf('```', section.indexOf('```toml\n') + 8));
    const file = writeConfig(`[sources.k8s]\ntype = "stdin"\n${toml}\n[sinks.out]\ntype = "blackhole"\ninputs = ["app_logs"]\n`);
    const component = loadConfig({ files: [file] }).components.find((c) => c.id === 'app_logs')!;
    const t = definition.build(component.options as never, {
      id: 'app_logs',
      logger: pino({ level: 'silent' }),
      metrics: new MetricsRegistry().forComponent('transform', 'app_logs', 'remap'),
      dataDir: tmpdir(),
    });
    const kubernetes = Object.freeze({ pod_name: 'web-1', pod_uid: 'u-1', pod_annotations: Object.freeze({ a: 'b' }) });
    const { outputs } = run(t, [
      { message: '{"level":"warn","user":"ann"}', stream: 'stdout', kubernetes },
      { message: 'GET / 200', stream: 'stderr', kubernetes },
    ]);
    assert.deepEqual(outputs.get('default'), [
      { message: '{"level":"warn","user":"ann"}', level: 'warn', user: 'ann', kubernetes: { pod_name: 'web-1' }, cluster: 'prod-eu-1' },
      { message: 'GET / 200', kubernetes: { pod_name: 'web-1' }, cluster: 'prod-eu-1' },
    ]);
  });

  it('hands the next component an event without a deleted field: `.` whole, exists and length see it gone', () => {
    const first = run(build({ source: 'del(.stream)\n.n = 1' }), [{ message: 'm', stream: 'stdout', z: 2 }]).outputs.get('default')!;
    assert.equal(Object.hasOwn(first[0]!, 'stream'), false);
    const second = run(build({ source: '.k = keys(.)\n.has = exists(.stream)\n.len = length(.)' }), first).outputs.get('default')!;
    assert.deepEqual(second, [{ message: 'm', z: 2, n: 1, k: ['message', 'n', 'z'], has: false, len: 5 }]);
  });

  it('drops aborted events and acknowledges them (drop_on_abort defaults to true)', () => {
    const t = build({ source: 'if .level == "debug" { abort }\n.kept = true' });
    const { outputs, acked } = run(t, [{ level: 'debug' }, { level: 'info' }]);
    assert.deepEqual(outputs.get('default'), [{ level: 'info', kept: true }]);
    assert.deepEqual(acked, ['0']);
  });

  it('passes an event that fails unchanged by default, drops it with drop_on_error', () => {
    const source = '.a = "changed"\n.n = to_int!(.value)';
    const passed = run(build({ source }), [{ value: 'x', a: 'orig' }]);
    assert.deepEqual(passed.outputs.get('default'), [{ value: 'x', a: 'orig' }]);
    const nested = run(build({ source: '.k.list[0] = 9\ndel(.k.gone)\n.n = to_int!(.value)' }), [{ value: 'x', k: { list: [1], gone: true } }]);
    assert.deepEqual(nested.outputs.get('default'), [{ value: 'x', k: { list: [1], gone: true } }], 'nested changes are undone too');
    assert.equal(Object.isFrozen(nested.outputs.get('default')![0]), false, 'the event root handed on stays writable');
    const dropped = run(build({ source, drop_on_error: true }), [{ value: 'x', a: 'orig' }, { value: '7' }]);
    assert.deepEqual(dropped.outputs.get('default'), [{ value: 7, a: 'changed', n: 7 }].map(({ a, n }) => ({ value: '7', a, n })));
    assert.deepEqual(dropped.acked, ['0']);
  });

  it('gives a failed event back exactly as it came, whatever the run changed in place before failing', () => {
    // In-place writes (`.k = v`, `. = merge(., x)`) are undone from the log; a nested write or a
    // del after them freezes the root and copies; a read of `.` shares it. Keys keep their order.
    const programs = [
      '.a = "changed"\n.added = 1\n. = merge(., {"b": 2, "c": 3})\n.n = to_int!(.value)',
      '.a = "changed"\n. |= {"b": 2}\n.k.list[0] = 9\n.after = true\n.n = to_int!(.value)',
      '.a = "changed"\ndel(.b)\n.a = "again"\n.n = to_int!(.value)',
      '.a = "changed"\ndel(.b)\n.k.list[0] = 9\n.n = to_int!(.value)',
      'x = del(.k)\nx.list[0] = 9\nx.gone = false\n.k2 = x\n.n = to_int!(.value)',
      '.k.gone = del(.b)\ndel(.a)\n.n = to_int!(.value)',
      '.a = "changed"\ncopy = .\n.a = "again"\n.k = copy\n.n = to_int!(.value)',
      'v = .value\n.added = 1\n. = {"other": true}\n.more = 2\n.n = to_int!(v)',
      '.a = "changed"\nif .value == "x" { abort }',
      // Failing before any write: no original kept; a read of `.` froze the root, which is copied.
      'copy = .\nn = to_int!(.value)\n.a = "changed"',
      'x = .k\nn = to_int!(.value)\n.k.gone = n',
    ];
    for (const source of programs) {
      for (const options of [{ source }, { source, drop_on_abort: false }]) {
        const k = { list: [1], gone: true };
        const fields = { value: 'x', a: 'orig', b: 1, k };
        const { outputs } = run(build(options), [fields]);
        const out = outputs.get('default');
        if (source.endsWith('{ abort }') && options.drop_on_abort === undefined) {
          assert.equal(out, undefined, `${source}: aborted, dropped`);
          continue;
        }
        assert.deepEqual(out, [{ value: 'x', a: 'orig', b: 1, k: { list: [1], gone: true } }], source);
        assert.deepEqual(Object.keys(out![0]!), ['value', 'a', 'b', 'k'], `${source}: key order`);
        assert.deepEqual(k, { list: [1], gone: true }, `${source}: the nested object the event held is untouched`);
        assert.equal(Object.isFrozen(out![0]), false, `${source}: the event root handed on stays writable`);
      }
    }
  });

  it('keeps the original only for a failure that can come after a write to the event', () => {
    const flags = (source: string) => {
      const p = compileProgram(source);
      return [p.errorsAfterWrite, p.abortsAfterWrite];
    };
    assert.deepEqual(flags('x = to_int!(.value)\n.a = x'), [false, false]);
    assert.deepEqual(flags('.a = 1\nx = to_int!(.value)'), [true, false]);
    // The typed read of `.message` is checked where the program starts, before it writes.
    assert.deepEqual(flags('. = merge(., object(parse_json(.message) ?? {}) ?? {})\n.b = 1'), [false, false]);
    assert.deepEqual(flags('.b = 1\n.c = .message'), [true, false]);
    assert.deepEqual(flags('.a = 1\nif .a == 1 { abort }'), [false, true]);
    assert.deepEqual(flags('if .value == 1 { abort }\n.a = 1'), [false, false]);
    assert.deepEqual(flags('.list = map_values([1, 2]) -> |v| { to_int!(v) }'), [true, false], 'a closure repeats: its failure may follow its write');
    assert.deepEqual(flags('if .x == 1 { .a = 1 } else { y = to_int!(.value) }'), [true, false], 'in program order, as the checker reads it');
    // Several files: a later one fails after what an earlier one wrote.
    const composed = composePrograms([compileProgram('.a = 1'), compileProgram('x = to_int!(.value)')]);
    assert.equal(composed.errorsAfterWrite, true);
  });

  it('changes events in place when a failure cannot pass them on (abort with drop_on_abort, the default)', () => {
    const t = build({ source: '.level = downcase(string(.level) ?? "info")\nif .level == "debug" { abort }\n.kept = true' });
    const fields = { level: 'INFO' };
    const { outputs } = run(t, [fields, { level: 'DEBUG' }]);
    assert.deepEqual(outputs.get('default'), [{ level: 'info', kept: true }]);
    assert.equal(outputs.get('default')![0], fields, 'no copy of the event');
    // A last statement `. = merge(., x)`: its value (the root) is not wanted, so the root is not shared and copied.
    const merged = { message: '{"a":1}' };
    const last = run(build({ source: '. = merge(., object(parse_json(.message) ?? {}) ?? {})' }), [merged]);
    assert.deepEqual(last.outputs.get('default'), [{ message: '{"a":1}', a: 1 }]);
    assert.equal(last.outputs.get('default')![0], merged, 'merged in place, not copied');
  });

  it('keeps aborted events with drop_on_abort = false, unchanged', () => {
    const { outputs, acked } = run(build({ source: '.x = 1\nabort', drop_on_abort: false }), [{ m: 1 }]);
    assert.deepEqual(outputs.get('default'), [{ m: 1 }]);
    assert.deepEqual(acked, []);
  });

  it('reroutes dropped events to <id>.dropped with metadata.dropped, without acking them', () => {
    const t = build({ source: '.x = 1\nif .bad == true { abort "bad event" }\n.y = to_int!(.n)', drop_on_error: true, reroute_dropped: true }, 'parse');
    const { outputs, acked } = run(t, [{ bad: true }, { bad: false, n: 'q' }, { bad: false, n: '3' }]);
    assert.deepEqual(outputs.get('default'), [{ bad: false, n: '3', x: 1, y: 3 }]);
    const dropped = outputs.get('dropped')!;
    assert.equal(dropped.length, 2);
    assert.deepEqual(dropped[0], { bad: true, metadata: { dropped: { reason: 'abort', message: 'bad event', component_id: 'parse', component_type: 'remap', component_kind: 'transform' } } });
    const second = dropped[1]!.metadata as { dropped: { reason: string; message: string } };
    assert.equal(second.dropped.reason, 'error');
    assert.match(second.dropped.message, /function call error for "to_int" at \(\d+:\d+\): invalid integer "q"/);
    assert.deepEqual(acked, []);
    assert.deepEqual(definition.outputs!(definition.schema.parse({ source: '.', reroute_dropped: true })), ['dropped']);
  });

  it('emits one event per element when the root becomes an array, sharing the acknowledgement', () => {
    const t = build({ source: '. = [{"n": 1}, {"n": 2}, "text"]' });
    const { outputs, acked, events } = run(t, [{ message: 'x' }]);
    assert.deepEqual(outputs.get('default'), [{ n: 1 }, { n: 2 }, { message: 'text' }]);
    assert.equal(events[0]!.finalizer!.outstanding, 3);
    assert.deepEqual(acked, []);
    const none = run(build({ source: '. = []' }), [{ message: 'x' }]);
    assert.equal(none.outputs.size, 0);
    assert.deepEqual(none.acked, ['0']);
  });

  it('copies frozen shared metadata before changing it', () => {
    const shared = Object.freeze({ pod_name: 'web-1', labels: Object.freeze({ app: 'web' }) });
    const t = build({ source: '.kubernetes.labels.team = "a"\n.kubernetes.pod_name = upcase(string!(.kubernetes.pod_name))' });
    const { outputs } = run(t, [{ kubernetes: shared }, { kubernetes: shared }]);
    assert.deepEqual(shared, { pod_name: 'web-1', labels: { app: 'web' } });
    assert.deepEqual(outputs.get('default')![1], { kubernetes: { pod_name: 'WEB-1', labels: { app: 'web', team: 'a' } } });
  });

  it('rejects a config with both or neither of source and file', () => {
    assert.equal(definition.schema.safeParse({}).success, false);
    assert.equal(definition.schema.safeParse({ source: '.', file: 'x.vrl' }).success, false);
  });

  it('reads the program from file, or from files run in order', () => {
    const file = writeConfig('.from_file = true\n', 'prog.vrl');
    const { outputs } = run(build({ file }), [{}]);
    assert.deepEqual(outputs.get('default'), [{ from_file: true }]);
    const split = writeConfig('. = [{"n": 1}, {"n": 2}]\n', 'split.vrl');
    const tag = writeConfig('.tagged = true\n', 'tag.vrl');
    const both = run(build({ files: [split, tag] }), [{}]);
    assert.deepEqual(both.outputs.get('default'), [{ n: 1, tagged: true }, { n: 2, tagged: true }]);
    const bad = writeConfig('.x = to_int(.y)\n', 'bad.vrl');
    const result = definition.schema.safeParse({ files: [tag, bad] });
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /invalid VRL program .*bad\.vrl[\s\S]*┌─ .*bad\.vrl:1:6/);
    assert.equal(definition.schema.safeParse({ source: '.', timezone: 'Europe/Pariss' }).success, false, 'a time zone the tz database does not have');
  });

  it('reports a compile error as a config error naming file, component and position', () => {
    const file = writeConfig(`
[sources.in]
type = "stdin"
[transforms.parse_app]
type = "remap"
inputs = ["in"]
source = '''
.x = parse_json(.message)
'''
[sinks.out]
type = "blackhole"
inputs = ["parse_app"]
`);
    assert.throws(
      () => loadConfig({ files: [file] }),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        const text = error.problems.join('\n');
        assert.match(text, new RegExp(`${file.replaceAll('/', '\\/')}: transforms\\.parse_app\\.source: invalid VRL program`));
        assert.match(text, /error\[E103\]: unhandled fallible assignment/);
        assert.match(text, /┌─ :1:6/);
        assert.match(text, /\^{20}/);
        return true;
      },
    );
  });

  it('routes <id>.dropped in a topology when reroute_dropped is set', () => {
    const file = writeConfig(`
[sources.in]
type = "stdin"
[transforms.parse]
type = "remap"
inputs = ["in"]
source = "abort"
reroute_dropped = true
[sinks.out]
type = "blackhole"
inputs = ["parse", "parse.dropped"]
`);
    const plan = planTopology(loadConfig({ files: [file] }));
    assert.deepEqual(plan.components.get('out')!.inputs.map((e) => e.output), [undefined, 'dropped']);
  });

  it('sluice validate prints the VRL diagnostic and exits 78', () => {
    const file = writeConfig(`
[sources.in]
type = "stdin"
[transforms.bad]
type = "remap"
inputs = ["in"]
source = 'upcase(.level)'
[sinks.out]
type = "blackhole"
inputs = ["bad"]
`);
    const cli = join(import.meta.dirname, '..', '..', 'cli.js');
    const result = spawnSync(process.execPath, [cli, 'validate', '--config', file], { encoding: 'utf8' });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /transforms\.bad\.source: invalid VRL program/);
    assert.match(result.stderr, /error\[E110\]: invalid argument type/);
    assert.match(result.stderr, /1 │ upcase\(\.level\)/);
  });
});

describe('sluice vrl', () => {
  const cli = join(import.meta.dirname, '..', '..', 'cli.js');
  it('prints each result, or each event with --print-object, and reports failures', () => {
    const program = writeConfig('.level = upcase(string(.level) ?? "info")\n.n = to_int!(.n)\n.level', 'prog.vrl');
    const input = writeConfig('{"level":"warn","n":"1"}\n{"n":"2"}\n{"n":"x"}\n', 'events.jsonl');
    const values = spawnSync(process.execPath, [cli, 'vrl', '--program', program, '--input', input], { encoding: 'utf8' });
    const lines = values.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['"WARN"', '"INFO"']);
    assert.match(JSON.parse(lines[2]!).error, /function call error for "to_int"/, 'one line per input: the failure as {"error": ...}');
    assert.equal(lines.length, 3);
    assert.match(values.stderr, /input line 3: error: function call error for "to_int"/);
    assert.equal(values.status, 1);
    const objects = spawnSync(process.execPath, [cli, 'vrl', '--program', program, '--input', input, '--print-object'], { encoding: 'utf8' });
    assert.equal(objects.stdout.split('\n').slice(0, 2).join('\n'), '{"level":"WARN","n":1}\n{"level":"INFO","n":2}');
    // --timezone: the zone parse_timestamp reads times without an offset in; an unknown one exits 2.
    const tzProgram = writeConfig('format_timestamp!(parse_timestamp!(.t, format: "%F %T"), format: "%+")', 'tz.vrl');
    const tzInput = writeConfig('{"t":"2019-10-16 12:00:00"}\nnot json\n', 'tz.jsonl');
    const zoned = spawnSync(process.execPath, [cli, 'vrl', '--program', tzProgram, '--input', tzInput, '--timezone', 'Asia/Taipei'], { encoding: 'utf8' });
    const zonedLines = zoned.stdout.trimEnd().split('\n');
    assert.equal(zonedLines[0], '"2019-10-16T04:00:00+00:00"');
    assert.match(JSON.parse(zonedLines[1]!).error, /not JSON/);
    const unknown = spawnSync(process.execPath, [cli, 'vrl', '--program', tzProgram, '--input', tzInput, '--timezone', 'Mars/Olympus'], { encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown time zone "Mars\/Olympus"/);
  });

  it('exits 78 with the diagnostic when the program does not compile', () => {
    const program = writeConfig('.x = parse_json(.message)', 'bad.vrl');
    const result = spawnSync(process.execPath, [cli, 'vrl', '--program', program], { encoding: 'utf8' });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /error\[E103\]: unhandled fallible assignment\n {2}┌─ .*bad\.vrl:1:6/);
  });
});

describe('remap in a running topology', () => {
  it('acknowledges kept, dropped, split and rerouted events end to end', async () => {
    const kept = collector('remap-kept');
    const dropped = collector('remap-dropped');
    const running = await startTopology({
      sources: { src: { type: 'test_counter', count: 12, batch_size: 12 } },
      transforms: {
        vrl: {
          type: 'remap',
          inputs: ['src'],
          reroute_dropped: true,
          drop_on_error: true,
          source: [
            'n = int!(.seq)',
            'if mod(n, 4) == 0 { abort "multiple of four" }',
            'if n == 5 { .bad = to_int!("x") }',
            'if n == 7 { . = [{"part": 1}, {"part": 2}] } else { .doubled = n * 2 }',
          ].join('\n'),
        },
      },
      sinks: {
        kept: { type: 'test_collect', inputs: ['vrl'], name: 'remap-kept' },
        dropped: { type: 'test_collect', inputs: ['vrl.dropped'], name: 'remap-dropped' },
      },
    });
    await kept.waitFor(8);
    await dropped.waitFor(4);
    await waitUntil(() => sourceOutcomes.get('src')!.length === 1, 5000, 'the batch is acknowledged once every copy is done');
    assert.deepEqual(sourceOutcomes.get('src'), [{ rejected: 0 }]);
    assert.deepEqual(kept.events.filter((e) => e.fields.part !== undefined).map((e) => e.fields.part), [1, 2]);
    assert.deepEqual(kept.events.filter((e) => e.fields.doubled !== undefined).map((e) => e.fields.doubled), [2, 4, 6, 12, 18, 20, 22]);
    const reasons = dropped.events.map((e) => (e.fields.metadata as { dropped: { reason: string } }).dropped.reason);
    assert.deepEqual(reasons.sort(), ['abort', 'abort', 'abort', 'error']);
    await running.stop();
  });
});
