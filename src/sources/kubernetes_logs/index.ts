import { registerSource } from '../../core/registry.js';
import { kubernetesLogsSchema } from './config.js';
import { KubernetesLogsSource } from './source.js';

registerSource({
  type: 'kubernetes_logs',
  description: 'Container logs of the pods on this node (CRI and Docker json-file), with pod metadata.',
  schema: kubernetesLogsSchema,
  build: (config, ctx) => new KubernetesLogsSource(config, ctx),
});
