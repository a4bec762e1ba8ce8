// Runs the fake broker as a process, for trying the opt-in real-cluster test's code against it:
//   node dist/test/fakes/kafka/serve.js 19092 &  SLUICE_TEST_KAFKA_BROKERS=127.0.0.1:19092 npm test -- kafka-real
import { FakeKafka } from './broker.js';

const port = Number(process.argv[2] ?? 0);
const kafka = new FakeKafka();
kafka.nodes[0]!.port = port;
await kafka.start();
console.log(`fake kafka on ${kafka.bootstrap}`);
process.on('SIGTERM', () => void kafka.close().then(() => process.exit(0)));
