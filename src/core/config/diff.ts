import type { AgentConfig, ComponentConfig } from './load.js';

/** What a reload would change, component by component (compared on their normalized config). */
export interface ConfigDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
  /** Top-level settings a reload cannot apply (the data_dir lock and the API listener are held). */
  readonly restartOnly: readonly string[];
}

export function diffConfigs(current: AgentConfig, next: AgentConfig): ConfigDiff {
  const before = new Map(current.components.map((c) => [c.id, normalized(c)]));
  const after = new Map(next.components.map((c) => [c.id, normalized(c)]));
  const added = [...after.keys()].filter((id) => !before.has(id));
  const removed = [...before.keys()].filter((id) => !after.has(id));
  const changed = [...after.keys()].filter((id) => before.has(id) && before.get(id) !== after.get(id));
  const unchanged = [...after.keys()].filter((id) => before.get(id) === after.get(id));
  const restartOnly: string[] = [];
  if (current.dataDir !== next.dataDir) restartOnly.push('data_dir');
  if (current.api.enabled !== next.api.enabled) restartOnly.push('api.enabled');
  if (current.api.address !== next.api.address) restartOnly.push('api.address');
  if (current.api.tapFromNetwork !== next.api.tapFromNetwork) restartOnly.push('api.tap_from_network');
  return { added, removed, changed, unchanged, restartOnly };
}

export function isEmptyDiff(diff: ConfigDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0 && diff.restartOnly.length === 0;
}

/** Everything that defines the component's behaviour; not the file it came from. */
function normalized(c: ComponentConfig): string {
  return stableJson({ kind: c.kind, type: c.type, options: c.options, inputs: c.inputs, buffer: c.buffer, healthcheck: c.healthcheck });
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RegExp) return `/${v.source}/${v.flags}`;
    if (v instanceof Map) return Object.fromEntries([...v.entries()].sort());
    if (v instanceof Set) return [...v].sort();
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date))
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return v;
  });
}
