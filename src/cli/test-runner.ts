import type { Transform, TransformDefinition } from '../core/component.js';
import { ConfigError } from '../core/config/errors.js';
import type { AgentConfig } from '../core/config/load.js';
import { suggest } from '../core/config/suggest.js';
import type { LoadedTest } from '../core/config/tests-schema.js';
import { LogEvent, type Fields } from '../core/event.js';
import { createLogger } from '../core/logger.js';
import { MetricsRegistry } from '../core/metrics.js';
import { edgeName, planTopology } from '../core/topology/plan.js';
import { compileCondition, conditionSchema } from '../transforms/shared/condition.js';
import { CompileError } from '../transforms/remap/diagnostic.js';
import { conditionProgram } from '../transforms/shared/vrl-condition.js';
import { copyContainer, display } from '../transforms/remap/value.js';

/**
 * `sluice test`: the config's `[[tests]]` (as `vector test`). Only the transforms are built (no
 * source or sink runs); each test gets fresh ones, its inputs go in at `insert_at`, and every
 * event a transform emits is recorded under `id` / `id.output` and passed downstream as in the
 * topology. Each condition of an output must hold for at least one of its events.
 */

/** A condition's verdict on one event: undefined when it holds, otherwise why not. */
type Check = (fields: Fields) => string | undefined;

interface CompiledOutput {
  readonly names: readonly string[];
  readonly conditions: readonly { readonly label: string; readonly check: Check }[];
}

interface CompiledTest {
  readonly loaded: LoadedTest;
  readonly outputs: readonly CompiledOutput[];
}

