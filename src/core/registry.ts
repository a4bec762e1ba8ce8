import type { z } from 'zod';
import type {
  AnyDefinition,
  ComponentKind,
  SinkDefinition,
  SourceDefinition,
  TransformDefinition,
} from './component.js';

/** Components register themselves here; the core never names one. */
const definitions: Record<ComponentKind, Map<string, AnyDefinition>> = {
  source: new Map(),
  transform: new Map(),
  sink: new Map(),
};

/**
 * Component types known by name only, with the import that registers each (src/component-catalog.ts).
 * A module's schema and implementation are loaded when a config uses its type: the code of every
 * component (zod schemas, the VRL compiler, CEL, protobuf, SDKs) costs ~7 MiB of resident memory
 * at start-up, paid on every node for components it never runs.
 */
const catalog: Record<ComponentKind, Map<string, () => Promise<unknown>>> = {
  source: new Map(),
  transform: new Map(),
  sink: new Map(),
};

function register(definition: AnyDefinition): void {
  const byType = definitions[definition.kind];
  if (byType.has(definition.type)) throw new Error(`${definition.kind} type "${definition.type}" registered twice`);
  byType.set(definition.type, definition);
}

export function registerSource<S extends z.ZodType>(definition: Omit<SourceDefinition<S>, 'kind'>): void {
  register({ ...definition, kind: 'source' } as unknown as AnyDefinition);
}

export function registerTransform<S extends z.ZodType>(definition: Omit<TransformDefinition<S>, 'kind'>): void {
  register({ ...definition, kind: 'transform' } as unknown as AnyDefinition);
}

export function registerSink<S extends z.ZodType>(definition: Omit<SinkDefinition<S>, 'kind'>): void {
  register({ ...definition, kind: 'sink' } as unknown as AnyDefinition);
}

/** Declare a component type whose module (`load` imports it, and it registers the type) is loaded on first use. */
export function catalogComponent(kind: ComponentKind, type: string, load: () => Promise<unknown>): void {
  if (catalog[kind].has(type)) throw new Error(`${kind} type "${type}" catalogued twice`);
  catalog[kind].set(type, load);
}

/** Import the modules of these component types (unknown types are left to the config's validation). */
export async function loadComponents(wanted: Iterable<readonly [ComponentKind, string]>): Promise<void> {
  const loads: Promise<void>[] = [];
  for (const [kind, type] of wanted) {
    const load = catalog[kind].get(type);
    if (load === undefined || definitions[kind].has(type)) continue;
    loads.push(
      load().then(() => {
        if (!definitions[kind].has(type)) throw new Error(`${kind} type "${type}": its catalogued module registered no such component`);
      }),
    );
  }
  await Promise.all(loads);
}

/** Every catalogued component (JSON Schema, reference docs, tests). */
export async function loadAllComponents(): Promise<void> {
  await loadComponents(Object.entries(catalog).flatMap(([kind, types]) => [...types.keys()].map((type) => [kind as ComponentKind, type] as const)));
}

/** The definition of a registered (loaded) type; `loadComponents` first for a catalogued one. */
export function findDefinition(kind: ComponentKind, type: string): AnyDefinition | undefined {
  return definitions[kind].get(type);
}

/** The types of this kind, loaded or not. */
export function knownTypes(kind: ComponentKind): string[] {
  return [...new Set([...catalog[kind].keys(), ...definitions[kind].keys()])].sort();
}

/** Types catalogued for lazy loading, for the check that the catalog lists every component. */
export function cataloguedTypes(kind: ComponentKind): string[] {
  return [...catalog[kind].keys()].sort();
}
