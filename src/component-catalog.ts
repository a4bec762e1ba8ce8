// The composition root: every component type, by name, with the import that registers it. The agent
// loads a component's module (its schema and implementation) only when a config uses its type;
// src/components.ts loads them all (JSON Schema, reference docs, tests). Add one line per component.
import { catalogComponent } from './core/registry.js';

catalogComponent('source', 'demo_logs', () => import('./sources/demo_logs/index.js'));
catalogComponent('source', 'stdin', () => import('./sources/stdin/index.js'));
catalogComponent('source', 'internal_logs', () => import('./sources/internal_logs/index.js'));
catalogComponent('transform', 'filter', () => import('./transforms/filter/index.js'));
catalogComponent('transform', 'route', () => import('./transforms/route/index.js'));
catalogComponent('transform', 'remap', () => import('./transforms/remap/index.js'));
catalogComponent('transform', 'throttle', () => import('./transforms/throttle/index.js'));
catalogComponent('transform', 'sample', () => import('./transforms/sample/index.js'));
catalogComponent('transform', 'dedupe', () => import('./transforms/dedupe/index.js'));
catalogComponent('transform', 'reduce', () => import('./transforms/reduce/index.js'));
catalogComponent('sink', 'blackhole', () => import('./sinks/blackhole/index.js'));
catalogComponent('sink', 'console', () => import('./sinks/console/index.js'));
catalogComponent('sink', 'file', () => import('./sinks/file/index.js'));
catalogComponent('source', 'file', () => import('./sources/file/index.js'));
catalogComponent('source', 'kubernetes_logs', () => import('./sources/kubernetes_logs/index.js'));
catalogComponent('source', 'kubernetes_events', () => import('./sources/kubernetes_events/index.js'));
catalogComponent('sink', 'http', () => import('./sinks/http/index.js'));
catalogComponent('sink', 'nats', () => import('./sinks/nats/index.js'));
catalogComponent('sink', 'kafka', () => import('./sinks/kafka/index.js'));
catalogComponent('sink', 'elasticsearch', () => import('./sinks/elasticsearch/index.js'));
catalogComponent('sink', 'loki', () => import('./sinks/loki/index.js'));
catalogComponent('sink', 'splunk_hec_logs', () => import('./sinks/splunk_hec_logs/index.js'));
catalogComponent('sink', 'datadog_logs', () => import('./sinks/datadog_logs/index.js'));
catalogComponent('sink', 'aws_s3', () => import('./sinks/aws_s3/index.js'));
catalogComponent('sink', 'aws_cloudwatch_logs', () => import('./sinks/aws_cloudwatch_logs/index.js'));
catalogComponent('sink', 'gcp_stackdriver_logs', () => import('./sinks/gcp_stackdriver_logs/index.js'));
catalogComponent('source', 'http_server', () => import('./sources/http_server/index.js'));
catalogComponent('source', 'nats', () => import('./sources/nats/index.js'));
catalogComponent('source', 'kafka', () => import('./sources/kafka/index.js'));
catalogComponent('source', 'journald', () => import('./sources/journald/index.js'));
catalogComponent('sink', 'opentelemetry', () => import('./sinks/opentelemetry/index.js'));
catalogComponent('source', 'opentelemetry', () => import('./sources/opentelemetry/index.js'));
catalogComponent('sink', 'sluice', () => import('./sinks/sluice/index.js'));
catalogComponent('source', 'sluice', () => import('./sources/sluice/index.js'));
