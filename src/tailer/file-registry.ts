import { addToGroup, removeFromGroup } from './groups.js';
import type { FileAdmission, TailedFile } from './tailed-file.js';

/**
 * The files a tailer knows, indexed by identity (device + inode), by path, by directory (a
 * write event names a directory) and by sequence (the files of one container instance, read
 * strictly in rank order).
 */
export class FileRegistry {
  private readonly byInode = new Map<string, TailedFile>();
  /** The same files as an array: the loop walks every file several times per wake-up, and indexed loops over an array allocate nothing. */
  private readonly list: TailedFile[] = [];
  private readonly byPath = new Map<string, TailedFile>();
  private readonly byDir = new Map<string, readonly TailedFile[]>();
  private readonly sequences = new Map<string, readonly TailedFile[]>();

  get size(): number {
    return this.byInode.size;
  }

  /** Every file, in registration order (live: do not add or remove files while walking it). */
  all(): readonly TailedFile[] {
    return this.list;
  }

  /** A copy, for loops that may add or remove files. */
  snapshot(): TailedFile[] {
    return this.list.slice();
  }

  get(key: string): TailedFile | undefined {
    return this.byInode.get(key);
  }

  atPath(path: string): TailedFile | undefined {
    return this.byPath.get(path);
  }

  inDirectory(dir: string): Iterable<TailedFile> {
    return this.byDir.get(dir) ?? [];
  }

  add(file: TailedFile): void {
    const replaced = this.byInode.get(file.key);
    if (replaced !== undefined) this.remove(replaced);
    this.byInode.set(file.key, file);
    this.list.push(file);
    this.byPath.set(file.path, file);
    this.addToDir(file);
    this.joinSequence(file);
  }

  remove(file: TailedFile): void {
    if (this.byInode.get(file.key) === file) {
      this.byInode.delete(file.key);
      this.list.splice(this.list.indexOf(file), 1);
    }
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    this.removeFromDir(file);
    this.leaveSequence(file);
  }

  /** The file now lives at `path` and is read per `admission` (its rank may have changed). */
  move(file: TailedFile, path: string, admission: FileAdmission): void {
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    this.removeFromDir(file);
    this.leaveSequence(file);
    file.path = path;
    file.admission = admission;
    this.byPath.set(path, file);
    this.addToDir(file);
    this.joinSequence(file);
  }

  /** Another file took this one's path; it keeps its directory but no longer owns the name. */
  releasePath(file: TailedFile, admission: FileAdmission): void {
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    this.leaveSequence(file);
    file.admission = admission;
    this.joinSequence(file);
  }

  /** The file keeps its path but is read per `admission` now (its rank was worked out). */
  rerank(file: TailedFile, admission: FileAdmission): void {
    this.leaveSequence(file);
    file.admission = admission;
    this.joinSequence(file);
  }

  /** Every earlier file of the sequence is finished (equal ranks: the one found first goes first). */
  isNextInSequence(file: TailedFile): boolean {
    const key = file.sequenceKey;
    if (key === undefined) return true;
    for (const other of this.sequences.get(key) ?? []) {
      if (other === file || other.finished) continue;
      if (other.rank < file.rank || (other.rank === file.rank && other.order < file.order)) return false;
    }
    return true;
  }

  /** A later file of the sequence exists (the writer has moved on). */
  hasSuccessor(file: TailedFile): boolean {
    const key = file.sequenceKey;
    if (key === undefined) return false;
    for (const other of this.sequences.get(key) ?? []) {
      if (other.rank > file.rank || (other.rank === file.rank && other.order > file.order)) return true;
    }
    return false;
  }

  /**
   * The unfinished file of the sequence read right after this one, if it is known. A later rank
   * only: an equal rank is the same bytes (a rotated file and its gzip copy).
   */
  successorOf(file: TailedFile): TailedFile | undefined {
    const key = file.sequenceKey;
    if (key === undefined) return undefined;
    let next: TailedFile | undefined;
    for (const other of this.sequences.get(key) ?? []) {
      if (other.finished || other.rank <= file.rank) continue;
      if (next === undefined || other.rank < next.rank || (other.rank === next.rank && other.order < next.order)) next = other;
    }
    return next;
  }

  private addToDir(file: TailedFile): void {
    addToGroup(this.byDir, file.dir, file);
  }

  private removeFromDir(file: TailedFile): void {
    removeFromGroup(this.byDir, file.dir, file);
  }

  private joinSequence(file: TailedFile): void {
    const key = file.sequenceKey;
    if (key !== undefined) addToGroup(this.sequences, key, file);
  }

  private leaveSequence(file: TailedFile): void {
    const key = file.sequenceKey;
    if (key !== undefined) removeFromGroup(this.sequences, key, file);
  }
}
