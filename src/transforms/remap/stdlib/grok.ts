// parse_grok: `%{NAME:field}` patterns expanded into one RE2 regex, compiled once per call site.
// The named patterns are the familiar grok set (the names Logstash and VRL's default library use),
// written here for RE2: no lookarounds, no atomic groups, no backreferences, so a match is linear
// in the line whatever the input (where the classic set has `(?<![0-9])`, these use `\b`).
import { RE2JS } from 're2js';
import { defineFunctions } from '../function.js';
import { T, type Obj } from '../value.js';
import { failed } from './util.js';

const H = '[0-9A-Fa-f]';

export const GROK_PATTERNS: Readonly<Record<string, string>> = {
  USERNAME: '[a-zA-Z0-9._-]+',
  USER: '%{USERNAME}',
  EMAILLOCALPART: "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*",
  EMAILADDRESS: '%{EMAILLOCALPART}@%{HOSTNAME}',
  INT: '(?:[+-]?[0-9]+)',
  BASE10NUM: '(?:[+-]?(?:[0-9]+(?:\\.[0-9]+)?|\\.[0-9]+))',
  NUMBER: '(?:%{BASE10NUM})',
  BASE16NUM: `(?:[+-]?(?:0x)?${H}+)`,
  POSINT: '\\b(?:[1-9][0-9]*)\\b',
  NONNEGINT: '\\b(?:[0-9]+)\\b',
  WORD: '\\b\\w+\\b',
  NOTSPACE: '\\S+',
  SPACE: '\\s*',
  DATA: '.*?',
  GREEDYDATA: '.*',
  QUOTEDSTRING: '(?:"(?:[^"\\\\]|\\\\.)*"|\'(?:[^\'\\\\]|\\\\.)*\'|`(?:[^`\\\\]|\\\\.)*`)',
  QS: '%{QUOTEDSTRING}',
  UUID: `${H}{8}-(?:${H}{4}-){3}${H}{12}`,
  CISCOMAC: `(?:${H}{4}\\.){2}${H}{4}`,
  WINDOWSMAC: `(?:${H}{2}-){5}${H}{2}`,
  COMMONMAC: `(?:${H}{2}:){5}${H}{2}`,
  MAC: '(?:%{CISCOMAC}|%{WINDOWSMAC}|%{COMMONMAC})',
  IPV4: '\\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\b',
  // Loose on purpose (a log parser, not a validator): groups of up to 4 hex digits and 2-7 colons,
  // an embedded IPv4 address at the end, a zone. One greedy loop, so a trailing group is never left out.
  IPV6: `(?:${H}{0,4}:){2,7}(?:%{IPV4}|${H}{1,4})?(?:%[0-9A-Za-z]+)?`,
  IP: '(?:%{IPV6}|%{IPV4})',
  HOSTNAME: '\\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*\\.?',
  IPORHOST: '(?:%{IP}|%{HOSTNAME})',
  HOSTPORT: '%{IPORHOST}:%{POSINT}',
  UNIXPATH: '(?:/[^/\\s?#]*)+',
  WINPATH: '(?:[A-Za-z]+:|\\\\)(?:\\\\[^\\\\?*\\s]*)+',
  PATH: '(?:%{UNIXPATH}|%{WINPATH})',
  TTY: '/dev/(?:pts|tty(?:[pq])?)(?:\\w+)?/?(?:[0-9]+)',
  URIPROTO: '[A-Za-z][A-Za-z0-9+.-]+',
  URIHOST: '%{IPORHOST}(?::%{POSINT})?',
  URIPATH: "(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_-]*)+",
  URIPARAM: "\\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\\[\\]<>-]*",
  URIPATHPARAM: '%{URIPATH}(?:%{URIPARAM})?',
  URI: '%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?',
  MONTH: '\\b(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\b',
  MONTHNUM: '(?:0?[1-9]|1[0-2])',
  MONTHNUM2: '(?:0[1-9]|1[0-2])',
  MONTHDAY: '(?:0[1-9]|[12][0-9]|3[01]|[1-9])',
  DAY: '\\b(?i:mon(?:day)?|tue(?:sday)?|wed(?:nesday)?|thu(?:rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\\b',
  YEAR: '(?:\\d\\d){1,2}',
  HOUR: '(?:2[0-3]|[01]?[0-9])',
  MINUTE: '(?:[0-5][0-9])',
  SECOND: '(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)',
  TIME: '\\b%{HOUR}:%{MINUTE}:%{SECOND}\\b',
  DATE_US: '%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}',
  DATE_EU: '%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}',
  ISO8601_TIMEZONE: '(?:Z|[+-]%{HOUR}(?::?%{MINUTE}))',
  ISO8601_SECOND: '%{SECOND}',
  TIMESTAMP_ISO8601: '%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?',
  DATE: '(?:%{DATE_US}|%{DATE_EU})',
  DATESTAMP: '%{DATE}[- ]%{TIME}',
  TZ: '(?:[APMCE][SD]T|UTC)',
  DATESTAMP_RFC822: '%{DAY} %{MONTH} %{MONTHDAY} %{YEAR} %{TIME} %{TZ}',
  DATESTAMP_RFC2822: '%{DAY}, %{MONTHDAY} %{MONTH} %{YEAR} %{TIME} %{ISO8601_TIMEZONE}',
  DATESTAMP_OTHER: '%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{TZ} %{YEAR}',
  HTTPDATE: '%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}',
  SYSLOGTIMESTAMP: '%{MONTH} +%{MONTHDAY} %{TIME}',
  PROG: '[\\x21-\\x5a\\x5c\\x5e-\\x7e]+',
  SYSLOGPROG: '%{PROG:program}(?:\\[%{POSINT:pid}\\])?',
  SYSLOGHOST: '%{IPORHOST}',
  SYSLOGFACILITY: '<%{NONNEGINT:facility}.%{NONNEGINT:priority}>',
  SYSLOGBASE: '%{SYSLOGTIMESTAMP:timestamp} (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource} %{SYSLOGPROG}:',
  LOGLEVEL:
    '(?:[Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo(?:rmation)?|INFO(?:RMATION)?|[Ww]arn(?:ing)?|WARN(?:ING)?|[Ee]rr(?:or)?|ERR(?:OR)?|[Cc]rit(?:ical)?|CRIT(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|[Ee]merg(?:ency)?|EMERG(?:ENCY)?)',
  HTTPDUSER: '(?:%{EMAILADDRESS}|%{USER})',
  COMMONAPACHELOG:
    '%{IPORHOST:clientip} %{HTTPDUSER:ident} %{USER:auth} \\[%{HTTPDATE:timestamp}\\] "(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})" %{NUMBER:response} (?:%{NUMBER:bytes}|-)',
  COMBINEDAPACHELOG: '%{COMMONAPACHELOG} %{QS:referrer} %{QS:agent}',
  JAVACLASS: '(?:[a-zA-Z$_][a-zA-Z$_0-9]*\\.)*[a-zA-Z$_][a-zA-Z$_0-9]*',
  JAVAFILE: '(?:[A-Za-z0-9_. -]+)',
  JAVAMETHOD: '(?:<init>|[a-zA-Z$_][a-zA-Z$_0-9]*)',
  JAVASTACKTRACEPART: '\\s*at %{JAVACLASS:class}\\.%{JAVAMETHOD:method}\\(%{JAVAFILE:file}(?::%{NONNEGINT:line})?\\)',
};

