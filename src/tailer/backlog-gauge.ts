import type { ComponentMetrics } from '../core/metrics.js';
import type { Tailer } from './tailer.js';

/** `sluice_source_backlog_bytes` of a tailing source, sampled at scrape time; returns the unregister function. */
export function registerBacklogGauge(metrics: ComponentMetrics, tailer: Tailer): () => void {
  return metrics.sampledGauge(
    'sluice_source_backlog_bytes',
    'Bytes written to the open files but not read yet (size - read offset, gzip files left out), at scrape time.',
    () => tailer.backlogBytes(),
  );
}
