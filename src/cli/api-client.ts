// `sluice tap` and `sluice top` alone: they only talk to a running agent's API, so they load
// neither the agent nor its components and answer at once. `sluice --help` (main.ts) lists them too.
import { Command } from 'commander';
import { ExitCode } from '../core/exit-code.js';
import { VERSION } from '../version.js';
import { registerTap } from './tap.js';
import { registerTop } from './top.js';

const program = new Command('sluice')
  .version(VERSION, '-V, --version')
  .exitOverride((error) => process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage))
  .showHelpAfterError();
registerTap(program);
registerTop(program);
await program.parseAsync();
