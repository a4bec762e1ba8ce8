import type { FileOpener } from './file-opener.js';
import type { FileRegistry } from './file-registry.js';
import type { FileTracker } from './file-tracker.js';
import type { MergeHandoff } from './merge-handoff.js';
import type { TailedFile } from './tailed-file.js';

/** What stopping and resuming ask of the tailer. */
export interface ExclusionHooks {
  wake(): void;
  done(file: TailedFile, reason: string): void;
}

/**
 * The source excludes a file after it was opened (an exclude annotation added to a running pod)
 * and may lift the exclusion later. A stop is applied by the loop between reads, never in the
 * middle of one (the reader must not close under a read); a resumed file reads on from its end.
 */
export class Exclusions {
  /** Files the source excluded, closed by the loop before its next reads. */
  private readonly pendingStops = new Set<TailedFile>();

  constructor(
    private readonly files: FileRegistry,
    private readonly tracker: FileTracker,
    private readonly opener: FileOpener,
    private readonly handoff: MergeHandoff,
    private readonly hooks: ExclusionHooks,
  ) {}

  /** Stops to apply before the next reads. */
  get due(): boolean {
    return this.pendingStops.size > 0;
  }

  /** Whether `file` was excluded and is not to be read any more. */
  stopping(file: TailedFile): boolean {
    return this.pendingStops.size > 0 && this.pendingStops.has(file);
  }

  /** Lines of the file at `path` not read yet are not shipped. */
  stop(path: string): void {
    const file = this.files.atPath(path);
    if (file === undefined || file.finished) return;
    this.pendingStops.add(file);
    this.hooks.wake();
  }

  /** The source's admission said no before the file was opened: finished unread, resumable. */
  excludedOnAdmission(file: TailedFile): void {
    this.hooks.done(file, 'excluded by the source');
    file.exclude();
  }

  async apply(): Promise<void> {
    for (const file of this.pendingStops) {
      this.pendingStops.delete(file);
      if (file.finished) continue;
      await this.opener.closeReader(file);
      this.hooks.done(file, 'excluded by the source');
      this.handoff.release(file, true);
      file.exclude();
    }
  }

  /**
   * Read again a file the source had excluded. Reading starts at the end of the file as it is when
   * reopened: lines written while excluded are never collected. A path not tracked (excluded
   * before it was registered) is registered again the same way.
   */
  resume(path: string): void {
    const file = this.files.atPath(path);
    if (file !== undefined && this.pendingStops.delete(file)) return; // never stopped: it reads on
    if (file === undefined) {
      this.tracker.resumeAtEnd(path);
    } else if (!file.resume()) {
      return;
    }
    this.hooks.wake();
  }
}
