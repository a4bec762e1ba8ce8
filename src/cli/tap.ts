import { request } from 'node:http';
import { Command, InvalidArgumentError, Option } from 'commander';
import { endpoint, unreachable, urlOption } from './api-url.js';

/**
 * `sluice tap`: print the events flowing out of (or into) components of a running agent, one
 * JSON line per event, as the json codec encodes it. Reads `GET /tap` (see src/core/api.ts);
 * notices (subscription, dropped events) go to stderr so stdout stays pure NDJSON.
 */
export interface TapOptions {
  url: string;
  outputsOf: string[];
  inputsOf: string[];
  limit?: number;
  maxRate?: number;
  meta: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split(',').filter(Boolean)];
const positiveInteger = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

export function registerTap(program: Command): void {
  program
    .command('tap')
    .description('print events leaving (--outputs-of) or entering (--inputs-of) components of a running agent, one JSON line each')
    .addOption(urlOption())
    .addOption(new Option('--outputs-of <glob>', 'component ids (glob) whose output to show; repeatable or comma-separated').argParser(collect).default([]))
    .addOption(new Option('--inputs-of <glob>', 'component ids (glob) whose input to show; repeatable or comma-separated').argParser(collect).default([]))
    .addOption(new Option('--limit <n>', 'exit after this many events').argParser(positiveInteger))
    .addOption(new Option('--max-rate <n>', 'show at most N events a second (the agent samples the rest out; default 1000)').argParser(positiveInteger))
    .addOption(new Option('--meta', 'print the wire line: {"component_id": ..., "event": ...}').default(false))
    .addHelpText('after', '\nWithout --outputs-of or --inputs-of, every output is shown. Sampled when events flow faster than they can be printed.')
    .action(async (opts: TapOptions) => process.exit(await tap(opts)));
}

export async function tap(opts: TapOptions): Promise<number> {
  const url = endpoint(opts.url, '/tap');
  if (opts.outputsOf.length > 0) url.searchParams.set('outputs_of', opts.outputsOf.join(','));
  if (opts.inputsOf.length > 0) url.searchParams.set('inputs_of', opts.inputsOf.join(','));
  if (opts.limit !== undefined) url.searchParams.set('limit', String(opts.limit));
  if (opts.maxRate !== undefined) url.searchParams.set('max_rate', String(opts.maxRate));
  // `sluice tap | head`: a closed stdout ends the tap quietly.
  process.stdout.on('error', () => process.exit(0));

  return new Promise<number>((resolve) => {
    let printed = 0;
    const req = request(url, { headers: { accept: 'application/x-ndjson' } }, (res) => {
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          let reason = body.trim();
          try {
            reason = (JSON.parse(body) as { error?: string }).error ?? reason;
          } catch {
            // not JSON: print it as it came
          }
          process.stderr.write(`sluice tap: ${url.origin} answered ${res.statusCode}: ${reason}\n`);
          resolve(1);
        });
        return;
      }
      let rest = '';
      const done = (code: number): void => {
        printNotShown(true);
        req.destroy();
        resolve(code);
      };
      res.on('data', (chunk: string) => {
        rest += chunk;
        let newline: number;
        while ((newline = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, newline);
          rest = rest.slice(newline + 1);
          if (line === '') continue;
          const event = eventText(line);
          if (event === undefined) {
            printNotice(line);
            continue;
          }
          // Slow terminal: stop reading; the agent drops for us rather than waiting.
          if (!process.stdout.write((opts.meta ? line : event) + '\n')) {
            res.pause();
            process.stdout.once('drain', () => res.resume());
          }
          if (++printed === opts.limit) {
            process.stdout.write('', () => done(0));
            return;
          }
        }
      });
      // 'end' when the agent ends the stream, only 'close' when it drops the connection (shutdown).
      const ended = (): void => {
        printNotShown(true);
        if (opts.limit !== undefined && printed < opts.limit) {
          process.stderr.write(`sluice tap: the agent ended the stream after ${printed} of ${opts.limit} events\n`);
          resolve(1);
        } else {
          if (opts.limit === undefined) process.stderr.write(`sluice tap: the agent closed the stream (${printed} events)\n`);
          resolve(0);
        }
      };
      res.on('error', () => undefined);
      res.on('close', ended);
    });
    req.on('error', (error) => {
      if (opts.limit !== undefined && printed >= opts.limit) return;
      process.stderr.write(unreachable('tap', url, error));
      resolve(1);
    });
    req.end();
  });
}

const EVENT_PREFIX = /^\{"component_id":"[^"\\]*","event":/;

/** The event's own JSON, byte for byte as the agent encoded it; undefined for a notice line. */
export function eventText(line: string): string | undefined {
  const match = EVENT_PREFIX.exec(line);
  if (!match || !line.endsWith('}')) return undefined;
  return line.slice(match[0].length, -1);
}

/** Events the agent did not send us, told on stderr at most once a second (a notice can come with every chunk). */
const notShown = { dropped: 0, sampledOut: 0, droppedTotal: 0, sampledOutTotal: 0, lastPrinted: 0, sampleNotice: '' };

function printNotShown(force: boolean): void {
  if (notShown.dropped === 0 && notShown.sampledOut === 0) return;
  if (!force && Date.now() - notShown.lastPrinted < 1000) return;
  notShown.lastPrinted = Date.now();
  if (notShown.sampledOut > 0) process.stderr.write(`sluice tap: ${notShown.sampledOut} events not shown (${notShown.sampledOutTotal} in all): ${notShown.sampleNotice}\n`);
  if (notShown.dropped > 0) process.stderr.write(`sluice tap: ${notShown.dropped} events dropped (${notShown.droppedTotal} in all): this client reads slower than events flow\n`);
  notShown.dropped = notShown.sampledOut = 0;
}

function printNotice(line: string): void {
  try {
    const notice = JSON.parse(line) as { notice?: string; dropped?: number; dropped_total?: number; sampled_out?: number; sampled_out_total?: number; outputs_of?: string[]; inputs_of?: string[] };
    if (notice.notice === 'tapping') {
      const what = [notice.outputs_of?.length ? `outputs of ${notice.outputs_of.join(',')}` : '', notice.inputs_of?.length ? `inputs of ${notice.inputs_of.join(',')}` : '']
        .filter(Boolean)
        .join(' and ');
      process.stderr.write(`sluice tap: tapping ${what}\n`);
    } else if (notice.dropped !== undefined || notice.sampled_out !== undefined) {
      if (notice.dropped !== undefined) {
        notShown.dropped += notice.dropped;
        notShown.droppedTotal = notice.dropped_total ?? notShown.droppedTotal + notice.dropped;
      } else {
        notShown.sampledOut += notice.sampled_out!;
        notShown.sampledOutTotal = notice.sampled_out_total ?? notShown.sampledOutTotal + notice.sampled_out!;
        notShown.sampleNotice = notice.notice ?? '';
      }
      printNotShown(false);
    } else process.stderr.write(`sluice tap: ${line}\n`);
  } catch {
    process.stderr.write(`sluice tap: unexpected line: ${line}\n`);
  }
}
