import { z } from 'zod';
// options.js only: the metadata index loads the Kubernetes client, which path-only runs never need.
import { kubernetesMetadataOptionsShape } from '../../kubernetes/metadata/options.js';
import { tailerOptionsSchema } from '../../tailer/options.js';
import { checkShapingDefaults, podShapingOptionsShape } from './pod-parsers.js';

const globs = (what: string) => z.array(z.string().min(1)).default([]).describe(what);

export const kubernetesLogsSchema = z.strictObject({
  log_directory: z
    .string()
    .min(1)
    .default('/var/log/pods')
    .describe('Where kubelet writes <namespace>_<pod>_<uid>/<container>/<restart>.log.'),
  include_paths_glob_patterns: globs('picomatch globs over the full file path, compiled once and applied before a file is opened; a file is read only if one matches (empty = all). exclude_paths_glob_patterns wins.'),
  exclude_paths_glob_patterns: globs('picomatch globs over the full file path of files never read (checked before a file is opened; wins over the include globs).'),
  include_namespaces: globs('Globs over the namespace in the path; empty = all namespaces. exclude_namespaces wins.'),
  exclude_namespaces: globs('Globs over the namespace in the path of pods never read.'),
  include_pod_names: globs('Globs over the pod name in the path; empty = all pods. exclude_pod_names wins.'),
  exclude_pod_names: globs('Globs over the pod name in the path of pods never read.'),
  include_container_names: globs('Globs over the container name in the path; empty = all containers. exclude_container_names wins.'),
  exclude_container_names: globs('Globs over the container name in the path of containers never read.'),
  auto_partial_merge: z
    .boolean()
    .default(true)
    .describe('Merge lines the runtime split (CRI P...F, Docker log without a trailing newline), per file and per stream.'),
  max_merged_line_bytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024)
    .describe('A merged message reaching this size is emitted as it is (counted as merged_line_too_long); the rest starts a new event.'),
  use_legacy_container_links: z
    .boolean()
    .default(false)
    .describe('Also follow the pre-1.14 /var/log/containers/*.log links (resolved to their targets: each file is read once).'),
  legacy_container_links_directory: z.string().min(1).default('/var/log/containers').describe('Where the legacy links live.'),
  docker_containers_directory: z
    .string()
    .min(1)
    .default('/var/lib/docker/containers')
    .describe('Docker json-file nodes: where the files behind the <log_directory> links live. The only place outside log_directory a link may lead; any other link is refused (counted as link_outside_root).'),
  pod_metadata: z
    .enum(['auto', 'api', 'path'])
    .default('auto')
    .describe(
      'Where pod metadata comes from: "api" (the Kubernetes API or kubelet, see metadata_source), "path" (the log path only: namespace, pod, uid, container), "auto" = api when kube_config_file is set or sluice runs in a cluster (KUBERNETES_SERVICE_HOST), else path. With "path", sluice\'s own pod (SLUICE_POD_NAME / SLUICE_POD_NAMESPACE) is still excluded.',
    ),
  ...kubernetesMetadataOptionsShape,
  ...podShapingOptionsShape,
  ...tailerOptionsSchema,
  // Vector's default for this source: fs events find new pods within milliseconds, so the full
  // rescan is only a safety net, and on a node with hundreds of pods each rescan lists every
  // pod and container directory (measured: ~0.3 % of a core at 5 s on 110 pods).
  glob_minimum_cooldown_ms: tailerOptionsSchema.glob_minimum_cooldown_ms
    .unwrap()
    .default(60_000)
    .describe('Period (ms, at least 10) of the full rescan of the pod directories; filesystem events find new pods within milliseconds, so the rescan is only a safety net (the file source\'s default is 5000).'),
}).superRefine(checkShapingDefaults);

export type KubernetesLogsConfig = z.infer<typeof kubernetesLogsSchema>;
