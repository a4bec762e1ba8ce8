import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import '../../components.js';
import { tempDir } from '../../../test/harness.js';
import { ConfigError } from './errors.js';
import { loadConfig } from './load.js';

const dir = tempDir();
after(() => dir.cleanup());
let n = 0;
function file(name: string, text: string): string {
  const sub = join(dir.path, String(n++));
  mkdirSync(sub);
  const path = join(sub, name);
  writeFileSync(path, text);
  return path;
}
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

describe('config loading', () => {
  it('reads TOML, YAML and JSON files into one config', () => {
    const toml = file('common.toml', '[sources.in]\ntype = "demo_logs"\ncount = 3\n');
    const yaml = file('custom.yaml', 'sinks:\n  out:\n    type: console\n    inputs: ["in"]\n');
    const json = file('extra.json', JSON.stringify({ sinks: { bh: { type: 'blackhole', inputs: ['in'] } } }));
    const config = loadConfig({ files: [toml, yaml, json] });
    assert.deepEqual(
      config.components.map((c) => [c.kind, c.id, c.type]),
      [
        ['source', 'in', 'demo_logs'],
        ['sink', 'out', 'console'],
        ['sink', 'bh', 'blackhole'],
      ],
    );
    assert.equal(config.dataDir, '/var/lib/sluice');
    const out = config.components.find((c) => c.id === 'out')!;
    assert.deepEqual(out.options, { target: 'stdout', encoding: { codec: 'json' } });
    assert.equal(out.buffer?.max_events, 500);
  });

  it('loads every config file of a --config-dir in name order', () => {
    const a = file('a.toml', '[sources.in]\ntype = "demo_logs"\n');
    const d = join(a, '..');
    writeFileSync(join(d, 'b.yaml'), 'sinks: {out: {type: blackhole, inputs: [in]}}\n');
    writeFileSync(join(d, 'README.md'), 'ignored');
    const config = loadConfig({ dirs: [d] });
    assert.deepEqual(config.components.map((c) => c.id), ['in', 'out']);
  });

  it('names the file and the key path of a misspelt option and of a bad enum value', () => {
    const path = file('custom.toml', '[sources.in]\ntype = "demo_logs"\nformatt = "json"\n[sinks.out]\ntype = "console"\ninputs = ["in"]\nencoding.codec = "yaml"\n');
    const problems = problemsOf(() => loadConfig({ files: [path] }));
    assert.deepEqual(problems, [
      `${path}: sources.in.formatt: unknown option (did you mean "format"?)`,
      `${path}: sinks.out.encoding.codec: expected one of json, text`,
    ]);
  });

  it('suggests the closest option name of the object the misspelt key sits in, core keys included', () => {
    const path = file('typo.toml', [
      '[sources.k]', 'type = "kubernetes_logs"', 'log_directroy = "/var/log/pods"',
      '[sinks.out]', 'type = "http"', 'input = ["k"]', 'uri = "http://h/"', 'batch.max_event = 5', 'auth.strategy = "basic"', 'auth.user = "u"', 'auth.pasword = "p"',
      '[sinks.far]', 'type = "blackhole"', 'inputs = ["k"]', 'zzzzzz = 1',
    ].join('\n') + '\n');
    const problems = problemsOf(() => loadConfig({ files: [path] }));
    assert.deepEqual(problems.filter((p) => p.includes('unknown option')), [
      `${path}: sources.k.log_directroy: unknown option (did you mean "log_directory"?)`,
      `${path}: sinks.out.auth.pasword: unknown option (did you mean "password"?)`,
      `${path}: sinks.out.batch.max_event: unknown option (did you mean "max_events"?)`,
      `${path}: sinks.out.input: unknown option (did you mean "inputs"?)`,
      `${path}: sinks.far.zzzzzz: unknown option`,
    ]);
  });

  it('a value of the wrong type says what it expected and got, a missing one that it is missing', () => {
    const path = file('types.toml', '[sources.in]\ntype = "demo_logs"\n[sinks.out]\ntype = "file"\ninputs = ["in"]\npath = "/tmp/x"\nidle_timeout_secs = "30"\nfsync = [true]\n[sinks.nopath]\ntype = "file"\ninputs = ["in"]\n');
    const problems = problemsOf(() => loadConfig({ files: [path] }));
    assert.deepEqual(problems, [
      `${path}: sinks.out.idle_timeout_secs: expected number, got string`,
      `${path}: sinks.out.fsync: expected boolean, got array`,
      `${path}: sinks.nopath.path: required option is missing (expected string)`,
    ]);
  });

  it('reports an unknown component type with the known ones', () => {
    const path = file('x.yaml', 'sinks:\n  out:\n    type: htp\n    inputs: [in]\n');
    const [problem] = problemsOf(() => loadConfig({ files: [path] }));
    assert.match(problem!, /x\.yaml: sinks\.out\.type: unknown sink type "htp" \(known: .*console.*\)/);
  });

  it('rejects the same component id in two files, naming both', () => {
    const a = file('common.toml', '[sinks.out]\ntype = "blackhole"\ninputs = ["x"]\n');
    const b = file('custom.yaml', 'sinks: {out: {type: console, inputs: [x]}}\n');
    const problems = problemsOf(() => loadConfig({ files: [a, b] }));
    assert.equal(problems.length, 1);
    assert.ok(problems[0]!.includes(a) && problems[0]!.includes(b), problems[0]);
  });

  it('rejects global options that two files set differently', () => {
    const a = file('a.toml', 'data_dir = "/a"\n');
    const b = file('b.toml', 'data_dir = "/b"\n');
    const [problem] = problemsOf(() => loadConfig({ files: [a, b] }));
    assert.match(problem!, /data_dir is set differently in .*a\.toml and .*b\.toml/);
  });

  it('lists every problem, syntax errors and missing files included', () => {
    const bad = file('bad.toml', '[sources.in\n');
    const problems = problemsOf(() => loadConfig({ files: [bad, join(dir.path, 'missing.yaml')] }));
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /bad\.toml:1:\d+: syntax error/);
    assert.match(problems[1]!, /missing\.yaml: cannot read: ENOENT/);
  });

  it('a syntax error names line and column (TOML, YAML, JSON) and shows the line with a caret', () => {
    const toml = file('s.toml', '[sources.in]\ntype = "demo_logs"\n[sinks.out]\ntype = "console"\ninputs = ["in"]\nencoding.codec = json\n');
    const yaml = file('s.yaml', 'sources:\n  in:\n    type: demo_logs\n   bad: x\n');
    const json = file('s.json', '{\n  "sources": {"in": {"type": "demo_logs",}}\n}\n');
    const problems = problemsOf(() => loadConfig({ files: [toml, yaml, json] }));
    assert.deepEqual(problems, [
      `${toml}:6:18: syntax error: invalid value\n    6 | encoding.codec = json\n      |                  ^`,
      `${yaml}:4:1: syntax error: All mapping items must start at the same column\n    4 |    bad: x\n      | ^`,
      `${json}:2:42: syntax error: Expected double-quoted property name\n    2 |   "sources": {"in": {"type": "demo_logs",}}\n      |                                          ^`,
    ]);
  });

  it('an unclosed bracket reported at the end of the file shows the line before as context', () => {
    const toml = file('eof.toml', '[sinks.out]\ntype = "console"\ninputs = ["in"\n');
    const [problem] = problemsOf(() => loadConfig({ files: [toml] }));
    assert.equal(problem, `${toml}:4:1: syntax error: expected comma or end of structure\n    3 | inputs = ["in"\n    4 | \n      | ^`);
  });

  it('files the config names must exist (tls, kubeconfig), unless environment checks are off', () => {
    const missing = join(dir.path, 'absent');
    const path = file('env.toml', [
      '[sources.k]', 'type = "kubernetes_logs"', `kube_config_file = "${missing}/kubeconfig"`,
      '[sinks.h]', 'type = "http"', 'inputs = ["k"]', 'uri = "https://h/"', `tls.ca_file = "${missing}/ca.pem"`, `tls.crt_file = "${dir.path}"`, `tls.key_file = "${missing}/key.pem"`,
    ].join('\n') + '\n');
    const problems = problemsOf(() => loadConfig({ files: [path] }));
    const hint = "(a check of this machine: validate --no-environment skips it)";
    assert.deepEqual(problems, [
      `${path}: sources.k.kube_config_file: "${missing}/kubeconfig" does not exist ${hint}`,
      `${path}: sinks.h.tls.ca_file: "${missing}/ca.pem" does not exist ${hint}`,
      `${path}: sinks.h.tls.crt_file: "${dir.path}" is not a file ${hint}`,
      `${path}: sinks.h.tls.key_file: "${missing}/key.pem" does not exist ${hint}`,
    ]);
    assert.deepEqual(loadConfig({ files: [path] }, {}, { environment: false }).components.map((c) => c.id), ['k', 'h']);
  });

  it('a client certificate without its key is refused at load, not at start', () => {
    const path = file('mtls.toml', '[sources.in]\ntype = "demo_logs"\n[sinks.h]\ntype = "http"\ninputs = ["in"]\nuri = "https://h/"\ntls.crt_file = "/c.pem"\n');
    const problems = problemsOf(() => loadConfig({ files: [path] }, {}, { environment: false }));
    assert.deepEqual(problems, [`${path}: sinks.h.tls.key_file: crt_file and key_file go together (a client certificate needs its key)`]);
  });

  it('rejects inputs on a source and a buffer on a transform', () => {
    const path = file('c.toml', '[sources.in]\ntype = "demo_logs"\ninputs = ["x"]\n[transforms.f]\ntype = "filter"\ninputs = ["in"]\ncondition = "true"\nbuffer.max_events = 3\n');
    const problems = problemsOf(() => loadConfig({ files: [path] }));
    assert.deepEqual(problems, [`${path}: sources.in.inputs: sources take no inputs`, `${path}: transforms.f.buffer: only sinks have a buffer`]);
  });

  it('interpolates ${VAR} and ${VAR:-default}, and fails on an unset variable naming file and key', () => {
    const path = file('env.yaml', 'data_dir: ${DATA:-/tmp/d}\nsources:\n  in: {type: demo_logs, format: "${FMT}"}\n');
    const config = loadConfig({ files: [path] }, { FMT: 'syslog' });
    assert.equal(config.dataDir, '/tmp/d');
    assert.equal((config.components[0]!.options as { format: string }).format, 'syslog');
    const [problem] = problemsOf(() => loadConfig({ files: [path] }, {}));
    assert.equal(problem, `${path}: sources.in.format: environment variable FMT is not set (use \${FMT:-default} for a default)`);
  });

  it('reports a required variable with its message, naming file and key', () => {
    const path = file('req.toml', '[sources.in]\ntype = "demo_logs"\nformat = "${FMT:?set FMT to json or syslog}"\n');
    assert.deepEqual(problemsOf(() => loadConfig({ files: [path] }, { FMT: '' })), [`${path}: sources.in.format: environment variable FMT is empty: set FMT to json or syslog`]);
    assert.equal((loadConfig({ files: [path] }, { FMT: 'json' }).components[0]!.options as { format: string }).format, 'json');
  });

  it('replaces bare $VAR, keeps $$VAR literal, and ignores references in comments and keys', () => {
    const path = file('bare.toml', '# ${UNSET} in a comment\n[sources.in]\ntype = "demo_logs" # $UNSET here too\n[sinks.out]\ntype = "file"\ninputs = ["in"]\npath = "$DIR/$$HOME/x"\n');
    const out = loadConfig({ files: [path] }, { DIR: '/data' }).components.find((c) => c.id === 'out')!;
    assert.equal((out.options as { path: string }).path, '/data/$HOME/x');
    const keyed = file('key.yaml', 'sources: {"${ID}": {type: demo_logs}}\n');
    assert.deepEqual(problemsOf(() => loadConfig({ files: [keyed] }, { ID: 'in' })), [`${keyed}: sources.\${ID}: component ids may use letters, digits, "_" and "-" only`]);
  });

  describe('a value from the environment never changes the config shape', () => {
    const evilToml = '/tmp/x"\n[sinks.evil]\ntype = "console"\ninputs = ["in"]\nencoding.codec = "json';
    const evilYaml = '/tmp/x"\n  evil:\n    type: console\n    inputs: [in]\n    target: "stdout';

    it('TOML: quotes stay in the string, a line break is an error naming file and key', () => {
      const path = file('inject.toml', '[sources.in]\ntype = "demo_logs"\n[sinks.out]\ntype = "file"\ninputs = ["${IN}"]\npath = "${OUT}"\n');
      const config = loadConfig({ files: [path] }, { IN: 'in", "other', OUT: '/tmp/x' });
      assert.deepEqual(config.components.find((c) => c.id === 'out')!.inputs, ['in", "other']);
      const problems = problemsOf(() => loadConfig({ files: [path] }, { IN: 'in', OUT: evilToml }));
      assert.deepEqual(problems, [`${path}: sinks.out.path: environment variable OUT contains a line break (values from the environment must be a single line)`]);
    });

    it('YAML: a flow-style break-out is one string, a block-style one an error', () => {
      const flow = file('inject.yaml', 'sources: {in: {type: demo_logs}}\nsinks: {out: {type: file, inputs: [in], path: "${OUT}"}}\n');
      const breakOut = '/tmp/x"}, evil: {type: file, inputs: [in], path: "/tmp/evil';
      const config = loadConfig({ files: [flow] }, { OUT: breakOut });
      assert.deepEqual(config.components.map((c) => c.id), ['in', 'out']);
      assert.equal((config.components[1]!.options as { path: string }).path, breakOut);
      const block = file('block.yaml', 'sources: {in: {type: demo_logs}}\nsinks:\n  out:\n    type: file\n    inputs: [in]\n    path: "${OUT}"\n');
      const problems = problemsOf(() => loadConfig({ files: [block] }, { OUT: evilYaml }));
      assert.deepEqual(problems, [`${block}: sinks.out.path: environment variable OUT contains a line break (values from the environment must be a single line)`]);
    });
  });

  it('accepts Vector\'s acknowledgements.enabled = true at the top level, on sources and sinks, and in splunk_hec_logs\' own table', () => {
    const path = file(
      'acks.toml',
      [
        'acknowledgements.enabled = true',
        '[sources.in]\ntype = "demo_logs"\nacknowledgements.enabled = true',
        '[sinks.out]\ntype = "console"\ninputs = ["in"]\nacknowledgements = { enabled = true }',
        '[sinks.splunk]\ntype = "splunk_hec_logs"\ninputs = ["in"]\nendpoint = "https://splunk.example:8088"\ndefault_token = "t"',
        'acknowledgements = { enabled = true, indexer_acknowledgements_enabled = false }',
      ].join('\n') + '\n',
    );
    const config = loadConfig({ files: [path] }, {}, { environment: false });
    const splunk = config.components.find((c) => c.id === 'splunk')!;
    assert.equal((splunk.options as { acknowledgements: { indexer_acknowledgements_enabled: boolean } }).acknowledgements.indexer_acknowledgements_enabled, false);
    assert.equal(config.components.length, 3);
  });

  it('refuses acknowledgements.enabled = false everywhere, saying sluice always acknowledges', () => {
    const path = file(
      'noacks.toml',
      [
        'acknowledgements.enabled = false',
        '[sources.in]\ntype = "demo_logs"\nacknowledgements.enabled = false',
        '[transforms.t]\ntype = "filter"\ninputs = ["in"]\ncondition = "true"\nacknowledgements.enabled = true',
        '[sinks.out]\ntype = "console"\ninputs = ["t"]\nacknowledgements = false',
        '[sinks.splunk]\ntype = "splunk_hec_logs"\ninputs = ["in"]\nendpoint = "https://splunk.example:8088"\ndefault_token = "t"',
        'acknowledgements = { enabled = false, query_interval = 5 }',
      ].join('\n') + '\n',
    );
    const why = 'sluice always acknowledges end to end; remove acknowledgements.enabled = false';
    assert.deepEqual(problemsOf(() => loadConfig({ files: [path] }, {}, { environment: false })), [
      `${path}: acknowledgements.enabled: ${why}`,
    ]);
    const components = file('noacks-components.toml', (readFileSync(path, 'utf8').split('\n').slice(1).join('\n')));
    assert.deepEqual(problemsOf(() => loadConfig({ files: [components] }, {}, { environment: false })), [
      `${components}: sources.in.acknowledgements.enabled: ${why}`,
      `${components}: transforms.t.acknowledgements: only sources and sinks take acknowledgements`,
      `${components}: sinks.out.acknowledgements.enabled: ${why}`,
      `${components}: sinks.splunk.acknowledgements.enabled: ${why}`,
    ]);
  });
});
