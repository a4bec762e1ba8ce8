import type { LogEvent } from '../core/event.js';
import { Finalizer } from '../core/finalizer.js';
import type { FileCheckpoints } from './file-checkpoints.js';
import type { FileRegistry } from './file-registry.js';
import type { InheritedMerges, TailedFile } from './tailed-file.js';

/**
 * Partial lines cut by a rotation: the merges a finished file leaves unfinished go to the next
 * file of its sequence, whose decoder continues them (kubelet reads them the same way). The
 * finished file's checkpoint stays at the merges' start until the merged events are acknowledged.
 * Merges no next file takes over ("stranded") are shipped as they are with the next batch.
 */
export class MergeHandoff {
  private stranded: InheritedMerges[] = [];

  constructor(
    private readonly files: FileRegistry,
    private readonly checkpoints: FileCheckpoints,
  ) {}

  /** The next file of `file`'s sequence, if it may take over the merges `file` left unfinished. */
  heirOf(file: TailedFile): TailedFile | undefined {
    if (file.decoder!.pendingOffset() === undefined) return undefined;
    const heir = this.files.successorOf(file);
    if (heir === undefined || heir.readAny || heir.inherited !== undefined) return undefined;
    return heir;
  }

  /** `file` finished with merges unfinished: `heir` (from `heirOf`) takes them over. */
  passOn(file: TailedFile, heir: TailedFile): void {
    // Merges this file took over itself and passes on unfinished (a file of fragments only).
    const earlier = file.inherited;
    file.inherited = undefined;
    const merges: InheritedMerges = { decoder: file.decoder!, settle: this.checkpoints.inFlight(file, file.splitter!.nextLineOffset, earlier?.settle), adoptedAt: undefined };
    if (heir.finished) this.stranded.push(merges);
    else heir.inherited = merges;
  }

  /** Before a read of `file`: the first read of a file that inherited merges continues them. */
  adoptIfInherited(file: TailedFile): void {
    const inherited = file.inherited;
    if (inherited === undefined || inherited.adoptedAt !== undefined) return;
    const offset = file.splitter!.readOffset;
    if (file.decoder!.adoptPending?.(inherited.decoder, offset)) {
      inherited.adoptedAt = offset;
      return;
    }
    file.inherited = undefined;
    this.stranded.push(inherited);
  }

  /**
   * The adopted merges that the events read from `file` up to here complete (none left pending
   * at or before where they were adopted): settled with those events' acknowledgement.
   */
  settledBy(file: TailedFile, pending: number | undefined): InheritedMerges | undefined {
    const inherited = file.inherited;
    const settles = inherited?.adoptedAt !== undefined && (pending === undefined || pending > inherited.adoptedAt) ? inherited : undefined;
    if (settles !== undefined) file.inherited = undefined;
    return settles;
  }

  /**
   * A file that inherited merges will not read them: emit them as they are. `adoptedToo`: it
   * took them over but will not emit them either (excluded, forgotten): let its predecessor go.
   * (A file that finishes emits what it adopted, and `settledBy` settles it.)
   */
  release(file: TailedFile, adoptedToo: boolean): void {
    const inherited = file.inherited;
    if (inherited === undefined || (inherited.adoptedAt !== undefined && !adoptedToo)) return;
    file.inherited = undefined;
    if (inherited.adoptedAt === undefined) this.stranded.push(inherited);
    else inherited.settle(); // adopted, then dropped (excluded): nothing will come
  }

  /** Appends the events of the stranded merges to `outgoing`; returns how many. */
  flushStranded(outgoing: LogEvent[]): number {
    if (this.stranded.length === 0) return 0;
    const stranded = this.stranded;
    this.stranded = [];
    let count = 0;
    for (const { decoder, settle } of stranded) {
      const events: LogEvent[] = [];
      decoder.flush(events);
      if (events.length === 0) {
        settle();
        continue;
      }
      const finalizer = new Finalizer(events.length, settle);
      for (const event of events) event.finalizer = finalizer;
      count += events.length;
      for (const event of events) outgoing.push(event);
    }
    return count;
  }
}
