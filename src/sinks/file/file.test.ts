import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import pino from 'pino';
import { metricValue } from '../../../test/agent-process.js';
import { sourceOutcomes, startTopology } from '../../../test/harness.js';

describe('file sink', () => {
  it('writes one JSON object per line to field-templated paths, and acks after writing', async () => {
    const running = await startTopology((dir) => ({
      sources: { numbers: { type: 'test_counter', count: 40, batch_size: 20 } },
      transforms: { split: { type: 'route', inputs: ['numbers'], route: { even: 'seq % 2 == 0' } } },
      sinks: {
        even: { type: 'file', inputs: ['split.even'], path: join(dir, 'out', 'even-{{ message }}.ndjson'), encoding: { codec: 'json', only_fields: ['seq'] } },
        odd: { type: 'file', inputs: ['split._unmatched'], path: join(dir, 'out', 'odd.ndjson') },
      },
    }));
    await running.finished();
    const files = readdirSync(join(running.dir, 'out')).sort();
    assert.equal(files.length, 21, 'one file per even message plus odd.ndjson');
    assert.deepEqual(JSON.parse(readFileSync(join(running.dir, 'out', 'even-event 4.ndjson'), 'utf8')), { seq: 4 });
    const odd = readFileSync(join(running.dir, 'out', 'odd.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number });
    assert.deepEqual(odd.map((e) => e.seq), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39]);
    assert.deepEqual(sourceOutcomes.get('numbers'), [{ rejected: 0 }, { rejected: 0 }]);
    await running.stop();
  });

  it('appends one gzip member per batch: the file is a valid .gz at every point', async () => {
    const running = await startTopology((dir) => ({
      sources: { numbers: { type: 'test_counter', count: 25, batch_size: 10 } },
      sinks: { gz: { type: 'file', inputs: ['numbers'], path: join(dir, 'out.ndjson.gz'), compression: 'gzip', encoding: { codec: 'text' } } },
    }));
    await running.finished();
    const text = gunzipSync(readFileSync(join(running.dir, 'out.ndjson.gz'))).toString();
    assert.deepEqual(text.trim().split('\n'), Array.from({ length: 25 }, (_, i) => `event ${i}`));
    await running.stop();
  });

  it('does not ack what it could not write, and the component failure is reported', async () => {
    const running = await startTopology((dir) => {
      writeFileSync(join(dir, 'not-a-dir'), '');
      return {
        sources: { numbers: { type: 'test_counter', count: 10, batch_size: 10 } },
        sinks: { bad: { type: 'file', inputs: ['numbers'], path: join(dir, 'not-a-dir', 'out.ndjson') } },
      };
    });
    await running.finished();
    assert.deepEqual(sourceOutcomes.get('numbers'), [], 'unwritten events are not acknowledged');
    assert.match(running.topology.failure?.message ?? '', /sink "bad" failed/);
    await running.stop();
  });

  it('keeps hostile template values inside the output dir: "/", NUL, "." and ".." are made harmless', async () => {
    const pods: Array<[string, string]> = [['../../etc', 'x/../../passwd'], ['..', '.'], ['ns', 'a\0b']];
    const running = await startTopology((dir) => ({
      sources: Object.fromEntries(pods.map(([namespace, name], i) => [`pod${i}`, { type: 'test_counter', count: 2, extra: { kubernetes: { pod_namespace: namespace, pod_name: name } } }])),
      // Deep enough that the old, unsanitised paths would still land inside the temp dir.
      sinks: { out: { type: 'file', inputs: pods.map((_, i) => `pod${i}`), path: join(dir, 'a', 'b', 'out', '{{ kubernetes.pod_namespace }}', '{{ kubernetes.pod_name }}.log') } },
    }));
    await running.finished();
    const written = (readdirSync(running.dir, { recursive: true, withFileTypes: true }) as Array<{ name: string; parentPath: string; isFile(): boolean }>)
      .filter((entry) => entry.isFile() && entry.name.endsWith('.log'))
      .map((entry) => relative(running.dir, join(entry.parentPath, entry.name)))
      .sort();
    assert.deepEqual(written, ['a/b/out/.._.._etc/x_.._.._passwd.log', 'a/b/out/__/_.log', 'a/b/out/ns/a_b.log']);
    for (const file of written) assert.equal(readFileSync(join(running.dir, file), 'utf8').trim().split('\n').length, 2);
    await running.stop();
  });

  it('rejects, and never writes, an event whose path resolves outside the template prefix', async () => {
    const running = await startTopology((dir) => ({
      sources: { numbers: { type: 'test_counter', count: 3, batch_size: 3 } },
      sinks: { out: { type: 'file', inputs: ['numbers'], path: `${dir}/out/{{ message }}/../../escaped.log` } },
    }));
    await running.finished();
    assert.deepEqual(readdirSync(running.dir), ['sluice.json']);
    assert.deepEqual(sourceOutcomes.get('numbers'), [{ rejected: 3 }]);
    await running.stop();
  });

  it('renders strftime directives in path from the event timestamp (UTC)', async () => {
    const running = await startTopology((dir) => ({
      sources: {
        march: { type: 'test_counter', count: 2, extra: { timestamp: '2024-03-05T23:59:58.5Z' } },
        offset: { type: 'test_counter', count: 1, extra: { timestamp: '2025-12-31T01:02:03+02:00' } },
      },
      sinks: { out: { type: 'file', inputs: ['march', 'offset'], path: `${dir}/out/%Y/%m-%d.log`, encoding: { codec: 'text' } } },
    }));
    await running.finished();
    assert.deepEqual(readdirSync(join(running.dir, 'out')).sort(), ['2024', '2025']);
    assert.equal(readFileSync(join(running.dir, 'out', '2024', '03-05.log'), 'utf8'), 'event 0\nevent 1\n');
    assert.equal(readFileSync(join(running.dir, 'out', '2025', '12-30.log'), 'utf8'), 'event 0\n');
    await running.stop();
  });

  it('drops and counts an event missing a path template field, logging the field (rate-limited), never writing to ".log"', async () => {
    const lines: Array<{ msg: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const running = await startTopology(
      (dir) => ({
        sources: {
          named: { type: 'test_counter', count: 2, extra: { kubernetes: { pod_name: 'web' } } },
          unnamed: { type: 'test_counter', count: 10, batch_size: 10 },
        },
        sinks: { out: { type: 'file', inputs: ['named', 'unnamed'], path: `${dir}/out/{{ kubernetes.pod_name }}.log`, encoding: { codec: 'text' } } },
      }),
      { logger },
    );
    await running.finished();
    assert.deepEqual(readdirSync(join(running.dir, 'out')), ['web.log']);
    assert.equal(readFileSync(join(running.dir, 'out', 'web.log'), 'utf8'), 'event 0\nevent 1\n');
    assert.deepEqual(sourceOutcomes.get('unnamed'), [{ rejected: 10 }]);
    assert.deepEqual(sourceOutcomes.get('named'), [{ rejected: 0 }]);
    const text = await running.metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_component_discarded_events_total', { component_id: 'out', reason: 'template_field_missing' }), 10);
    const dropped = lines.filter((l) => l.msg.includes('event dropped'));
    assert.ok(dropped.length >= 1 && dropped.length < 10, `one line per repeat window, got ${dropped.length}`);
    assert.match(dropped[0]!.msg, /path: event has no field "kubernetes\.pod_name"/);
    await running.stop();
  });
});
