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

export function findDefinition(kind: ComponentKind, type: string): AnyDefinition | undefined {
  return definitions[kind].get(type);
}

export function knownTypes(kind: ComponentKind): string[] {
  return [...definitions[kind].keys()].sort();
}
