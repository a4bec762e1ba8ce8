/**
 * Where reading a file starts when it is opened: one decision from what is known then, no I/O.
 * (Copies found by `copytruncate` are a matter of file identity: the tailer looks for the file a
 * copy was made of only when this says `fresh`, and starts the copy where that file stood.)
 */
export interface StartInputs {
  /** Offset of the checkpoint record matching the file's head, if any. */
  readonly checkpoint: number | undefined;
  /** Size of the file now (compressed size for gzip: not comparable with offsets, unused then). */
  readonly size: number;
  readonly compressed: boolean;
  /** `read_from = "end"` applies (the file was found by the first scan). */
  readonly readFromEnd: boolean;
  /** Resumed after an exclusion: start at the end, past any checkpoint. */
  readonly resumeAtEnd: boolean;
  /** Reopening a parked file: where it stood, and whether its head is still the same bytes. */
  readonly parked: { readonly offset: number; readonly headMatches: boolean } | undefined;
}

export type StartFrom =
  /** Where the parked file stood. */
  | 'parked'
  /** The end of the file, as an exclusion was lifted. */
  | 'resume-at-end'
  | 'checkpoint'
  /** No usable checkpoint: the beginning, or the end with `read_from = "end"`. */
  | 'fresh';

export type StartPosition =
  | { readonly offset: number; readonly from: StartFrom; readonly skip?: undefined }
  /** The file is not to be read: the reason it is finished with. */
  | { readonly skip: string; readonly offset?: undefined };

export function startPosition(input: StartInputs): StartPosition {
  if (input.compressed) {
    // A gzip file gets no new lines: nothing to read past its end.
    if (input.resumeAtEnd) return { skip: 'resumed after an exclusion: a gzip gets no new lines' };
    if (input.checkpoint !== undefined) return { offset: input.checkpoint, from: 'checkpoint' };
    if (input.readFromEnd) return { skip: 'read_from end' };
    return { offset: 0, from: 'fresh' };
  }
  if (input.parked !== undefined) {
    if (!input.parked.headMatches) return { skip: 'changed while parked' };
    return { offset: input.parked.offset, from: 'parked' };
  }
  if (input.resumeAtEnd) return { offset: input.size, from: 'resume-at-end' };
  // A checkpoint past the end: the file was truncated or is another one with the same head.
  if (input.checkpoint !== undefined && input.checkpoint <= input.size) return { offset: input.checkpoint, from: 'checkpoint' };
  return { offset: input.readFromEnd ? input.size : 0, from: 'fresh' };
}
