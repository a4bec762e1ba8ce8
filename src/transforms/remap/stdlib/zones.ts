// Time zones for parse_timestamp / format_timestamp (VRL's `timezone` argument and option): IANA
// names from the tz database Node's ICU carries, `local` (the agent's own zone) and UTC.
// Offsets come from Intl, which costs microseconds per call: each zone remembers the offset of the
// hours it was asked about (bounded). An hour whose start and end differ holds a transition: there
// each instant is asked exactly (such hours are a few a year).

const HOUR_MS = 3_600_000;
const ABBREVIATION_LOCALES = ['en-US', 'en-GB', 'en-IN', 'en-AU', 'en-CA', 'en-NZ', 'en-ZA', 'ja-JP'];
/** Hours remembered per zone: past this, the cache starts over (a log spans few distinct hours). */
const MAX_CACHED_HOURS = 4096;

export class Zone {
  private readonly formatter: Intl.DateTimeFormat | undefined;
  private readonly abbreviationsByOffset = new Map<number, string>();
  private readonly hours = new Map<number, number>();

  /** `name` as VRL prints it; `iana` the zone Intl knows (undefined: UTC). */
  constructor(
    readonly name: string,
    iana: string | undefined,
  ) {
    this.formatter = iana === undefined ? undefined : new Intl.DateTimeFormat('en-US', { timeZone: iana, timeZoneName: 'longOffset', hour: 'numeric' });
  }

  get isUtc(): boolean {
    return this.formatter === undefined;
  }

  /** Minutes east of UTC at the instant `utcMs`. */
  offsetAt(utcMs: number): number {
    if (this.formatter === undefined || !Number.isFinite(utcMs)) return 0;
    const hour = Math.floor(utcMs / HOUR_MS);
    let offset = this.hours.get(hour);
    if (offset === undefined) {
      const start = this.read(hour * HOUR_MS);
      const end = this.read(hour * HOUR_MS + HOUR_MS - 1);
      if (start !== end) return this.read(utcMs); // a transition in this hour
      if (this.hours.size >= MAX_CACHED_HOURS) this.hours.clear();
      this.hours.set(hour, (offset = start));
    }
    return offset;
  }

  /**
   * The instant whose wall-clock time in this zone is `wallMs` (a time read as if it were UTC).
   * A wall time that happens twice (clocks set back) is the earlier instant; one that never
   * happens (clocks set forward) is read with the offset before the change, so it lands after it.
   */
  toUtc(wallMs: number): number {
    if (this.formatter === undefined) return wallMs;
    const before = this.offsetAt(wallMs - 36 * HOUR_MS);
    const after = this.offsetAt(wallMs + 36 * HOUR_MS);
    // The larger offset first: of two readings that both hold, it gives the earlier instant.
    for (const offset of before >= after ? [before, after] : [after, before]) {
      const utc = wallMs - offset * 60_000;
      if (this.offsetAt(utc) === offset) return utc;
    }
    return wallMs - before * 60_000;
  }

  /**
   * The zone's abbreviation at `utcMs` (`CEST`, `EDT`, `IST`, as the tz database has them), or its
   * offset as `+03` where ICU knows none. ICU keeps each abbreviation with the locales that use it
   * (CEST in en-GB, IST in en-IN, AEST in en-AU): the first that has one wins.
   */
  abbreviationAt(utcMs: number): string {
    if (this.formatter === undefined) return 'UTC';
    const offset = this.offsetAt(utcMs);
    let name = this.abbreviationsByOffset.get(offset);
    if (name === undefined) {
      const timeZone = this.formatter.resolvedOptions().timeZone;
      for (const locale of ABBREVIATION_LOCALES) {
        const short = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' }).formatToParts(new Date(utcMs)).find((p) => p.type === 'timeZoneName')?.value;
        if (short !== undefined && /^[A-Z]{2,5}$/.test(short) && short !== 'GMT' && short !== 'UTC') {
          name = short;
          break;
        }
      }
      if (name === undefined) {
        const h = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
        const m = Math.abs(offset) % 60;
        name = `${offset < 0 ? '-' : '+'}${h}${m === 0 ? '' : String(m).padStart(2, '0')}`;
      }
      this.abbreviationsByOffset.set(offset, name);
    }
    return name;
  }

  private read(utcMs: number): number {
    const text = this.formatter!.formatToParts(new Date(utcMs)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /^GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
    if (!m) return 0; // "GMT": no offset
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  }
}

export const UTC_ZONE = new Zone('UTC', undefined);
const zones = new Map<string, Zone | null>([
  ['UTC', UTC_ZONE],
  ['Etc/UTC', UTC_ZONE],
]);

/** The zone a VRL `timezone` names (a tz database name, `local`, UTC), or undefined when none. */
export function parseZone(name: string): Zone | undefined {
  const known = zones.get(name);
  if (known !== undefined) return known ?? undefined;
  let zone: Zone | null = null;
  try {
    const iana = name === 'local' ? new Intl.DateTimeFormat().resolvedOptions().timeZone : new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    zone = iana === 'UTC' || iana === 'Etc/UTC' ? new Zone(name, undefined) : new Zone(name, iana);
  } catch {
    // RangeError: not a zone ICU knows
  }
  // Names come from programs and configs, not from events, but a program may compute them: bounded.
  if (zones.size < 1024) zones.set(name, zone);
  return zone ?? undefined;
}
