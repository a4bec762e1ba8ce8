// Test helper: build a transform outside a topology and run batches through it, recording what
// each event's finalizer ended as.
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import type { ComponentContext, Transform } from '../src/core/component.js';
import { LogEvent, type Fields } from '../src/core/event.js';
import { Finalizer } from '../src/core/finalizer.js';
import { MetricsRegistry } from '../src/core/metrics.js';

export function transformContext(id: string, type: string): ComponentContext {
  return { id, logger: pino({ level: 'silent' }), metrics: new MetricsRegistry().forComponent('transform', id, type), dataDir: tmpdir() };
}

export interface BatchResult {
  /** Fields of the events emitted on the default output, in order. */
  kept: Fields[];
  /** Per input event: 'delivered' / 'rejected' once acked here, or 'pending' (passed on). */
  outcomes: Array<'delivered' | 'rejected' | 'pending'>;
}

export function runBatch(transform: Transform, inputs: Fields[]): BatchResult {
  const outcomes: BatchResult['outcomes'] = inputs.map(() => 'pending');
  const events = inputs.map(
    (fields, i) => new LogEvent(fields, new Finalizer(1, ({ rejected }) => (outcomes[i] = rejected > 0 ? 'rejected' : 'delivered'))),
  );
  const kept: Fields[] = [];
  transform.process(events, (output, out) => {
    if (output !== undefined) throw new Error(`unexpected output ${output}`);
    kept.push(...out.map((e) => e.fields));
  });
  return { kept, outcomes };
}
