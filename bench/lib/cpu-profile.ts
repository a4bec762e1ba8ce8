// Summarises V8 `.cpuprofile` files (node --cpu-prof): self time by category (GC, sluice by file,
// dependencies by package, node internals, native) and the top functions, optionally only over a
// window at the end of the profile (a workload's steady window, past start-up).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  /** Microseconds (monotonic clock). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Microseconds covered by the samples summarised, and of those, not idle. */
  spanUs: number;
  busyUs: number;
  categories: Array<{ name: string; us: number; parts: Array<{ name: string; us: number }> }>;
  top: Array<{ name: string; where: string; category: string; us: number }>;
  profiles: number;
}

const IDLE = '(idle)';

/** Category and finer part (file, package, module) of a call frame. */
export function classify(frame: { functionName: string; url: string }): { category: string; part: string } {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return { category: 'GC', part: 'GC' };
  if (fn === '(program)') return { category: 'native/VM (program)', part: '(program)' };
  if (fn === IDLE || fn === '(root)') return { category: IDLE, part: IDLE };
  if (url === '') return { category: 'native builtins', part: fn || '(anonymous)' };
  if (url.startsWith('node:')) return { category: 'node internals', part: url.slice('node:'.length).replace(/^internal\//, '') };
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return { category: 'dependencies', part: rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]! };
  }
  const src = url.lastIndexOf('/dist/src/');
  if (src >= 0) return { category: 'sluice', part: url.slice(src + '/dist/'.length) };
  if (url.includes('/bench/')) return { category: 'bench hooks', part: url.slice(url.lastIndexOf('/bench/') + 1) };
  return { category: 'other', part: url.replace(/^file:\/\//, '') };
}

/**
 * Self time per node id. Sample i stands for the time until sample i+1 (as Chrome's DevTools count
 * it); with `window` ({ seconds, tailSeconds } before the profile's last sample), only samples in it.
 */
export function selfTimes(profile: CpuProfile, window?: { seconds: number; tailSeconds: number }): { self: Map<number, number>; spanUs: number } {
  const times: number[] = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas) times.push((t += delta));
  const last = times.at(-1) ?? profile.startTime;
  const to = window ? last - window.tailSeconds * 1e6 : Infinity;
  const from = window ? to - window.seconds * 1e6 : -Infinity;
  const self = new Map<number, number>();
  let first = Infinity;
  let end = -Infinity;
  for (let i = 0; i + 1 < profile.samples.length; i++) {
    if (times[i]! < from || times[i]! >= to) continue;
    const us = times[i + 1]! - times[i]!;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + us);
    first = Math.min(first, times[i]!);
    end = Math.max(end, times[i + 1]!);
  }
  return { self, spanUs: end > first ? end - first : 0 };
}

export function summarise(profiles: CpuProfile[], options: { window?: { seconds: number; tailSeconds: number }; topN?: number } = {}): ProfileSummary {
  const categories = new Map<string, Map<string, number>>();
  const functions = new Map<string, { name: string; where: string; category: string; us: number }>();
  let spanUs = 0;
  let busyUs = 0;
  for (const profile of profiles) {
    const { self, spanUs: span } = selfTimes(profile, options.window);
    spanUs = Math.max(spanUs, span);
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    for (const [id, us] of self) {
      const frame = byId.get(id)!.callFrame;
      const { category, part } = classify(frame);
      if (category === IDLE) continue;
      busyUs += us;
      const parts = categories.get(category) ?? new Map<string, number>();
      categories.set(category, parts.set(part, (parts.get(part) ?? 0) + us));
      const where = frame.url ? `${part}:${frame.lineNumber + 1}` : '';
      const key = `${frame.functionName}@${frame.url}:${frame.lineNumber}`;
      const entry = functions.get(key) ?? { name: frame.functionName || '(anonymous)', where, category, us: 0 };
      entry.us += us;
      functions.set(key, entry);
    }
  }
  const sorted = <T extends { us: number }>(values: Iterable<T>): T[] => [...values].sort((a, b) => b.us - a.us);
  return {
    spanUs,
    busyUs,
    categories: sorted([...categories].map(([name, parts]) => ({ name, us: [...parts.values()].reduce((a, b) => a + b, 0), parts: sorted([...parts].map(([part, us]) => ({ name: part, us }))) }))),
    top: sorted(functions.values()).slice(0, options.topN ?? 8),
    profiles: profiles.length,
  };
}

export function readProfiles(dir: string): CpuProfile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile);
}

const pct = (us: number, of: number): string => `${((us / of) * 100).toFixed(1)} %`;

/**
 * Lines of text: the categories (with their largest parts) and the top functions, as shares of the
 * busy time, each also per `unit` (e.g. µs per line: `{ label: 'µs/line', perUs: 1 / lines }`).
 */
export function formatSummary(s: ProfileSummary, unit?: { label: string; per: (us: number) => number }): string[] {
  if (s.busyUs === 0) return ['profile: no busy samples in the window'];
  const extra = (us: number): string => (unit ? `, ${unit.per(us).toFixed(2)} ${unit.label}` : '');
  const categories = s.categories
    .map((c) => {
      const parts = c.parts.length > 1 || c.parts[0]?.name !== c.name ? ` (${c.parts.slice(0, 4).map((p) => `${p.name} ${pct(p.us, s.busyUs)}`).join(', ')}${c.parts.length > 4 ? ', ...' : ''})` : '';
      return `${c.name} ${pct(c.us, s.busyUs)}${extra(c.us)}${parts}`;
    })
    .join('; ');
  const top = s.top.map((t) => `${t.name}${t.where ? ` (${t.where})` : ''} ${pct(t.us, s.busyUs)}`).join(', ');
  return [`self time by category, share of the busy time: ${categories}`, `top self time: ${top}`];
}
