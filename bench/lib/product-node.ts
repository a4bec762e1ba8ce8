// How the product image starts node (Dockerfile ENTRYPOINT flags and ENV NODE_OPTIONS): the
// benchmarks start the agent the same way, so they measure what a DaemonSet runs, not bare node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DOCKERFILE = join(import.meta.dirname, '..', '..', '..', 'Dockerfile');

export interface NodeLaunch {
  /** Node flags of the ENTRYPOINT, between the node binary and the script. */
  flags: string[];
  /** The image's NODE_OPTIONS (empty when it sets none). */
  nodeOptions: string;
}

export function productNodeLaunch(dockerfile = DOCKERFILE): NodeLaunch {
  const text = readFileSync(dockerfile, 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(text)?.[1];
  if (entrypoint === undefined) throw new Error(`${dockerfile}: no ENTRYPOINT in exec form`);
  const argv = JSON.parse(entrypoint) as string[];
  const script = argv.findIndex((arg, i) => i > 0 && !arg.startsWith('-'));
  const nodeOptions = /^ENV NODE_OPTIONS=(?:"([^"]*)"|(\S+))$/m.exec(text);
  return { flags: argv.slice(1, script < 0 ? argv.length : script), nodeOptions: nodeOptions?.[1] ?? nodeOptions?.[2] ?? '' };
}

/** Flags of BENCH_NODE_ARGS (experiments; placed after the product's, so they win). */
export const benchNodeArgs = (): string[] => process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

/** `node` arguments and environment for a benchmark's agent: the product's launch, then `extraFlags`. */
export function agentLaunch(extraFlags: readonly string[] = []): { nodeArgs: string[]; env: NodeJS.ProcessEnv } {
  const product = productNodeLaunch();
  return {
    nodeArgs: [...product.flags, ...extraFlags],
    env: { ...process.env, NODE_OPTIONS: product.nodeOptions },
  };
}

/** One line naming the node settings a benchmark ran the agent with. */
export function describeLaunch(extraFlags: readonly string[] = benchNodeArgs()): string {
  const { nodeArgs, env } = agentLaunch(extraFlags);
  return `agent node flags: ${nodeArgs.join(' ') || '(none)'}; NODE_OPTIONS: ${env.NODE_OPTIONS || '(none)'}`;
}
