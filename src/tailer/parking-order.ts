/**
 * The open files that may be closed to make room under `max_open_files` (idle at their end, or
 * waiting for their turn in a sequence), least recently active first. Kept on state transitions
 * by the tailer, so choosing one costs O(1) amortised instead of a scan of every tracked file
 * (at 4,000 quiet files and a cap of 1,024, that scan per reopen took most of a core).
 *
 * An insertion-ordered Set: `touch` moves a file to the back (it just read data), `enlist` adds
 * it without moving it (re-checked at its end without data). `choose` takes entries from the
 * front and drops those that no longer qualify: each is dropped once per enlisting, and a
 * dropped file enlists again when it next reaches its end.
 */
export class ParkingOrder<T> {
  private readonly files = new Set<T>();
  /** Entries `choose` looked at, ever (tests check it does not grow with the number of files). */
  examined = 0;

  get size(): number {
    return this.files.size;
  }

  /** The file was active just now: it goes to the back. */
  touch(file: T): void {
    this.files.delete(file);
    this.files.add(file);
  }

  /** The file may be parked; an entry it already has keeps its place. */
  enlist(file: T): void {
    if (!this.files.has(file)) this.files.add(file);
  }

  remove(file: T): void {
    this.files.delete(file);
  }

  /** Takes out and returns the least recently active file that `parkable` accepts. */
  choose(parkable: (file: T) => boolean): T | undefined {
    for (const file of this.files) {
      this.examined++;
      this.files.delete(file);
      if (parkable(file)) return file;
    }
    return undefined;
  }
}