/** Run every test, writing one `test <name> ... passed|failed` line each; returns the exit code (0 or 1). Throws ConfigError for an invalid test. */
export function runConfigTests(config: AgentConfig, write: (line: string) => void): number {
  const plan = planTopology(config);
  const transforms = [...plan.components.values()].filter((c) => c.config.kind === 'transform');
  const addressable = new Set<string>();
  for (const t of transforms) {
    addressable.add(t.config.id);
    for (const name of t.namedOutputs) addressable.add(`${t.config.id}.${name}`);
  }
  const transformIds = transforms.map((t) => t.config.id);

  const problems: string[] = [];
  if (config.tests.length === 0) problems.push('no tests: add [[tests]] to a config file');
  const compiled = config.tests.map((loaded) => compileTest(loaded, new Set(transformIds), addressable, problems));
  if (problems.length > 0) throw new ConfigError(problems);

  // Downstream transforms of each output, as the topology wires them.
  const consumers = new Map<string, string[]>();
  for (const t of transforms)
    for (const edge of t.inputs) {
      const list = consumers.get(edgeName(edge)) ?? [];
      list.push(t.config.id);
      consumers.set(edgeName(edge), list);
    }

  let failed = 0;
  for (const test of compiled) {
    const failures = runTest(test, config, transforms.map((t) => t.config), consumers);
    write(`test ${test.loaded.test.name} ... ${failures.length === 0 ? 'passed' : 'failed'}`);
    for (const failure of failures) write(`  ${failure}`);
    if (failures.length > 0) failed++;
  }
  write(`${compiled.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function compileTest(loaded: LoadedTest, transformIds: Set<string>, addressable: Set<string>, problems: string[]): CompiledTest {
  const { file, index, test } = loaded;
  const at = (...path: (string | number)[]) => `${file}: ${['tests', index, ...path].join('.')}`;
  test.inputs.forEach((input, i) => {
    if (!transformIds.has(input.insert_at))
      problems.push(`${test.inputsKey === 'input' ? at('input', 'insert_at') : at('inputs', i, 'insert_at')}: "${input.insert_at}" is not a transform${suggest(input.insert_at, transformIds)}`);
  });
  const checkName = (name: string, where: string) => {
    if (!addressable.has(name)) problems.push(`${where}: "${name}" is not a transform or transform output${suggest(name, addressable)}`);
  };
  test.no_outputs_from.forEach((name, i) => checkName(name, at('no_outputs_from', i)));
  const outputs = test.outputs.map((output, i) => {
    const names = typeof output.extract_from === 'string' ? [output.extract_from] : output.extract_from;
    names.forEach((name) => checkName(name, at('outputs', i, 'extract_from')));
    const conditions = output.conditions.flatMap((condition, j) => {
      const label = `condition ${j} (${condition.type}: ${condition.source})`;
      const check = compileCheck(condition.type, condition.source, (message) => problems.push(`${at('outputs', i, 'conditions', j, 'source')}: ${message}`));
      return check ? [{ label, check }] : [];
    });
    return { names, conditions };
  });
  return { loaded, outputs };
}

function compileCheck(type: 'vrl' | 'cel', source: string, invalid: (message: string) => void): Check | undefined {
  if (type === 'cel') {
    const parsed = conditionSchema.safeParse(source);
    if (!parsed.success) {
      invalid(parsed.error.issues[0]?.message ?? 'invalid CEL condition');
      return undefined;
    }
    let error: Error | undefined;
    const matches = compileCondition(source, (e) => (error = e));
    return (fields) => {
      error = undefined;
      if (matches(fields)) return undefined;
      const failure = error as Error | undefined; // set by the callback during matches()
      return failure ? `error: ${failure.message.split('\n')[0]}` : 'is false';
    };
  }
  let program;
  try {
    program = conditionProgram(source); // the same checks as a VRL condition anywhere: read only, boolean
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    invalid(`invalid VRL condition:\n${error.message}`);
    return undefined;
  }
  return (fields) => {
    // A shallow copy with shared children: the program cannot change the recorded event.
    const outcome = program.run(copyContainer(fields));
    if (outcome.kind !== 'ok') return `${outcome.kind}: ${outcome.message}`;
    return outcome.value === true ? undefined : `returned ${display(outcome.value)}, not true`;
  };
}

function runTest(
  test: CompiledTest,
  config: AgentConfig,
  transforms: readonly AgentConfig['components'][number][],
  consumers: ReadonlyMap<string, readonly string[]>,
): string[] {
  const metrics = new MetricsRegistry({ processMetrics: false });
  const logger = createLogger('silent');
  const built = new Map<string, Transform>();
  for (const component of transforms) {
    const definition = component.definition as TransformDefinition;
    try {
      built.set(component.id, definition.build(component.options as never, {
        id: component.id,
        logger,
        metrics: metrics.forComponent('transform', component.id, component.type),
        dataDir: config.dataDir,
      }));
    } catch (error) {
      return [`cannot build transform "${component.id}": ${(error as Error).message}`];
    }
  }

  const recorded = new Map<string, Fields[]>();
  let emittedAny = false;
  const emitterOf = (id: string) => (output: string | undefined, emitted: LogEvent[]) => {
    emittedAny ||= emitted.length > 0;
    const name = output === undefined ? id : `${id}.${output}`;
    const list = recorded.get(name) ?? [];
    list.push(...emitted.map((event) => event.cloneForFanout().fields));
    recorded.set(name, list);
    for (const next of consumers.get(name) ?? []) deliver(next, emitted.map((event) => event.cloneForFanout()));
  };
  const deliver = (id: string, events: LogEvent[]): void => built.get(id)!.process(events, emitterOf(id));
  try {
    for (const input of test.loaded.test.inputs) {
      const fields: Fields = input.type === 'log' ? structuredClone(input.log_fields) : { message: input.value };
      deliver(input.insert_at, [new LogEvent(fields)]);
    }
    // The inputs end: transforms holding events (reduce) emit them, until none has anything left.
    for (let pass = 0; pass <= built.size; pass++) {
      emittedAny = false;
      for (const [id, transform] of built) transform.flush?.(emitterOf(id), true);
      if (!emittedAny) break;
    }
  } catch (error) {
    return [`a transform threw: ${(error as Error).message}`];
  }

  const failures: string[] = [];
  for (const name of test.loaded.test.no_outputs_from) {
    const events = recorded.get(name) ?? [];
    if (events.length > 0) failures.push(`no_outputs_from "${name}": got ${events.length} event(s):${showEvents(events)}`);
  }
  test.outputs.forEach((output) => {
    const events = output.names.flatMap((name) => recorded.get(name) ?? []);
    const from = output.names.map((n) => `"${n}"`).join(', ');
    if (events.length === 0) {
      failures.push(`extract_from ${from}: no events`);
      return;
    }
    for (const condition of output.conditions) {
      const reasons = events.map((event) => condition.check(event));
      if (reasons.some((reason) => reason === undefined)) continue;
      const detail = events.map((event, i) => `\n    event: ${display(event)}\n      ${reasons[i]}`).join('');
      failures.push(`extract_from ${from}: ${condition.label} failed for every event:${detail}`);
    }
  });
  return failures;
}

function showEvents(events: readonly Fields[]): string {
  return events.map((event) => `\n    event: ${display(event)}`).join('');
}
