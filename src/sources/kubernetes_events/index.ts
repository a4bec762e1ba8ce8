import { registerSource } from '../../core/registry.js';
import { kubernetesEventsSchema } from './config.js';
import { KubernetesEventsSource } from './source.js';

registerSource({
  type: 'kubernetes_events',
  description: 'Kubernetes Events (events.k8s.io/v1), one event per change; one replica emits (Lease leader election).',
  schema: kubernetesEventsSchema,
  build: (config, ctx) => new KubernetesEventsSource(config, ctx),
});
