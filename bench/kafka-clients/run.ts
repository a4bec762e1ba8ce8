// Kafka clients compared through the fake broker: `node dist/bench/kafka-clients/run.js [events=200000] [rounds=3]`.
// @platformatic/kafka (sluice's client) and kafkajs each produce the same W1-like events (acks=all,
// idempotent, batches of 500 to one partition each; none and gzip) and consume them back through a
// consumer group. Every phase is its own process (client CPU seconds and peak RSS are that phase's);
// the broker is another process whose CPU is read from /proc around each phase, to show it is not
// the bottleneck. Rounds alternate which client goes first. Prints a Markdown table: medians over
// the rounds, and each figure's ratio to @platformatic/kafka's in the same invocation.
import { execFileSync, fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds } from '../lib/proc.js';
import { eventValues } from './events.js';

const events = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);
const CLIENTS = ['platformatic', 'kafkajs'] as const;
const CODECS = ['none', 'gzip'] as const;
const PHASES = ['produce', 'consume'] as const;
const LABEL: Record<(typeof CLIENTS)[number], string> = { platformatic: '@platformatic/kafka', kafkajs: 'kafkajs' };
const here = import.meta.dirname;

interface Sample {
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  brokerCpuSeconds: number;
}

const broker = fork(join(here, 'broker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const replies = new Map<number, (reply: { stored?: number; codecs?: string[] }) => void>();
let nextId = 0;
const bootstrap = await new Promise<string>((resolve) => {
  broker.on('message', (message: { bootstrap?: string; id?: number; stored?: number; codecs?: string[] }) => {
    if (message.bootstrap) resolve(message.bootstrap);
    else if (message.id !== undefined) replies.get(message.id)?.(message);
  });
});
const ask = (command: Record<string, unknown>) =>
  new Promise<{ stored?: number; codecs?: string[] }>((resolve) => {
    const id = nextId++;
    replies.set(id, resolve);
    broker.send({ id, ...command });
  });

function phase(client: string, name: string, codec: string, topic: string): Sample {
  const brokerBefore = cpuSeconds(broker.pid!);
  const out = execFileSync(process.execPath, [join(here, 'client.js'), client, name, codec, bootstrap, topic, String(events)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const result = JSON.parse(out.trim().split('\n').pop()!) as Omit<Sample, 'brokerCpuSeconds'> & { events: number };
  return { ...result, brokerCpuSeconds: cpuSeconds(broker.pid!) - brokerBefore };
}

const samples = new Map<string, Sample[]>();
const keyOf = (client: string, codec: string, name: string) => `${client} ${codec} ${name}`;
const load: number[][] = [loadavg()];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? CLIENTS : [...CLIENTS].reverse();
  for (const codec of CODECS) {
    for (const client of order) {
      const topic = `bench-${client}-${codec}-${round}`;
      await ask({ create: topic, partitions: 3 });
      for (const name of PHASES) {
        const sample = phase(client, name, codec, topic);
        if (name === 'produce') {
          const { stored, codecs } = await ask({ stored: topic });
          if (stored !== events) throw new Error(`${client} ${codec}: the broker holds ${stored} records of ${events} produced`);
          if (codecs?.join() !== codec) throw new Error(`${client} ${codec}: the stored batches are ${codecs?.join(', ')}`);
        }
        samples.set(keyOf(client, codec, name), [...(samples.get(keyOf(client, codec, name)) ?? []), sample]);
        process.stderr.write(`round ${round + 1}/${rounds} ${LABEL[client]} ${codec} ${name}: ${Math.round(events / sample.seconds)} events/s, ${sample.cpuSeconds.toFixed(2)} CPU-s, broker ${sample.brokerCpuSeconds.toFixed(2)} CPU-s\n`);
      }
      await ask({ delete: topic });
    }
  }
  load.push(loadavg());
}
broker.disconnect();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sample = eventValues(1000);
const meanBytes = sample.reduce((sum, b) => sum + b.length, 0) / sample.length;
console.log(`Kafka clients through the fake broker: ${events.toLocaleString('en-US')} events (JSON, ${Math.round(meanBytes)} bytes each on average), ${rounds} rounds alternated; medians.`);
console.log(`load average (1 min) at start and after each round: ${load.map((l) => l[0]!.toFixed(2)).join(', ')}`);
console.log('');
console.log('| client | compression | phase | events/s | client CPU µs/event | peak RSS MiB | broker CPU µs/event | events/s ÷ platformatic | CPU/event ÷ platformatic |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
for (const codec of CODECS) {
  for (const name of PHASES) {
    const base = samples.get(keyOf('platformatic', codec, name))!;
    const baseRate = median(base.map((s) => events / s.seconds));
    const baseCpu = median(base.map((s) => (s.cpuSeconds / events) * 1e6));
    for (const client of CLIENTS) {
      const runs = samples.get(keyOf(client, codec, name))!;
      const rate = median(runs.map((s) => events / s.seconds));
      const cpu = median(runs.map((s) => (s.cpuSeconds / events) * 1e6));
      const brokerCpu = median(runs.map((s) => (s.brokerCpuSeconds / events) * 1e6));
      const rss = median(runs.map((s) => s.peakRssMiB));
      console.log(`| ${LABEL[client]} | ${codec} | ${name} | ${fmt(rate)} | ${cpu.toFixed(1)} | ${rss.toFixed(0)} | ${brokerCpu.toFixed(1)} | ${(rate / baseRate).toFixed(2)} | ${(cpu / baseCpu).toFixed(2)} |`);
    }
  }
}
