// Component examples (a definition's `examples`) on the reference pages: each is a valid config of
// its component, the remap and reduce ones do what their titles say, and the README shows the same.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import '../../components.js';
import { LogEvent, type Fields } from '../event.js';
import { findDefinition, knownTypes } from '../registry.js';
import { transformContext } from '../../../test/transform-run.js';
import { REDUCE_EXAMPLES } from '../../transforms/reduce/examples.js';
import { createReduce, reduceSchema } from '../../transforms/reduce/index.js';
import { REMAP_EXAMPLES } from '../../transforms/remap/examples.js';
import { buildProgram, remapSchema } from '../../transforms/remap/schema.js';
import { KUBERNETES_LOGS_EXAMPLES } from '../../sources/kubernetes_logs/examples.js';
import { COMPONENT_KINDS, KIND_TABLES } from './json-schema.js';
import { renderReferenceDocs } from './reference-docs.js';

const README = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'README.md'), 'utf8');

/** The one component table of an example: its options without `type` and `inputs`. */
function options(toml: string, table: string): { id: string; type: unknown; rest: Record<string, unknown> } {
  const parsed = parseToml(toml) as Record<string, Record<string, Record<string, unknown>>>;
  assert.deepEqual(Object.keys(parsed), [table]);
  const ids = Object.keys(parsed[table]!);
  assert.equal(ids.length, 1);
  const { type, inputs: _inputs, buffer: _buffer, healthcheck: _healthcheck, ...rest } = parsed[table]![ids[0]!]!;
  return { id: ids[0]!, type, rest };
}

describe('component examples in the reference', () => {
  const withExamples = COMPONENT_KINDS.flatMap((kind) => knownTypes(kind).map((type) => ({ kind, type, def: findDefinition(kind, type)! }))).filter((c) => c.def.examples?.length);

  it('remap, reduce and kubernetes_logs carry examples', () => {
    assert.deepEqual(withExamples.map((c) => c.type).sort(), ['kubernetes_logs', 'reduce', 'remap']);
  });

  for (const { kind, type, def } of withExamples) {
    it(`${kind} ${type}: every example validates against the schema and is on its page`, () => {
      const page = renderReferenceDocs().get(`${KIND_TABLES[kind]}/${type}.md`)!;
      for (const example of def.examples!) {
        const { type: declared, rest } = options(example.toml, KIND_TABLES[kind]);
        assert.equal(declared, type);
        const result = def.schema.safeParse(rest);
        assert.ok(result.success, `${example.title}: ${JSON.stringify(result.error?.issues)}`);
        assert.ok(page.includes(`### ${example.title}\n`), example.title);
        assert.ok(page.includes('```toml\n' + example.toml.trimEnd() + '\n```'), example.title);
        assert.ok(page.indexOf(example.title) < page.indexOf('## Options'), 'examples come before the options');
      }
    });
  }

  it('the typical Kubernetes remap parses JSON app logs, drops the noisy fields and adds the cluster', () => {
    const { rest } = options(REMAP_EXAMPLES[0]!.toml, 'transforms');
    const program = buildProgram(remapSchema.parse(rest));
    const kubernetes = { pod_name: 'web-0', pod_namespace: 'shop', pod_uid: 'u-1', pod_annotations: { a: 'b' } };
    const json = program.run({ message: '{"level":"error","msg":"boom","user":{"id":7}}', stream: 'stderr', kubernetes });
    assert.equal(json.kind, 'ok');
    assert.deepEqual(json.kind === 'ok' && json.events, [
      { message: '{"level":"error","msg":"boom","user":{"id":7}}', level: 'error', msg: 'boom', user: { id: 7 }, kubernetes: { pod_name: 'web-0', pod_namespace: 'shop' }, cluster: 'prod-eu-1' },
    ]);
    const plain = program.run({ message: 'plain text line', stream: 'stdout', kubernetes: { pod_uid: 'u-2' } });
    assert.deepEqual(plain.kind === 'ok' && plain.events, [{ message: 'plain text line', kubernetes: {}, cluster: 'prod-eu-1' }]);
  });

  it('the health-check remap drops health checks and reroutes lines that are not nginx logs', () => {
    const { rest } = options(REMAP_EXAMPLES[1]!.toml, 'transforms');
    const program = buildProgram(remapSchema.parse(rest));
    assert.equal(program.run({ message: '10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.30"' }).kind, 'abort');
    const kept = program.run({ message: '10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "POST /pay HTTP/1.1" 503 9 "-" "curl/8"' });
    assert.equal(kept.kind === 'ok' && kept.events[0]!.server_error, true);
    assert.equal(program.run({ message: 'not an access log' }).kind, 'error');
  });

  it('both reduce examples join a Java stack trace per container', () => {
    for (const example of REDUCE_EXAMPLES) {
      const { rest } = options(example.toml, 'transforms');
      const transform = createReduce(reduceSchema.parse(rest), transformContext('traces', 'reduce'), () => 1);
      const out: Fields[] = [];
      const emit = (_o: string | undefined, events: LogEvent[]) => out.push(...events.map((e) => e.fields));
      const k = { pod_uid: 'u', container_name: 'app' };
      const lines = ['java.lang.IllegalStateException: bad', '\tat a.B.c(B.java:1)', 'Caused by: java.io.EOFException', '\t... 4 more', 'GET /ok 200'];
      transform.process(lines.map((message) => new LogEvent({ message, stream: 'stdout', kubernetes: k })), emit);
      transform.flush!(emit, true);
      assert.deepEqual(out.map((f) => f.message), [lines.slice(0, 4).join('\n'), 'GET /ok 200'], example.title);
    }
  });

  it('the README shows the same remap and kubernetes_logs blocks', () => {
    assert.ok(README.includes('```toml\n' + REMAP_EXAMPLES[0]!.toml + '```'), 'README remap block differs from REMAP_EXAMPLES[0]');
    assert.ok(README.includes('```toml\n' + KUBERNETES_LOGS_EXAMPLES[0]!.toml + '```'), 'README kubernetes_logs block differs from KUBERNETES_LOGS_EXAMPLES[0]');
  });
});
