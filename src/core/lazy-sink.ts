import type { Sink } from './component.js';

/**
 * A sink whose implementation module is imported only when the topology uses it. Registering a
 * sink needs only its schema; its client libraries (undici, the AWS SDK) cost 10-20 MiB of
 * resident memory on every node, so a node that never ships to S3 never loads the SDK.
 */
export function lazySink(load: () => Promise<Sink>): Sink {
  let loading: Promise<Sink> | undefined;
  const sink = (): Promise<Sink> => (loading ??= load());
  return {
    async healthcheck() {
      await (await sink()).healthcheck?.();
    },
    async run(input) {
      await (await sink()).run(input);
    },
  };
}
