import { registerSource } from '../../core/registry.js';
import { kubernetesLogsSchema } from './config.js';
import { KubernetesLogsSource } from './source.js';
import { KUBERNETES_LOGS_EXAMPLES } from './examples.js';

registerSource({
  type: 'kubernetes_logs',
  description: 'Container logs of the pods on this node (CRI and Docker json-file), with pod metadata.',
  schema: kubernetesLogsSchema,
  examples: KUBERNETES_LOGS_EXAMPLES,
  build: (config, ctx) => new KubernetesLogsSource(config, ctx),
});