/** A pattern that does not compile: an unknown name, a loop of names, or a regex RE2 rejects. */
export class GrokError extends Error {}

const REFERENCE = /%\{(\w+)(?::([^}]*))?\}/g;
/** Pattern names nest a few levels (COMBINEDAPACHELOG -> ... -> IPV4): deeper is a loop. */
const MAX_DEPTH = 32;

export interface CompiledGrok {
  readonly re: RE2JS;
  /** Per capture group, in the regex's order: the field it fills. */
  readonly fields: readonly string[];
}

const compiled = new Map<string, CompiledGrok>();

/**
 * `%{NAME}` becomes the named pattern, `%{NAME:field}` a capture of it for `field` (any text after
 * the colon, as VRL's grok: `%{NUMBER:n:int}` fills "n:int"). Capture groups get generated names,
 * so a field may be any text and may appear in several alternatives.
 */
export function compileGrok(pattern: string): CompiledGrok {
  const known = compiled.get(pattern);
  if (known) return known;
  const fields: string[] = [];
  const expand = (text: string, depth: number): string => {
    if (depth > MAX_DEPTH) throw new GrokError(`grok patterns nest deeper than ${MAX_DEPTH} levels (a pattern that refers to itself?)`);
    return text.replace(REFERENCE, (_m, name: string, field: string | undefined) => {
      const definition = GROK_PATTERNS[name];
      if (definition === undefined || !Object.hasOwn(GROK_PATTERNS, name)) throw new GrokError(`The given pattern definition name "${name}" could not be found in the definition map`);
      const body = expand(definition, depth + 1);
      if (field === undefined || field === '') return `(?:${body})`;
      fields.push(field);
      return `(?P<g${fields.length}>${body})`;
    });
  };
  // Fields of the named patterns (SYSLOGPROG's program, pid) count too: expand numbers them in order.
  const source = expand(pattern, 0);
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (error) {
    throw new GrokError(`invalid grok pattern: ${(error as Error).message.replace(/^error parsing regexp: /, '')}`);
  }
  const result = { re, fields };
  if (compiled.size < 1024) compiled.set(pattern, result);
  return result;
}

/** The fields `pattern` captures in `text` (strings), or undefined when it does not match. */
export function grokMatch(grok: CompiledGrok, text: string): Obj | undefined {
  const m = grok.re.matcher(text);
  if (!m.find()) return undefined;
  const out: Obj = {};
  grok.fields.forEach((field, i) => {
    const value = m.group(`g${i + 1}`);
    // A field in an alternative that did not match is absent; the first match of a repeated field wins.
    if (value !== null && !Object.hasOwn(out, field)) out[field] = value;
  });
  return out;
}

defineFunctions([
  {
    name: 'parse_grok',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'pattern', type: T.bytes, required: true }],
    returns: T.object,
    fallible: true,
    check: (args) => {
      const pattern = args[1];
      if (!pattern?.literal) return 'the pattern must be a literal string: it is compiled once, with the program';
      try {
        compileGrok(String(pattern.value));
      } catch (error) {
        if (error instanceof GrokError) return `grok pattern error: ${error.message}`;
        throw error;
      }
      return undefined;
    },
    compile: (args) => {
      const grok = compileGrok(String(args[1]!.value));
      return ([v]) => grokMatch(grok, String(v)) ?? failed('unable to parse input with grok pattern');
    },
  },
]);
