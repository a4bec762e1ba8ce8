// The kubernetes_logs source alone, into a counting output that acks every batch: the source's
// own cost, without queues or sinks. Exits once `expected` events were counted.
import { pino } from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import { MetricsRegistry } from '../../src/core/metrics.js';
import { kubernetesLogsSchema } from '../../src/sources/kubernetes_logs/config.js';
import { KubernetesLogsSource } from '../../src/sources/kubernetes_logs/source.js';

const [logDirectory, dataDir, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);
const metrics = new MetricsRegistry();
const source = new KubernetesLogsSource(kubernetesLogsSchema.parse({ log_directory: logDirectory }), {
  id: 'k8s',
  logger: pino({ level: 'warn' }),
  metrics: metrics.forComponent('source', 'k8s', 'kubernetes_logs'),
  dataDir: dataDir!,
});
const controller = new AbortController();
let counted = 0;
const running = source.run({
  out: {
    send(events: LogEvent[]) {
      counted += events.length;
      for (const event of events) event.ack();
      if (counted >= expected) controller.abort();
      return undefined;
    },
  },
  shutdown: controller.signal,
});
await running;
await source.close();
process.stdout.write(`${counted}\n`);
