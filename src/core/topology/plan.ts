import picomatch from 'picomatch';
import type { TransformDefinition } from '../component.js';
import { ConfigError } from '../config/errors.js';
import { suggest } from '../config/suggest.js';
import type { AgentConfig, ComponentConfig } from '../config/load.js';

/** An edge: events of `upstream`'s output (`undefined` = its default output) flow into a node. */
export interface Edge {
  readonly upstream: string;
  readonly output: string | undefined;
}

export interface PlannedComponent {
  readonly config: ComponentConfig;
  readonly inputs: readonly Edge[];
  /** Named outputs besides the default one (transforms such as route). */
  readonly namedOutputs: readonly string[];
}

export interface TopologyPlan {
  readonly components: ReadonlyMap<string, PlannedComponent>;
  readonly warnings: readonly string[];
}

/** Resolve inputs (with wildcards), reject unknown inputs and cycles, warn about unused outputs. */
export function planTopology(config: AgentConfig): TopologyPlan {
  const problems: string[] = [];
  const warnings: string[] = [];

  // Every addressable output: "id" for a default output, "id.name" for a named one.
  const outputs = new Map<string, Edge>();
  const namedOutputsOf = new Map<string, string[]>();
  for (const component of config.components) {
    if (component.kind === 'sink') continue;
    outputs.set(component.id, { upstream: component.id, output: undefined });
    const named =
      component.kind === 'transform'
        ? ((component.definition as TransformDefinition).outputs?.(component.options as never) ?? [])
        : [];
    namedOutputsOf.set(component.id, named);
    for (const name of named) outputs.set(`${component.id}.${name}`, { upstream: component.id, output: name });
  }
  const sinkIds = new Set(config.components.filter((c) => c.kind === 'sink').map((c) => c.id));

  const planned = new Map<string, PlannedComponent>();
  for (const component of config.components) {
    const edges: Edge[] = [];
    for (const input of component.inputs) {
      const where = `${component.file}: ${component.kind}s.${component.id}.inputs`;
      if (picomatch.scan(input).isGlob) {
        const matches = picomatch(input);
        const found = [...outputs.entries()].filter(([name, edge]) => matches(name) && edge.upstream !== component.id);
        if (found.length === 0) problems.push(`${where}: "${input}" matches no source or transform`);
        edges.push(...found.map(([, edge]) => edge));
        continue;
      }
      const edge = outputs.get(input);
      if (edge) edges.push(edge);
      else if (sinkIds.has(input)) problems.push(`${where}: "${input}" is a sink; sinks cannot be inputs`);
      else problems.push(`${where}: unknown input "${input}"${suggest(input, [...outputs.keys()])}`);
    }
    const unique = dedupeEdges(edges);
    planned.set(component.id, { config: component, inputs: unique, namedOutputs: namedOutputsOf.get(component.id) ?? [] });
  }

  problems.push(...findCycles(planned));

  const consumed = new Set<string>();
  for (const component of planned.values()) for (const edge of component.inputs) consumed.add(edge.upstream);
  for (const component of planned.values()) {
    if (component.config.kind === 'sink') continue;
    if (!consumed.has(component.config.id))
      warnings.push(`${component.config.kind} "${component.config.id}" (${component.config.file}) has no consumers: its events are dropped`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { components: planned, warnings };
}

export function edgeName(edge: Edge): string {
  return edge.output === undefined ? edge.upstream : `${edge.upstream}.${edge.output}`;
}

function dedupeEdges(edges: Edge[]): Edge[] {
  const seen = new Set<string>();
  return edges.filter((edge) => {
    const name = edgeName(edge);
    if (seen.has(name)) return false;
    seen.add(name);
    return true;
  });
}

function findCycles(components: ReadonlyMap<string, PlannedComponent>): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const problems: string[] = [];
  const visit = (id: string, trail: string[]): void => {
    const current = state.get(id);
    if (current === 'done') return;
    if (current === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(id)), id];
      problems.push(`cycle in topology: ${cycle.join(' -> ')}`);
      return;
    }
    state.set(id, 'visiting');
    for (const edge of components.get(id)?.inputs ?? []) visit(edge.upstream, [...trail, id]);
    state.set(id, 'done');
  };
  for (const id of components.keys()) visit(id, []);
  return problems;
}
