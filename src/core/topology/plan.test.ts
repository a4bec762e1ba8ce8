import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import '../../components.js';
import { tempDir } from '../../../test/harness.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { edgeName, planTopology } from './plan.js';

const dir = tempDir();
after(() => dir.cleanup());
let n = 0;
function plan(config: object) {
  const path = join(dir.path, `t${n++}.json`);
  writeFileSync(path, JSON.stringify(config));
  return planTopology(loadConfig({ files: [path] }));
}
function problems(config: object): string[] {
  try {
    plan(config);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return assert.fail('expected problems');
}

const demo = { type: 'demo_logs' };

describe('topology planning', () => {
  it('resolves wildcard inputs and named route outputs', () => {
    const p = plan({
      sources: { app_a: demo, app_b: demo, other: demo },
      transforms: { split: { type: 'route', inputs: ['app_*'], route: { errors: 'stream == "stderr"' } } },
      sinks: { errors: { type: 'blackhole', inputs: ['split.errors'] }, rest: { type: 'blackhole', inputs: ['split._unmatched', 'other'] } },
    });
    assert.deepEqual(p.components.get('split')!.inputs.map(edgeName), ['app_a', 'app_b']);
    assert.deepEqual(p.components.get('rest')!.inputs.map(edgeName), ['split._unmatched', 'other']);
    assert.deepEqual(p.warnings, []);
  });

  it('warns about a source nobody consumes', () => {
    const p = plan({ sources: { a: demo, lonely: demo }, sinks: { out: { type: 'blackhole', inputs: ['a'] } } });
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0]!, /source "lonely" .* has no consumers/);
  });

  it('reports unknown inputs with a suggestion, and sinks used as inputs', () => {
    const found = problems({ sources: { kubernetes: demo }, sinks: { a: { type: 'blackhole', inputs: ['kubernets'] }, b: { type: 'blackhole', inputs: ['a'] } } });
    assert.equal(found.length, 2);
    assert.match(found[0]!, /sinks\.a\.inputs: unknown input "kubernets" \(did you mean "kubernetes"\?\)/);
    assert.match(found[1]!, /sinks\.b\.inputs: "a" is a sink; sinks cannot be inputs/);
  });

  it('reports a wildcard that matches nothing', () => {
    const found = problems({ sources: { a: demo }, sinks: { x: { type: 'blackhole', inputs: ['nothing_*', 'a'] } } });
    assert.equal(found.length, 1);
    assert.match(found[0]!, /sinks\.x\.inputs: "nothing_\*" matches no source or transform/);
  });

  it('reports a sink or transform without inputs', () => {
    const found = problems({ sources: { a: demo }, transforms: { t: { type: 'filter', condition: 'true' } }, sinks: { y: { type: 'blackhole', inputs: [] } } });
    assert.equal(found.length, 2);
    assert.match(found[0]!, /transforms\.t\.inputs: needs at least one input/);
    assert.match(found[1]!, /sinks\.y\.inputs: needs at least one input/);
  });

  it('detects cycles', () => {
    const found = problems({
      sources: { a: demo },
      transforms: { t1: { type: 'filter', inputs: ['a', 't2'], condition: 'true' }, t2: { type: 'filter', inputs: ['t1'], condition: 'true' } },
      sinks: { out: { type: 'blackhole', inputs: ['t2'] } },
    });
    assert.equal(found.length, 1);
    assert.match(found[0]!, /cycle in topology: t1 -> t2 -> t1|cycle in topology: t2 -> t1 -> t2/);
  });

  it('rejects an invalid CEL condition at load time with its position', () => {
    const found = problems({ sources: { a: demo }, transforms: { f: { type: 'filter', inputs: ['a'], condition: 'status >=' } }, sinks: { o: { type: 'blackhole', inputs: ['f'] } } });
    assert.match(found[0]!, /transforms\.f\.condition: invalid CEL condition: Unexpected token/);
  });
});
