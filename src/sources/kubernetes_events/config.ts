import { hostname } from 'node:os';
import { z } from 'zod';

export const kubernetesEventsSchema = z.strictObject({
  kube_config_file: z
    .string()
    .min(1)
    .optional()
    .describe('A kubeconfig file; unset: in-cluster (service account token + CA, KUBERNETES_SERVICE_HOST).'),
  namespaces: z.array(z.string().min(1)).default([]).describe('Namespaces whose Events are collected (one watch each); empty = all (one cluster-wide watch).'),
  field_selector: z.string().default('').describe('Field selector of the Events watch, e.g. "type=Warning" or "regarding.kind=Pod"; "" selects every Event.'),
  label_selector: z.string().default('').describe('Label selector of the Events watch; "" selects every Event.'),
  initial_lookback_secs: z
    .number()
    .min(0)
    .default(60)
    .describe('At the very first start (no progress recorded on the Lease), Events younger than this are emitted, older ones are not.'),
  leader_election: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Only the holder of the Lease emits; false: every replica emits, from initial_lookback_secs at each start (run exactly one).'),
      lease_name: z.string().min(1).default('sluice-events').describe('Name of the coordination.k8s.io Lease the replicas compete for; it also records the progress a new leader resumes from.'),
      lease_namespace: z.string().min(1).optional().describe('Default: $SLUICE_POD_NAMESPACE, else "default". It must exist.'),
      lease_duration_secs: z
        .number()
        .min(1)
        .default(15)
        .describe('How long (s) a leader\'s claim lasts without renewal: a standby takes over at most this long (plus one retry period) after the holder died.'),
      identity: z.string().min(1).optional().describe('Written as the Lease holderIdentity, exactly; default: $SLUICE_POD_NAME, else the hostname.'),
    })
    .prefault({})
    .describe('Run several replicas with one emitting at a time (no duplicate Events), chosen through a Lease.'),
});

export type KubernetesEventsConfig = z.infer<typeof kubernetesEventsSchema>;

export function leaseNamespace(config: KubernetesEventsConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.leader_election.lease_namespace ?? (env.SLUICE_POD_NAMESPACE || 'default');
}

export function leaseIdentity(config: KubernetesEventsConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.leader_election.identity ?? (env.SLUICE_POD_NAME || hostname());
}
