import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ComponentStats } from '../core/topology/runtime.js';
import { endpoint, unreachable, urlOption } from './api-url.js';

/**
 * `sluice top`: a live table of a running agent's components, like `vector top`. Reads
 * `GET /components` (counters since start) and computes per-second rates from two samples.
 */
export interface TopOptions {
  url: string;
  once: boolean;
  json: boolean;
  interval: number;
}

interface Sample {
  sampled_at_ms: number;
  components: ComponentStats[];
}

export interface ComponentRates extends ComponentStats {
  received_events_per_sec: number;
  sent_events_per_sec: number;
  received_bytes_per_sec: number;
  sent_bytes_per_sec: number;
}

const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

export function registerTop(program: Command): void {
  program
    .command('top')
    .description("a live table of a running agent's components: events in/out per second, bytes, errors, buffer fill")
    .addOption(urlOption())
    .addOption(new Option('--once', 'print one snapshot (rates over one interval) and exit').default(false))
    .addOption(new Option('--json', 'print JSON: one document with --once, else one line per interval').default(false))
    .addOption(new Option('--interval <secs>', 'seconds between samples').argParser(positiveNumber).default(1))
    .action(async (opts: TopOptions) => process.exit(await top(opts)));
}

export async function top(opts: TopOptions): Promise<number> {
  const url = endpoint(opts.url, '/components');
  try {
    let previous = await sample(url);
    if (opts.once) {
      await sleep(opts.interval * 1000);
      const current = await sample(url);
      const components = rates(previous, current);
      if (opts.json) process.stdout.write(JSON.stringify({ sampled_at_ms: current.sampled_at_ms, interval_secs: (current.sampled_at_ms - previous.sampled_at_ms) / 1000, components }, null, 2) + '\n');
      else process.stdout.write(table(components) + '\n');
      return 0;
    }
    const tty = process.stdout.isTTY;
    process.on('SIGINT', () => {
      if (tty) process.stdout.write('\x1b[?25h\n');
      process.exit(0);
    });
    for (;;) {
      await sleep(opts.interval * 1000);
      const current = await sample(url);
      if (opts.json) {
        // One JSON document a line per interval, for scripts that follow the agent.
        process.stdout.write(JSON.stringify({ sampled_at_ms: current.sampled_at_ms, components: rates(previous, current) }) + '\n');
        previous = current;
        continue;
      }
      const text = table(rates(previous, current));
      const heading = `sluice top - ${url.origin} - ${new Date(current.sampled_at_ms).toISOString()} (Ctrl-C to quit)\n\n`;
      // Redraw in place on a terminal; one table after another into a pipe or file.
      process.stdout.write(tty ? `\x1b[?25l\x1b[H\x1b[2J${heading}${text}\n` : `${heading}${text}\n\n`);
      previous = current;
    }
  } catch (error) {
    process.stderr.write(error instanceof ApiAnswer ? `sluice top: ${error.message}\n` : unreachable('top', url, error as Error));
    return 1;
  }
}

class ApiAnswer extends Error {}

async function sample(url: URL): Promise<Sample> {
  const res = await fetch(url);
  if (!res.ok) throw new ApiAnswer(`${url.origin} answered ${res.status} to ${url.pathname} (an agent older than sluice top?)`);
  return (await res.json()) as Sample;
}

/** Per-second rates between two samples; a component absent from the first counts from zero. */
export function rates(previous: Sample, current: Sample): ComponentRates[] {
  const seconds = Math.max((current.sampled_at_ms - previous.sampled_at_ms) / 1000, 0.001);
  const before = new Map(previous.components.map((c) => [c.id, c]));
  const rate = (now: number, then: number | undefined): number => Math.max(0, (now - (then ?? 0)) / seconds);
  return current.components.map((c) => {
    const p = before.get(c.id);
    return {
      ...c,
      received_events_per_sec: rate(c.received_events, p?.received_events),
      sent_events_per_sec: rate(c.sent_events, p?.sent_events),
      received_bytes_per_sec: rate(c.received_bytes, p?.received_bytes),
      sent_bytes_per_sec: rate(c.sent_bytes, p?.sent_bytes),
    };
  });
}

const KIND_ORDER: Record<string, number> = { source: 0, transform: 1, sink: 2 };

export function table(components: readonly ComponentRates[]): string {
  const rows = [...components]
    .sort((a, b) => (KIND_ORDER[a.kind] ?? 3) - (KIND_ORDER[b.kind] ?? 3) || a.id.localeCompare(b.id))
    .map((c) => [
      c.id,
      c.kind,
      c.type,
      count(c.received_events),
      count(c.received_events_per_sec) + '/s',
      count(c.sent_events),
      count(c.sent_events_per_sec) + '/s',
      bytes(c.received_bytes),
      bytes(c.sent_bytes),
      count(c.errors),
      c.buffer_events === undefined ? '-' : c.buffer_max_events ? `${count(c.buffer_events)}/${count(c.buffer_max_events)}` : count(c.buffer_events),
    ]);
  const header = ['ID', 'KIND', 'TYPE', 'EVENTS IN', 'IN/S', 'EVENTS OUT', 'OUT/S', 'BYTES IN', 'BYTES OUT', 'ERRORS', 'BUFFER'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  // Names left-aligned, numbers right-aligned.
  return all.map((row) => row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function count(n: number): string {
  if (n < 10_000) return Number.isInteger(n) ? String(n) : n.toFixed(1);
  for (const [unit, size] of [['G', 1e9], ['M', 1e6], ['k', 1e3]] as const) if (n >= size) return (n / size).toFixed(n >= size * 100 ? 0 : 1) + unit;
  return String(n);
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) if (n >= size) return (n / size).toFixed(1) + ' ' + unit;
  return `${n} B`;
}
