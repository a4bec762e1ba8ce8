import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/core/config/load.js';
import { tempDir } from './harness.js';

// `sluice test` as a process: [[tests]] fed to the transforms only, a line per test, exit 0/1/78.

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

function write(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

function sluice(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

// demo_logs is never started by `sluice test`: only the transforms are built.
const PIPELINE = `
[sources.in]
type = "demo_logs"
[transforms.parse]
type = "remap"
inputs = ["in"]
source = '. = parse_json!(.message)'
[transforms.errors]
type = "filter"
inputs = ["parse"]
condition = 'level == "error"'
`;

const ERROR_LINE = `
[[tests.inputs]]
insert_at = "parse"
type = "raw"
value = '{"level":"error","msg":"boom"}'
`;

describe('sluice test', () => {
  it('runs a passing suite through remap parse_json and a filter, with vrl and cel conditions', () => {
    const file = write('pass.toml', `${PIPELINE}
[[tests]]
name = "parses and keeps errors"
${ERROR_LINE}
[[tests.outputs]]
extract_from = "errors"
[[tests.outputs.conditions]]
type = "vrl"
source = '.level == "error" && .msg == "boom"'
[[tests.outputs.conditions]]
type = "cel"
source = 'msg == "boom"'
[[tests]]
name = "log_fields input"
[[tests.inputs]]
insert_at = "parse"
type = "log"
log_fields.message = '{"level":"error","n":3}'
[[tests.outputs]]
extract_from = "parse"
[[tests.outputs.conditions]]
type = "vrl"
source = 'assert_eq!(.n, 3)'
`);
    const result = sluice('test', '--config', file);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.equal(result.stdout, 'test parses and keeps errors ... passed\ntest log_fields input ... passed\n2 passed, 0 failed\n');
  });

  it('a reduce in the pipeline emits what it holds when the inputs end (as vector test)', () => {
    const file = write('reduce.toml', `
[sources.in]
type = "demo_logs"
[transforms.join]
type = "reduce"
inputs = ["in"]
starts_when = 'message.matches("^\\\\S")'
merge_strategies.message = "concat_newline"
[[tests]]
name = "joins a trace"
[[tests.inputs]]
insert_at = "join"
type = "raw"
value = "Traceback (most recent call last):"
[[tests.inputs]]
insert_at = "join"
type = "raw"
value = '  File "app.py", line 3, in <module>'
[[tests.inputs]]
insert_at = "join"
type = "raw"
value = "ValueError: bad"
[[tests.outputs]]
extract_from = "join"
[[tests.outputs.conditions]]
type = "vrl"
source = '.message == "Traceback (most recent call last):\\n  File \\"app.py\\", line 3, in <module>" || .message == "ValueError: bad"'
`);
    const result = sluice('test', '--config', file);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.equal(result.stdout, 'test joins a trace ... passed\n1 passed, 0 failed\n');
  });

  it('a failing condition exits 1 naming the test, the condition and the event', () => {
    const file = write('fail.toml', `${PIPELINE}
[[tests]]
name = "fine"
${ERROR_LINE}
[[tests.outputs]]
extract_from = "errors"
[[tests.outputs.conditions]]
type = "vrl"
source = '.msg == "boom"'
[[tests]]
name = "wrong message"
${ERROR_LINE}
[[tests.outputs]]
extract_from = "errors"
[[tests.outputs.conditions]]
type = "vrl"
source = '.msg == "bang"'
`);
    const result = sluice('test', '--config', file);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.equal(
      result.stdout,
      [
        'test fine ... passed',
        'test wrong message ... failed',
        '  extract_from "errors": condition 0 (vrl: .msg == "bang") failed for every event:',
        '    event: { "level": "error", "msg": "boom" }',
        '      returned false, not true',
        '1 passed, 1 failed',
        '',
      ].join('\n'),
    );
  });

  it('no_outputs_from passes when the filter drops the event and fails when it keeps one', () => {
    const file = write('none.toml', `${PIPELINE}
[[tests]]
name = "info is dropped"
no_outputs_from = ["errors"]
[[tests.inputs]]
insert_at = "parse"
type = "raw"
value = '{"level":"info"}'
[[tests]]
name = "error is not dropped"
no_outputs_from = ["errors"]
${ERROR_LINE}
[[tests]]
name = "an output that gets nothing"
[[tests.inputs]]
insert_at = "parse"
type = "raw"
value = '{"level":"info"}'
[[tests.outputs]]
extract_from = "errors"
[[tests.outputs.conditions]]
type = "cel"
source = 'true'
`);
    const result = sluice('test', '--config', file);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^test info is dropped \.\.\. passed$/m);
    assert.match(result.stdout, /^test error is not dropped \.\.\. failed\n {2}no_outputs_from "errors": got 1 event\(s\):\n {4}event: \{ "level": "error", "msg": "boom" \}$/m);
    assert.match(result.stdout, /^test an output that gets nothing \.\.\. failed\n {2}extract_from "errors": no events\n1 passed, 2 failed\n$/m);
  });

  it('input (one event) and a named output: the remap dropped output, as in Vector\'s docs', () => {
    const file = write('dropped.toml', `
[sources.in]
type = "demo_logs"
[transforms.foo]
type = "remap"
inputs = ["in"]
drop_on_abort = true
reroute_dropped = true
source = "abort"
[[tests]]
name = "remap_dropped_output"
no_outputs_from = ["foo"]
[tests.input]
insert_at = "foo"
type = "log"
log_fields.message = "I will be dropped"
[[tests.outputs]]
extract_from = "foo.dropped"
[[tests.outputs.conditions]]
type = "vrl"
source = 'assert_eq!(.message, "I will be dropped", "incorrect message")'
[[tests]]
name = "typo in the output"
[tests.input]
insert_at = "foo"
type = "raw"
value = "x"
[[tests.outputs]]
extract_from = "foo.droped"
[[tests.outputs.conditions]]
type = "vrl"
source = 'true'
`);
    const result = sluice('test', '--config', file);
    assert.equal(result.status, 78, result.stdout + result.stderr);
    assert.equal(
      result.stderr,
      `invalid configuration (1 problem):\n  ${file}: tests.1.outputs.0.extract_from: "foo.droped" is not a transform or transform output (did you mean "foo.dropped"?)\n`,
    );
    writeFileSync(file, readFileSync(file, 'utf8').replace('"foo.droped"', '"foo.dropped"'));
    const fixed = sluice('test', '--config', file);
    assert.equal(fixed.status, 0, fixed.stdout + fixed.stderr);
    assert.equal(fixed.stdout, 'test remap_dropped_output ... passed\ntest typo in the output ... passed\n2 passed, 0 failed\n');
  });

  it('an invalid test exits 78 naming file and key', () => {
    const file = write('invalid.toml', `${PIPELINE}
[[tests]]
name = "bad"
[[tests.inputs]]
insert_at = "prase"
type = "raw"
value = "x"
[[tests.outputs]]
extract_from = "errors"
[[tests.outputs.conditions]]
type = "vrl"
source = '.msg =='
[[tests]]
name = "no type"
no_outputs_from = ["errors"]
[[tests.inputs]]
insert_at = "parse"
value = "x"
`);
    const result = sluice('test', '--config', file);
    assert.equal(result.status, 78, result.stdout + result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^invalid configuration \(1 problem\):\n {2}.*invalid\.toml: tests\.1\.inputs\.0\.type: /);
    // Once the shape is right, references and conditions are checked before anything runs.
    const shaped = write('refs.toml', readFileSync(file, 'utf8').replace('[[tests.inputs]]\ninsert_at = "parse"\nvalue', '[[tests.inputs]]\ninsert_at = "parse"\ntype = "raw"\nvalue'));
    const refs = sluice('test', '--config', shaped);
    assert.equal(refs.status, 78, refs.stdout + refs.stderr);
    assert.equal(refs.stdout, '');
    assert.match(refs.stderr, /^invalid configuration \(2 problems\):\n/);
    assert.ok(refs.stderr.includes(`  ${shaped}: tests.0.inputs.0.insert_at: "prase" is not a transform (did you mean "parse"?)\n`), refs.stderr);
    assert.ok(refs.stderr.includes(`  ${shaped}: tests.0.outputs.0.conditions.0.source: invalid VRL condition:`), refs.stderr);
  });

  it('a VRL test condition is checked as a VRL condition anywhere: read only, and its result must be a boolean', () => {
    const file = write('vrl-rules.toml', `${PIPELINE}
[[tests]]
name = "writes"
${ERROR_LINE}
[[tests.outputs]]
extract_from = "errors"
[[tests.outputs.conditions]]
type = "vrl"
source = '.checked = true'
[[tests.outputs.conditions]]
type = "vrl"
source = '.msg'
`);
    const result = sluice('test', '--config', file);
    assert.equal(result.status, 78, result.stdout + result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^invalid configuration \(2 problems\):\n/);
    assert.ok(result.stderr.includes('tests.0.outputs.0.conditions.0.source: invalid VRL condition:'), result.stderr);
    assert.match(result.stderr, /E315/);
    assert.ok(result.stderr.includes('tests.0.outputs.0.conditions.1.source: invalid VRL condition:'), result.stderr);
    assert.match(result.stderr, /a condition must resolve to a boolean/);
  });

  it('validate checks the shape of [[tests]]; a run (loadConfig by default) ignores them', () => {
    const file = write('shape.toml', `${PIPELINE}
[[tests]]
name = "no outputs"
${ERROR_LINE}
`);
    const result = sluice('validate', '--config', file);
    assert.equal(result.status, 78, result.stdout + result.stderr);
    assert.ok(result.stderr.includes(`  ${file}: tests.0: a test needs "outputs" or "no_outputs_from"\n`), result.stderr);
    const config = loadConfig({ files: [file] });
    assert.equal(config.tests.length, 0);
    assert.equal(config.components.length, 3);
  });
});
