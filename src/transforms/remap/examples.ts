import type { ComponentExample } from '../../core/component.js';

/** Shown on docs/reference/transforms/remap.md; the first is the README's (a test keeps them equal). */
export const REMAP_EXAMPLES: readonly ComponentExample[] = [
  {
    title: 'A typical Kubernetes remap',
    description:
      'Parse JSON application logs into fields (other lines pass as they are), drop noisy fields, add the cluster name. The program is type-checked when the config loads.',
    toml: `[transforms.app_logs]
type = "remap"
inputs = ["k8s"]
source = '''
  # JSON app logs: lift their fields to the top level; other lines stay as they are.
  . |= object(parse_json(.message) ?? {}) ?? {}
  # Noisy fields
  del(.stream)
  del(.kubernetes.pod_annotations)
  del(.kubernetes.pod_uid)
  .cluster = "prod-eu-1"
'''
`,
  },
  {
    title: 'Drop health checks, keep failures aside',
    description:
      '`abort` drops an event (`drop_on_abort`, the default); with `reroute_dropped` dropped and failed events go to `<id>.dropped` with `metadata.dropped` saying why, for a sink of their own.',
    toml: `[transforms.access]
type = "remap"
inputs = ["k8s"]
drop_on_error = true
reroute_dropped = true
source = '''
  if contains(.message, "GET /healthz") { abort }
  . |= parse_nginx_log!(.message, "combined")
  .server_error = int!(.status) >= 500
'''
`,
  },
];
