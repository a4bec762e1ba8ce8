// VRL's documented examples (function reference and language reference), re-expressed as our own
// cases, run three ways: compiled directly, through the remap transform, and through `sluice vrl`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import '../../components.js';
import type { TransformDefinition } from '../../core/component.js';
import { LogEvent } from '../../core/event.js';
import { MetricsRegistry } from '../../core/metrics.js';
import { findDefinition } from '../../core/registry.js';
import { compileProgram } from './program.js';
import { jsonText } from './value.js';

/** [program, the result as JSON text]. */
const EXAMPLES: [string, string][] = [
  ['camelcase("input-string")', '"inputString"'],
  ['pascalcase("input-string")', '"InputString"'],
  ['snakecase("input-string")', '"input_string"'],
  ['kebabcase("InputString")', '"input-string"'],
  ['screamingsnakecase("input-string")', '"INPUT_STRING"'],
  ['encode_base16("please encode me")', '"706c6561736520656e636f6465206d65"'],
  ['decode_base16!("736f6d6520737472696e672076616c7565")', '"some string value"'],
  ['ip_aton!("1.2.3.4")', '16909060'],
  ['ip_ntoa!(16909060)', '"1.2.3.4"'],
  ['ip_subnet!("192.168.10.32", "255.255.255.0")', '"192.168.10.0"'],
  ['ip_subnet!("2404:6800:4003:c02::64", "/32")', '"2404:6800::"'],
  ['ip_to_ipv6!("192.168.0.1")', '"::ffff:192.168.0.1"'],
  ['ipv6_to_ipv4!("::ffff:192.168.0.1")', '"192.168.0.1"'],
  ['to_syslog_facility!(4)', '"auth"'],
  ['to_syslog_severity!("alert")', '1'],
  ['basename("/home/user/file.txt")', '"file.txt"'],
  ['dirname("/home/user/file.txt")', '"/home/user"'],
  ['chunks!("abcdefgh", 4)', '["abcd","efgh"]'],
  ['zip([1, 2, 3], [4, 5, 6])', '[[1,4],[2,5],[3,6]]'],
  ['tally!(["foo", "bar", "foo", "baz"])', '{"bar":1,"baz":1,"foo":2}'],
  ['tally_value(["foo", "bar", "foo", "baz"], "foo")', '2'],
  ["replace_with(\"Apples and Bananas\", r'\\b(\\w)(\\w*)') -> |match| { upcase!(match.captures[0]) + string!(match.captures[1]) }", '"Apples And Bananas"'],
  ["replace_with(\"hello world\", r'\\w+', count: 1) -> |m| { upcase!(m.string) }", '"HELLO world"'],
  // Iteration (for_each, map_keys, map_values, filter): the reference examples.
  ['tally = {}\nfor_each(["foo", "bar", "foo", "baz"]) -> |_index, value| { count = int(get!(tally, [value])) ?? 0\n tally = set!(tally, [value], count + 1) }\ntally', '{"bar":1,"baz":1,"foo":2}'],
  ['map_keys({"a": 1, "b": 2}) -> |key| { upcase(key) }', '{"A":1,"B":2}'],
  ['map_values({"a": 1, "b": 2}) -> |value| { int!(value) * 10 }', '{"a":10,"b":20}'],
  ['filter([1, 2, 3, 4]) -> |_index, value| { int!(value) > 2 }', '[3,4]'],
  ['filter({"a": 1, "b": 2}) -> |key, _value| { key == "a" }', '{"a":1}'],
  // Language: templates, metadata, i64, nanoseconds.
  ['thing = "balloon"\n"4 red {{ thing }}s"', '"4 red balloons"'],
  ['%kubernetes.pod = "web-0"\n%kubernetes', '{"pod":"web-0"}'],
  ['9223372036854775807', '9223372036854775807'],
  ['9007199254740993 - 1', '9007199254740992'],
  ["to_unix_timestamp(t'2021-02-11T10:32:50.553955473Z', unit: \"nanoseconds\")", '1613039570553955473'],
  ["t'2021-02-11T10:32:50.553955473Z'", '"2021-02-11T10:32:50.553955473Z"'],
  ["format_timestamp!(t'2020-10-21T16:00:00Z', format: \"%v %R\")", '"21-Oct-2020 16:00"'],
  ['parse_int!("0x2a")', '42'],
  ['format_int!(42, 16)', '"2a"'],
];

describe('VRL documented examples', () => {
  it('give the documented results when compiled directly', () => {
    for (const [program, expected] of EXAMPLES) {
      const outcome = compileProgram(program, '', { exactIntegers: true }).run({});
      assert.equal(outcome.kind, 'ok', `${program}: ${(outcome as { message?: string }).message}`);
      assert.equal(jsonText((outcome as { value: unknown }).value), expected, program);
    }
  });

  it('give the same results through the remap transform (as .result)', () => {
    const definition = findDefinition('transform', 'remap') as TransformDefinition;
    for (const [program, expected] of EXAMPLES) {
      const source = `.result = {\n${program}\n}`;
      const transform = definition.build(definition.schema.parse({ source }), { id: 'ex', logger: pino({ level: 'silent' }), metrics: new MetricsRegistry().forComponent('transform', 'ex', 'remap'), dataDir: tmpdir() });
      const out: LogEvent[] = [];
      transform.process([new LogEvent({ message: 'x' })], (_o, events) => out.push(...events));
      // Events carry JS numbers (an i64 beyond 2^53 as the nearest double, as JSON.parse reads it).
      assert.deepEqual(JSON.parse(JSON.stringify(out[0]!.fields.result)), JSON.parse(expected), program);
    }
  });

  it('give the same results through sluice vrl (one line per example)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vrl-examples-'));
    const program = EXAMPLES.map(([p], i) => `${i === 0 ? '' : ' else '}if .i == ${i} {\n${p}\n}`).join('');
    writeFileSync(join(dir, 'examples.vrl'), program);
    writeFileSync(join(dir, 'events.jsonl'), EXAMPLES.map((_, i) => JSON.stringify({ i })).join('\n'));
    const cli = join(import.meta.dirname, '..', '..', 'cli.js');
    const result = spawnSync(process.execPath, [cli, 'vrl', '--program', join(dir, 'examples.vrl'), '--input', join(dir, 'events.jsonl')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), EXAMPLES.map(([, expected]) => expected));
  });
});
