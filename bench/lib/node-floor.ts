// The memory floor of a Node.js agent, measured: a bare `node -e` started with the agent's flags and
// NODE_OPTIONS, sampled by memory-sampler.cjs's own `sample()` (the same figures as the agent's log).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { breakdown, type Floor, type MemorySample } from './memory-breakdown.js';

const run = promisify(execFile);

/** The sampler is plain CommonJS, used from the source tree (tsc does not copy it). */
export const MEMORY_SAMPLER = join(import.meta.dirname, '..', '..', '..', 'bench', 'lib', 'memory-sampler.cjs');

/** Idle: 300 ms after start. Churned: after ~4M short-lived objects with a sliding window of live ones (a busy agent's young generation). */
const script = (churn: boolean): string => `
const { sample } = require(${JSON.stringify(MEMORY_SAMPLER)});
${churn ? "const live = []; for (let i = 0; i < 4000000; i++) { live.push({ i, text: 'line ' + i }); if (live.length > 20000) live.splice(0, 10000); }" : ''}
setTimeout(() => console.log(JSON.stringify(sample())), 300);
`;

export async function measureNodeFloor(nodeArgs: string[], nodeOptions: string): Promise<Floor & { flags: string }> {
  const one = async (churn: boolean): Promise<MemorySample> => {
    const { stdout } = await run(process.execPath, [...nodeArgs, '-e', script(churn)], { env: { ...process.env, NODE_OPTIONS: nodeOptions } });
    return JSON.parse(stdout) as MemorySample;
  };
  const idle = await one(false);
  const churned = await one(true);
  return { idle: breakdown(idle), churned: breakdown(churned), flags: `${nodeArgs.join(' ') || '(none)'}; NODE_OPTIONS ${nodeOptions || '(none)'}` };
}
