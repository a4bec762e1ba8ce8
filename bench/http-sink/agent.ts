// Bench child: pushes synthetic Kubernetes log events through a buffer into the http sink and
// exits once every event is acknowledged. Measured from outside with GNU time (CPU, peak RSS).
// Usage: node agent.js <uri> <events> <codec> <compression> <buffer: memory|disk> <dataDir> [sink: http|es-bulk|es-data-stream|loki]
import pino from 'pino';
import { createBuffer, bufferOptionsSchema } from '../../src/core/buffers/options.js';
import { LogEvent } from '../../src/core/event.js';
import { Finalizer } from '../../src/core/finalizer.js';
import { MetricsRegistry } from '../../src/core/metrics.js';
import { httpSinkSchema } from '../../src/sinks/http/schema.js';
import { HttpSink } from '../../src/sinks/http/sink.js';
import { elasticsearchSinkSchema } from '../../src/sinks/elasticsearch/schema.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { lokiSinkSchema } from '../../src/sinks/loki/schema.js';
import { LokiSink } from '../../src/sinks/loki/sink.js';

const [uri, countArg, codec, compression, bufferType, dataDir, sinkKind = 'http'] = process.argv.slice(2);
const total = Number(countArg);
const BATCH = 500;

const logger = pino({ level: 'warn' });
const metrics = new MetricsRegistry().forComponent('sink', 'out', 'http');
const buffer = await createBuffer(
  bufferOptionsSchema.parse(bufferType === 'disk' ? { type: 'disk', max_size: 512 * 1024 * 1024 } : { max_events: 20_000 }),
  { dataDir: dataDir!, sinkId: 'out', metrics, logger },
);
const context = { id: 'out', logger, metrics, dataDir: dataDir! };
const batch = { max_events: 1000, timeout_secs: 0.2 };
const request = { concurrency: 8 };
function buildSink() {
  switch (sinkKind) {
    case 'http':
      return new HttpSink(httpSinkSchema.parse({ uri, encoding: { codec }, compression, batch, request }), context);
    case 'loki':
      return new LokiSink(
        lokiSinkSchema.parse({ endpoint: uri, labels: { namespace: '{{ kubernetes.pod_namespace }}', container: '{{ kubernetes.container_name }}' }, compression, batch, request }),
        context,
      );
    default:
      return new ElasticsearchSink(
        elasticsearchSinkSchema.parse({ endpoints: [uri], mode: sinkKind === 'es-data-stream' ? 'data_stream' : 'bulk', compression, batch, request }),
        context,
      );
  }
}
const sink = buildSink();

// 100 pods' metadata, shared and frozen as the kubernetes_logs source shares it per file.
const pods = Array.from({ length: 100 }, (_, i) =>
  Object.freeze({
    pod_name: `web-${i}-7d9f8b6c5d-x${i}`,
    pod_namespace: `team-${i % 10}`,
    pod_uid: `0c5b6a1e-${String(i).padStart(4, '0')}-4f0e-9a57-2d3c4b5a6f70`,
    container_name: 'app',
    node_name: 'node-1',
    pod_labels: Object.freeze({ app: 'web', 'pod-template-hash': '7d9f8b6c5d' }),
  }),
);

let acked = 0;
let resolveDone!: () => void;
const done = new Promise<void>((resolve) => (resolveDone = resolve));
const started = performance.now();
const running = sink.run(buffer);

for (let sent = 0; sent < total; sent += BATCH) {
  const size = Math.min(BATCH, total - sent);
  const finalizer = new Finalizer(size, () => {
    acked += size;
    if (acked >= total) resolveDone();
  });
  const events = new Array<LogEvent>(size);
  for (let i = 0; i < size; i++) {
    const n = sent + i;
    events[i] = new LogEvent(
      {
        message: `2026-11-24 10:00:00.123 INFO request handled method=GET path=/api/v1/items/${n} status=200 duration_ms=${n % 97}`,
        timestamp: '2026-11-24T10:00:00.123456789Z',
        stream: 'stdout',
        kubernetes: pods[n % pods.length],
      },
      finalizer,
    );
  }
  const wait = buffer.push(events);
  if (wait) await wait;
}
await done;
const seconds = (performance.now() - started) / 1000;
buffer.close();
await running;
process.stdout.write(JSON.stringify({ events: total, seconds }) + '\n');
