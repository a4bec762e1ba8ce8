// Time zones in parse_timestamp / format_timestamp and the remap `timezone` option: VRL's documented
// examples (re-expressed), daylight-saving folds and gaps, offsets that change inside an hour, and a
// wall-clock round trip as a property.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import '../../../components.js';
import type { TransformDefinition } from '../../../core/component.js';
import { LogEvent } from '../../../core/event.js';
import { MetricsRegistry } from '../../../core/metrics.js';
import { findDefinition } from '../../../core/registry.js';
import type { RunContext } from '../function.js';
import { compileProgram } from '../program.js';
import { strftime, strptime } from './time.js';
import { parseZone } from './zones.js';

function value(source: string, ctx?: RunContext): unknown {
  const outcome = compileProgram(source).run({}, ctx);
  if (outcome.kind !== 'ok') return { error: outcome.message };
  return outcome.value instanceof Date ? outcome.value.toISOString() : outcome.value;
}

describe('time zones', () => {
  it("formats and parses in a named zone (VRL's examples)", () => {
    assert.equal(value(`format_timestamp!(t'2021-02-10T23:32:00+00:00', format: "%d %B %Y %H:%M", timezone: "Europe/Berlin")`), '11 February 2021 00:32');
    assert.equal(value(`format_timestamp!(t'1970-01-01T00:00:10Z', format: "%+", timezone: "Europe/Berlin")`), '1970-01-01T01:00:10+01:00');
    assert.equal(value(`format_timestamp!(t'1970-01-01T00:00:10Z', format: "%s", timezone: "local")`), '10');
    assert.equal(value(`parse_timestamp!("16/10/2019 12:00:00", format: "%d/%m/%Y %H:%M:%S", timezone: "Asia/Taipei")`), '2019-10-16T04:00:00.000Z');
    assert.equal(value(`parse_timestamp!("31/12/2019:12:00:00", format: "%d/%m/%Y:%H:%M:%S", timezone: "Europe/Paris")`), '2019-12-31T11:00:00.000Z');
    // An offset in the text wins over the zone.
    assert.equal(value(`parse_timestamp!("16/10/2019:12:00:00 +0000", format: "%d/%m/%Y:%H:%M:%S %z", timezone: "Europe/Paris")`), '2019-10-16T12:00:00.000Z');
  });

  it('says which zone it does not know', () => {
    assert.match(String((value(`format_timestamp!(t'1970-01-01T00:00:10Z', format: "%+", timezone: "llocal")`) as { error: string }).error), /unable to parse timezone: llocal/);
    assert.match(String((value(`parse_timestamp!("16/10/2019 12:00:00", format: "%d/%m/%Y %H:%M:%S", timezone: "Europe/Pariss")`) as { error: string }).error), /unable to parse timezone: Europe\/Pariss/);
  });

  it('prints offsets and abbreviations of the zone (%z %:z %Z %j at the wall clock)', () => {
    assert.equal(value(`format_timestamp!(t'2026-10-25T00:30:00Z', format: "%F %T %z %Z", timezone: "Europe/Berlin")`), '2026-10-25 02:30:00 +0200 CEST');
    assert.equal(value(`format_timestamp!(t'2026-10-25T01:30:00Z', format: "%F %T %:z %Z", timezone: "Europe/Berlin")`), '2026-10-25 02:30:00 +01:00 CET');
    assert.equal(value(`format_timestamp!(t'2026-07-01T12:00:00.123Z', format: "%+ %Z", timezone: "Asia/Kolkata")`), '2026-07-01T17:30:00.123+05:30 IST');
    assert.equal(value(`format_timestamp!(t'2026-12-31T23:30:00Z', format: "%j %Y", timezone: "Asia/Tokyo")`), '001 2027');
    assert.equal(value(`format_timestamp!(t'2026-07-01T12:00:00Z', format: "%Z", timezone: "America/Sao_Paulo")`), '-03', 'no abbreviation: the offset, as the tz database');
  });

  it('reads a wall time that happens twice as the earlier instant, one that never happens after the change', () => {
    // Europe/Berlin 2026: clocks forward 29 March 02:00 -> 03:00, back 25 October 03:00 -> 02:00.
    assert.equal(value(`parse_timestamp!("2026-10-25 02:30:00", format: "%F %T", timezone: "Europe/Berlin")`), '2026-10-25T00:30:00.000Z');
    assert.equal(value(`parse_timestamp!("2026-03-29 02:30:00", format: "%F %T", timezone: "Europe/Berlin")`), '2026-03-29T01:30:00.000Z');
    assert.equal(value(`parse_timestamp!("2026-03-29 03:30:00", format: "%F %T", timezone: "Europe/Berlin")`), '2026-03-29T01:30:00.000Z');
  });

  it('follows an offset that changes inside an hour (St. John\'s, UTC-3:30, at 05:30 UTC)', () => {
    const zone = parseZone('America/St_Johns')!;
    // Asked first inside the hour after the change, then before it: the hour is not cached whole.
    assert.equal(zone.offsetAt(Date.parse('2026-03-08T05:50:00Z')), -150);
    assert.equal(zone.offsetAt(Date.parse('2026-03-08T05:10:00Z')), -210);
    assert.equal(zone.offsetAt(Date.parse('2026-03-08T04:10:00Z')), -210);
    assert.equal(zone.offsetAt(Date.parse('2026-03-08T06:10:00Z')), -150);
  });

  it('round-trips the wall clock in any zone, near its transitions too: parse(format(t)) formats as t (property)', () => {
    const names = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Chatham', 'UTC', 'Africa/Casablanca'];
    // The instants where each zone's offset changes in 2026, found by Intl directly (15-minute steps).
    const transitions = names.flatMap((name) => {
      const f = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
      const at = (ms: number) => f.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')!.value;
      const found: Array<[string, number]> = [];
      for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 900_000) if (at(ms) !== at(ms + 900_000)) found.push([name, ms + 900_000]);
      return found;
    });
    assert.ok(transitions.length >= 10, 'the zones change offset in 2026');
    const instant = fc.oneof(
      fc.tuple(fc.constantFrom(...names), fc.integer({ min: 0, max: 4_102_444_800 }).map((s) => s * 1000)),
      fc.tuple(fc.constantFrom(...transitions), fc.integer({ min: -4 * 3600, max: 4 * 3600 })).map(([[name, ms], delta]) => [name, ms + delta * 1000] as [string, number]),
    );
    fc.assert(
      fc.property(instant, ([name, ms]) => {
        const zone = parseZone(name)!;
        const t = new Date(ms);
        const withOffset = strftime(t, '%Y-%m-%d %H:%M:%S %z', zone);
        assert.equal(strptime(withOffset, '%Y-%m-%d %H:%M:%S %z', zone)?.getTime(), t.getTime(), `${name} ${withOffset}`);
        const wall = strftime(t, '%Y-%m-%d %H:%M:%S', zone);
        const back = strptime(wall, '%Y-%m-%d %H:%M:%S', zone)!;
        assert.equal(strftime(back, '%Y-%m-%d %H:%M:%S', zone), wall, `${name} ${wall}`);
        assert.ok(back.getTime() <= t.getTime(), `${name} ${wall}: a wall time that happens twice reads as the earlier instant`);
      }),
      { numRuns: 600, seed: 20261202 },
    );
  });

  it('the log parsers read offset-less timestamps in the program zone too, as VRL (an offset still wins)', () => {
    const paris = { log() {}, env: {}, timezone: parseZone('Europe/Paris') } as RunContext;
    const iso = (source: string) => {
      const outcome = compileProgram(source).run({}, paris);
      assert.equal(outcome.kind, 'ok', source);
      return outcome.kind === 'ok' ? ((outcome.value as { timestamp: Date }).timestamp).toISOString() : '';
    };
    assert.equal(iso(`parse_nginx_log!(s'2019/10/16 12:00:00 [error] 1#1: *5 open() failed, client: 10.0.0.1', "error")`), '2019-10-16T10:00:00.000Z');
    assert.equal(iso(`parse_common_log!(s'127.0.0.1 - - [16/10/2019 12:00:00] "GET / HTTP/1.1" 200 5', timestamp_format: "%d/%m/%Y %T")`), '2019-10-16T10:00:00.000Z');
    assert.equal(iso(`parse_common_log!(s'127.0.0.1 - - [16/Oct/2019:12:00:00 +0000] "GET / HTTP/1.1" 200 5')`), '2019-10-16T12:00:00.000Z');
    const year = new Date().getUTCFullYear();
    assert.equal(iso(`parse_syslog!(s'<34>Jan  5 12:00:00 host app: hi')`), new Date(Date.UTC(year, 0, 5, 11)).toISOString(), 'RFC 3164: no offset, no year');
    assert.equal(iso(`parse_syslog!(s'<34>1 2019-10-16T12:00:00Z host app - - - hi')`), '2019-10-16T12:00:00.000Z', 'RFC 5424 carries its offset');
  });

  it('the remap `timezone` option is the zone parse_timestamp reads in; the argument wins; a typo is a config error', () => {
    const definition = findDefinition('transform', 'remap') as TransformDefinition;
    const build = (options: Record<string, unknown>) =>
      definition.build(definition.schema.parse(options), { id: 'tz', logger: pino({ level: 'silent' }), metrics: new MetricsRegistry().forComponent('transform', 'tz', 'remap'), dataDir: tmpdir() });
    const source = '.a = parse_timestamp!(.t, format: "%F %T")\n.b = parse_timestamp!(.t, format: "%F %T", timezone: "Europe/London")\n.c = format_timestamp!(.a, format: "%H")';
    const out: LogEvent[] = [];
    build({ source, timezone: 'Europe/Paris' }).process([new LogEvent({ message: '', t: '2019-10-16 12:00:00' })], (_o, events) => out.push(...events));
    assert.equal((out[0]!.fields.a as Date).toISOString(), '2019-10-16T10:00:00.000Z');
    assert.equal((out[0]!.fields.b as Date).toISOString(), '2019-10-16T11:00:00.000Z');
    assert.equal(out[0]!.fields.c, '10', 'format_timestamp stays in UTC without its argument, as in VRL');
    const typo = definition.schema.safeParse({ source, timezone: 'Europe/Pariss' });
    assert.equal(typo.success, false);
    assert.match(JSON.stringify(typo.error?.issues), /unknown time zone/);
    assert.equal(definition.schema.safeParse({ source, timezone: 'local' }).success, true);
  });
});
