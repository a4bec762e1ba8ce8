// The full `sluice` program (run, validate, test, vrl, generate-*, tap, top); see ../cli.ts.
import { Command, InvalidArgumentError, Option } from 'commander';
import '../component-catalog.js';
import { ExitCode, runAgent } from '../core/agent.js';
import { ConfigError } from '../core/config/errors.js';
import { configJsonSchema } from '../core/config/json-schema.js';
import { loadConfigAndComponents, type AgentConfig } from '../core/config/load.js';
import { loadAllComponents } from '../core/registry.js';
import { logCrashes } from '../core/lifecycle.js';
import { adjustLevel, createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../core/logger.js';
import { MetricsRegistry } from '../core/metrics.js';
import { checkSinkHealth } from '../core/topology/healthcheck.js';
import { planTopology } from '../core/topology/plan.js';
import { registerTap } from './tap.js';
import { registerTop } from './top.js';
import { VERSION } from '../version.js';


interface RunOptions {
  config: string[] | string;
  configDir: string[];
  gracefulShutdownLimitSecs: number;
  requireHealthy: boolean;
  watchConfig: boolean;
  logLevel: string;
  logFormat: LogFormat;
  /** How many -v / -q were given. */
  verbose: number;
  quiet: number;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const increment = (_: string, previous: number): number => previous + 1;
const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

const configOptions = (command: Command): Command =>
  command
    .addOption(new Option('-c, --config <file>', 'config file (TOML, YAML or JSON); repeatable').argParser(collect).default([]).env('SLUICE_CONFIG'))
    .addOption(new Option('-C, --config-dir <dir>', 'load every .toml/.yaml/.yml/.json file in DIR; repeatable').argParser(collect).default([]));

const program = new Command('sluice')
  .description('A Kubernetes log agent: reads container logs, enriches them with pod metadata, ships them with end-to-end acknowledgements.')
  .version(VERSION, '-V, --version')
  .exitOverride((error) => process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage))
  .enablePositionalOptions()
  .showHelpAfterError();

configOptions(program)
  .addOption(new Option('--graceful-shutdown-limit-secs <secs>', 'on SIGTERM/SIGINT, drain for at most this long, then exit 124').argParser(positiveNumber).default(60))
  .addOption(new Option('--require-healthy', 'start only once every sink healthcheck passes: with the API on, retry (backoff to 30 s) while /started answers 503; without it, exit 1').default(false))
  .addOption(new Option('-w, --watch-config', 'reload the config when one of its files changes (as on SIGHUP)').default(false))
  .addOption(new Option('-l, --log-level <level>', 'internal log level').choices(LOG_LEVELS).default('info').env('SLUICE_LOG'))
  .addOption(new Option('--log-format <format>', 'internal logs as JSON lines or human-readable text lines').choices(LOG_FORMATS).default('json').env('SLUICE_LOG_FORMAT'))
  .addOption(new Option('-v, --verbose', 'one log level more detailed than --log-level; repeatable (-vv)').argParser(increment).default(0))
  .addOption(new Option('-q, --quiet', 'one log level less detailed than --log-level; repeatable (-qq)').argParser(increment).default(0))
  .addHelpText(
    'after',
    '\nSIGHUP reloads the config (the same --config/--config-dir sources); an invalid one is logged and the running one stays.\n' +
      '\nExit codes: 0 clean shutdown, 1 runtime or startup failure, 2 usage error, 78 invalid config,\n124 graceful shutdown limit reached, 130/143 second SIGINT/SIGTERM (no drain).',
  )
  .action(async (opts: RunOptions) => {
    const logger = createLogger(adjustLevel(opts.logLevel, opts.verbose, opts.quiet), opts.logFormat);
    logCrashes(logger);
    try {
      const code = await runAgent({
        config: { files: toList(opts.config), dirs: opts.configDir },
        logger,
        gracefulShutdownLimitSecs: opts.gracefulShutdownLimitSecs,
        requireHealthy: opts.requireHealthy,
        watchConfig: opts.watchConfig,
      });
      process.exit(code);
    } catch (error) {
      if (error instanceof ConfigError) {
        printProblems(error.problems);
        process.exit(ExitCode.config);
      }
      throw error;
    }
  });

configOptions(program.command('validate'))
  .description('check config files and topology without running; exit 0 when valid, 78 with every problem listed otherwise')
  .option('--no-environment', "skip checks of this machine (files the config names exist and are readable): to validate away from the node, in CI")
  .option('--healthchecks', "also run each sink's healthcheck (as the agent does at start); exit 1 naming the sinks that fail")
  .action(async (opts: { config: string[] | string; configDir: string[]; environment: boolean; healthchecks?: boolean }) => {
    let config: AgentConfig;
    try {
      config = await loadConfigAndComponents({ files: toList(opts.config), dirs: opts.configDir }, process.env, { environment: opts.environment, tests: true });
      const plan = planTopology(config);
      for (const warning of plan.warnings) process.stderr.write(`warning: ${warning}\n`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      printProblems(error.problems);
      process.exit(ExitCode.config);
    }
    const count = (kind: string) => config.components.filter((c) => c.kind === kind).length;
    process.stdout.write(
      `valid: ${config.files.length} file(s), ${count('source')} source(s), ${count('transform')} transform(s), ${count('sink')} sink(s)\n`,
    );
    if (opts.healthchecks) {
      const results = await checkSinkHealth(config, { logger: createLogger('silent'), metrics: new MetricsRegistry() });
      const failed = results.filter((r) => r.status === 'failed');
      const shown = { passed: 'healthcheck passed', none: 'no healthcheck', disabled: 'healthcheck disabled' } as const;
      for (const r of results) if (r.status !== 'failed') process.stdout.write(`${shown[r.status]}: sinks.${r.id}\n`);
      if (failed.length > 0) {
        process.stderr.write(`healthcheck failed (${failed.length} sink${failed.length === 1 ? '' : 's'}):\n`);
        for (const r of failed) process.stderr.write(`  ${r.file}: sinks.${r.id}: ${r.error}\n`);
        process.exit(ExitCode.failed);
      }
    }
    process.exit(ExitCode.ok);
  });

program
  .command('generate-schema')
  .description('print the JSON Schema of the configuration (derived from the same schemas that validate it)')
  .action(async () => {
    await loadAllComponents();
    process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
  });

// `sluice generate-docs`: the configuration reference, rendered from the same schemas (src/core/config/reference-docs.ts).
program
  .command('generate-docs')
  .description('write the configuration reference (one Markdown page per component, plus global.md) from the config schemas')
  .option('-o, --out <dir>', 'directory to write into', 'docs/reference')
  .action(async (opts: { out: string }) => {
    const { writeReferenceDocs } = await import('../core/config/reference-docs.js');
    await loadAllComponents();
    const written = writeReferenceDocs(opts.out);
    process.stdout.write(`wrote ${written} pages to ${opts.out}\n`);
  });

// Live view of a running agent, through its API (`GET /tap`, `GET /components`).
registerTap(program);
registerTop(program);

// `sluice test`: the config's [[tests]] run against its transforms only (src/cli/test-runner.ts).
configOptions(program.command('test'))
  .description('run the unit tests ([[tests]]) of the config\'s transforms; exit 0 when all pass, 1 when one fails, 78 on an invalid config or test')
  .action(async (opts: { config: string[] | string; configDir: string[] }) => {
    const { runConfigTests } = await import('./test-runner.js');
    try {
      // No source runs, so the machine's files the config names need not exist.
      const config = await loadConfigAndComponents({ files: toList(opts.config), dirs: opts.configDir }, process.env, { environment: false, tests: true });
      process.exit(runConfigTests(config, (line) => process.stdout.write(`${line}\n`)));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      printProblems(error.problems);
      process.exit(ExitCode.config);
    }
  });

// `sluice vrl`: try a remap (VRL) program on sample events (src/transforms/remap/cli.ts).
program
  .command('vrl')
  .description('run a VRL program over JSON-lines events and print each result (or each event with --print-object)')
  .option('-p, --program <file>', 'the VRL program (without it, on a terminal: an interactive REPL)')
  .option('-i, --input <file>', 'events, one JSON object a line (default: one empty event)')
  .option('-o, --print-object', 'print the event after the program instead of its result value', false)
  .option('-z, --timezone <zone>', 'zone of offset-less timestamps parse_timestamp and the log parsers read (a tz database name or "local"; default UTC)')
  .action(async (opts: { program?: string; input?: string; printObject: boolean; timezone?: string }) => {
    const { runVrlCli, runVrlRepl } = await import('../transforms/remap/cli.js');
    process.exit(opts.program === undefined ? await runVrlRepl(opts) : runVrlCli({ ...opts, program: opts.program }));
  });

function toList(value: string[] | string): string[] {
  return typeof value === 'string' ? value.split(',').filter(Boolean) : value;
}

function printProblems(problems: readonly string[]): void {
  process.stderr.write(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n`);
  for (const problem of problems) process.stderr.write(`  ${problem}\n`);
}

await program.parseAsync();
