import type { ComponentMetrics } from '../core/metrics.js';
import type { Tailer } from './tailer.js';

/**
 * `sluice_source_backlog_bytes` and `sluice_source_oldest_unacknowledged_event_age_seconds` of a
 * tailing source, sampled at scrape time (never per line); returns the unregister function.
 */
export function registerBacklogGauge(metrics: ComponentMetrics, tailer: Tailer): () => void {
  const stopBytes = metrics.sampledGauge(
    'sluice_source_backlog_bytes',
    'Bytes written to the open files but not read yet (size - read offset, gzip files left out), at scrape time.',
    () => tailer.backlogBytes(),
  );
  const stopAge = metrics.sampledGauge(
    'sluice_source_oldest_unacknowledged_event_age_seconds',
    'Seconds since the oldest event read and not acknowledged yet by every sink was read (0: none waiting).',
    () => {
      const at = tailer.oldestUnackedAt();
      return at === undefined ? 0 : Math.max(0, (Date.now() - at) / 1000);
    },
  );
  return () => {
    stopBytes();
    stopAge();
  };
}
