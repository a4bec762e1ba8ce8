// The top-level options of Vector's components that sluice also has, as Vector's generated
// reference lists them (vectordotdev/vector, website/cue/reference/components/<kind>/base/<type>.cue,
// at the commit named). vector-migration.test.ts holds docs/migrating-from-vector.md to them: every
// option here that sluice does not take has a row saying what to do instead, and no row names an
// option sluice takes. Core keys every component has (`type`, `inputs`, `buffer`, `healthcheck`,
// `acknowledgements`, `graph`) are left out: the core owns them.
export interface VectorComponentOptions {
  kind: 'sources' | 'transforms' | 'sinks';
  type: string;
  /** The commit of the .cue file read. */
  commit: string;
  options: string[];
}

export const VECTOR_OPTIONS: VectorComponentOptions[] = [
  {
    kind: 'sources',
    type: 'kubernetes_logs',
    commit: '05da6315e174c43caabac660721935d2e6a1eea5',
    options: [
      'auto_partial_merge', 'data_dir', 'delay_deletion_ms', 'exclude_paths_glob_patterns', 'extra_field_selector', 'extra_label_selector',
      'extra_namespace_label_selector', 'fingerprint_lines', 'glob_minimum_cooldown_ms', 'ignore_older_secs', 'include_paths_glob_patterns',
      'ingestion_timestamp_field', 'internal_metrics', 'kube_config_file', 'max_line_bytes', 'max_read_bytes', 'namespace_annotation_fields',
      'node_annotation_fields', 'oldest_first', 'pod_annotation_fields', 'read_from', 'rotate_wait_secs', 'self_node_name', 'timezone',
      'use_apiserver_cache',
    ],
  },
  {
    kind: 'sources',
    type: 'file',
    commit: '00981e9baafa69a20c6055f84d29a00338c9a6c0',
    // `internal_metrics` and `rotate_wait_secs` are newer than that commit (Vector 0.3x has them, as kubernetes_logs does).
    options: [
      'data_dir', 'encoding', 'exclude', 'file_key', 'fingerprint', 'glob_minimum_cooldown_ms', 'host_key', 'ignore_checkpoints',
      'ignore_not_found', 'ignore_older_secs', 'include', 'internal_metrics', 'line_delimiter', 'max_line_bytes', 'max_read_bytes',
      'message_start_indicator', 'multi_line_timeout', 'multiline', 'offset_key', 'oldest_first', 'read_from', 'remove_after_secs',
      'rotate_wait_secs', 'start_at_beginning',
    ],
  },
  {
    kind: 'sources',
    type: 'http_server',
    commit: '001e17b3f47c4bc44a30b622f564d5e2be7049d0',
    options: [
      'address', 'auth', 'decoding', 'encoding', 'framing', 'headers', 'method', 'path', 'path_key', 'query_parameters', 'response_code',
      'strict_path', 'tls',
    ],
  },
  {
    kind: 'sources',
    type: 'journald',
    commit: '06a072453386999a4e6ab324a24486bcd3c30460',
    options: [
      'batch_size', 'current_boot_only', 'data_dir', 'exclude_matches', 'exclude_units', 'include_matches', 'include_units', 'journal_directory',
      'journalctl_path', 'remap_priority', 'since_now', 'units',
    ],
  },
  { kind: 'sources', type: 'internal_logs', commit: '037e70943e603e8b81648f9eab0477dc7d8d3f0b', options: ['host_key', 'pid_key'] },
  {
    kind: 'sources',
    type: 'nats',
    commit: '012837649a36f1e6bd0dd6a6ea29d793efe66bbe',
    options: ['auth', 'connection_name', 'decoding', 'framing', 'queue', 'subject', 'tls', 'url'],
  },
  {
    kind: 'sources',
    type: 'kafka',
    commit: '03f2dcec5bdc7ddfca514ed318b8e1f45b2096a5',
    options: [
      'auto_offset_reset', 'bootstrap_servers', 'commit_interval_ms', 'decoding', 'drain_timeout_ms', 'fetch_wait_max_ms', 'framing', 'group_id',
      'headers_key', 'key_field', 'librdkafka_options', 'metrics', 'offset_key', 'partition_key', 'sasl', 'session_timeout_ms', 'socket_timeout_ms',
      'tls', 'topic_key', 'topics',
    ],
  },
  { kind: 'sources', type: 'opentelemetry', commit: '095c989e7cd5f040c4156c9d93d2ac001398ff03', options: ['grpc', 'http'] },
  { kind: 'sources', type: 'stdin', commit: '03f2dcec5bdc7ddfca514ed318b8e1f45b2096a5', options: ['decoding', 'framing', 'host_key', 'max_length'] },
  {
    kind: 'sources',
    type: 'demo_logs',
    commit: '0547b473541ad5629980119f542906f580bff28f',
    options: ['count', 'decoding', 'format', 'framing', 'interval', 'lines', 'sequence'],
  },
  {
    kind: 'sinks',
    type: 'http',
    commit: '01171dfc702b3d51ef21d4bef1ce2a9a68a0950c',
    options: ['auth', 'batch', 'compression', 'encoding', 'framing', 'headers', 'method', 'payload_prefix', 'payload_suffix', 'request', 'tls', 'uri'],
  },
  { kind: 'sinks', type: 'file', commit: '01171dfc702b3d51ef21d4bef1ce2a9a68a0950c', options: ['compression', 'encoding', 'framing', 'idle_timeout_secs', 'path'] },
  { kind: 'sinks', type: 'console', commit: '01171dfc702b3d51ef21d4bef1ce2a9a68a0950c', options: ['encoding', 'framing', 'target'] },
  { kind: 'sinks', type: 'blackhole', commit: '0b5e8beeb8c5c9c4d8eff7b841b6c424e5d44d85', options: ['print_interval_secs', 'rate'] },
  {
    kind: 'sinks',
    type: 'elasticsearch',
    commit: '0171109879caf1e5e1beb680389e716b482a4f38',
    options: [
      'auth', 'aws', 'batch', 'bulk', 'compression', 'data_stream', 'distribution', 'doc_type', 'encoding', 'endpoint', 'endpoints', 'id_key',
      'metrics', 'mode', 'pipeline', 'query', 'request', 'suppress_type_name', 'tls',
    ],
  },
  {
    kind: 'sinks',
    type: 'loki',
    commit: '001405bbf0817688031a23e947a21410dda7361f',
    options: [
      'auth', 'batch', 'compression', 'encoding', 'endpoint', 'labels', 'out_of_order_action', 'path', 'remove_label_fields',
      'remove_structured_metadata_fields', 'remove_timestamp', 'request', 'structured_metadata', 'tenant_id', 'tls',
    ],
  },
  {
    kind: 'sinks',
    type: 'aws_s3',
    commit: '01171dfc702b3d51ef21d4bef1ce2a9a68a0950c',
    options: [
      'acl', 'auth', 'batch', 'bucket', 'compression', 'content_encoding', 'content_type', 'encoding', 'endpoint', 'filename_append_uuid',
      'filename_extension', 'filename_time_format', 'framing', 'grant_full_control', 'grant_read', 'grant_read_acp', 'grant_write_acp',
      'key_prefix', 'region', 'request', 'server_side_encryption', 'ssekms_key_id', 'storage_class', 'tags', 'tls',
    ],
  },
  {
    kind: 'sinks',
    type: 'splunk_hec_logs',
    commit: '01171dfc702b3d51ef21d4bef1ce2a9a68a0950c',
    options: [
      'auto_extract_timestamp', 'batch', 'compression', 'default_token', 'encoding', 'endpoint', 'endpoint_target', 'host_key', 'index',
      'indexed_fields', 'request', 'source', 'sourcetype', 'timestamp_key', 'tls',
    ],
  },
  {
    kind: 'sinks',
    type: 'datadog_logs',
    commit: '00981e9baafa69a20c6055f84d29a00338c9a6c0',
    options: ['batch', 'compression', 'default_api_key', 'encoding', 'endpoint', 'region', 'request', 'site', 'tls'],
  },
  {
    kind: 'sinks',
    type: 'nats',
    commit: '01171dfc702b3d51ef21d4bef1ce2a9a68a0950c',
    options: ['auth', 'connection_name', 'encoding', 'request', 'subject', 'tls', 'url'],
  },
  {
    kind: 'sinks',
    type: 'kafka',
    commit: '01171dfc702b3d51ef21d4bef1ce2a9a68a0950c',
    // `healthcheck_topic` is newer than that commit (sluice has it as well).
    options: [
      'batch', 'bootstrap_servers', 'compression', 'encoding', 'headers_key', 'key_field', 'librdkafka_options', 'message_timeout_ms', 'sasl',
      'socket_timeout_ms', 'tls', 'topic',
    ],
  },
  {
    kind: 'sinks',
    type: 'aws_cloudwatch_logs',
    commit: '01171dfc702b3d51ef21d4bef1ce2a9a68a0950c',
    options: [
      'auth', 'batch', 'compression', 'create_missing_group', 'create_missing_stream', 'encoding', 'endpoint', 'group_name', 'region', 'request',
      'stream_name', 'tls',
    ],
  },
  {
    kind: 'sinks',
    type: 'gcp_stackdriver_logs',
    commit: '0a64f846a9f6c7f77df571b04cc23ab9cf90f065',
    options: [
      'api_key', 'batch', 'billing_account_id', 'credentials_path', 'encoding', 'folder_id', 'log_id', 'organization_id', 'project_id', 'request',
      'resource', 'severity_key', 'tls',
    ],
  },
  // Vector's opentelemetry sink has one top-level option, `protocol` (`configuration: protocol: {`), holding the HTTP sink's options.
  { kind: 'sinks', type: 'opentelemetry', commit: 'ef4e200b729a4e00c21a2b6ed6c7a784e692f786', options: ['protocol'] },
  {
    kind: 'transforms',
    type: 'remap',
    commit: '34c73eaed370be8416f32da9bde86a63e2e2eb9c',
    options: ['drop_on_abort', 'drop_on_error', 'file', 'metric_tags_values', 'reroute_dropped', 'runtime', 'source', 'timezone'],
  },
  { kind: 'transforms', type: 'filter', commit: 'ed61f5c7d9690016f399db34c4cf3b81947ebc28', options: ['condition'] },
  { kind: 'transforms', type: 'route', commit: '2c6fee11e60480738f13a601c2b475557196e948', options: ['route'] },
  { kind: 'transforms', type: 'sample', commit: '0309af91a0b2dbc48e3949490fb0f95a3164ddd4', options: ['exclude', 'key_field', 'rate', 'sample_rate_key'] },
  { kind: 'transforms', type: 'throttle', commit: '0171109879caf1e5e1beb680389e716b482a4f38', options: ['exclude', 'key_field', 'threshold', 'window_secs'] },
  { kind: 'transforms', type: 'dedupe', commit: '1897bf54102cd7eab65c458e990e82dc1bac1ff3', options: ['cache', 'fields'] },
];
