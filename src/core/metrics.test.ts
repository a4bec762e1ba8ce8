import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry } from './metrics.js';

async function sent(registry: MetricsRegistry, id: string): Promise<number | undefined> {
  const metric = (await registry.registry.getMetricsAsJSON()).find((m) => m.name === 'sluice_component_sent_events_total');
  return (metric?.values as { value: number; labels: Record<string, string> }[] | undefined)?.find((v) => v.labels.component_id === id)?.value;
}

describe('component counters (tallies)', () => {
  it('shows a 0 series before any count, then the running total at every scrape', async () => {
    const registry = new MetricsRegistry();
    const a = registry.forComponent('sink', 'a', 'http');
    assert.equal(await sent(registry, 'a'), 0);
    a.sentEvents.inc(5);
    a.sentEvents.inc();
    assert.equal(await sent(registry, 'a'), 6);
    assert.equal(await sent(registry, 'a'), 6, 'a scrape does not count twice');
    a.sentEvents.inc(4);
    assert.match(await registry.registry.metrics(), /sluice_component_sent_events_total\{component_kind="sink",component_id="a",component_type="http"\} 10/);
  });

  it('keeps components apart, and adds up two holders of the same labels', async () => {
    const registry = new MetricsRegistry();
    const a = registry.forComponent('sink', 'a', 'http');
    const b = registry.forComponent('sink', 'b', 'file');
    const again = registry.forComponent('sink', 'a', 'http');
    a.sentEvents.inc(2);
    b.sentEvents.inc(7);
    again.sentEvents.inc(3);
    assert.equal(await sent(registry, 'a'), 5);
    assert.equal(await sent(registry, 'b'), 7);
  });

  it('keeps error and discard totals over every reason as numbers (GET /components)', async () => {
    const registry = new MetricsRegistry();
    const a = registry.forComponent('sink', 'a', 'http');
    a.error('http_5xx', 2);
    a.error('tls');
    a.discarded('http_4xx', 4);
    assert.equal(a.errorCount, 3);
    assert.equal(a.discardedCount, 4);
    assert.match(await registry.registry.metrics(), /sluice_component_errors_total\{[^}]*component_id="a"[^}]*reason="http_5xx"\} 2/);
  });
});
