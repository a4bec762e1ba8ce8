import { z } from 'zod';
import { tailerOptionsSchema } from '../../tailer/options.js';

const globs = z.array(z.string().min(1)).default([]);

export const kubernetesLogsSchema = z.strictObject({
  /** Where kubelet writes `<namespace>_<pod>_<uid>/<container>/<n>.log`. */
  log_directory: z.string().min(1).default('/var/log/pods'),
  /** Globs over the full path; empty = every container log. */
  include_paths_glob_patterns: globs,
  exclude_paths_glob_patterns: globs,
  /** Globs over the namespace / pod name / container name read from the path. */
  include_namespaces: globs,
  exclude_namespaces: globs,
  include_pod_names: globs,
  exclude_pod_names: globs,
  include_container_names: globs,
  exclude_container_names: globs,
  /** Merge lines the runtime split (CRI `P`...`F`, Docker `log` without `\n`), per stream. */
  auto_partial_merge: z.boolean().default(true),
  /** A merged message reaching this size is emitted as is (counted); the rest starts a new event. */
  max_merged_line_bytes: z.number().int().min(1024).default(1024 * 1024),
  /** Also read the pre-1.14 `/var/log/containers/*.log` links (resolved: each file is read once). */
  use_legacy_container_links: z.boolean().default(false),
  legacy_container_links_directory: z.string().min(1).default('/var/log/containers'),
  ...tailerOptionsSchema,
});

export type KubernetesLogsConfig = z.infer<typeof kubernetesLogsSchema>;
