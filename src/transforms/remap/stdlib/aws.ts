// parse_aws_alb_log: Application Load Balancer access logs (EKS ingress through the AWS Load
// Balancer Controller ships them to S3), field by field as AWS documents them and VRL names them.
import { defineFunctions } from '../function.js';
import { T, type Obj } from '../value.js';
import { fail, optBool } from './util.js';

type Kind = 'string' | 'float' | 'int' | 'request' | 'list';

/** In log order; `request` is split into method, url and protocol. */
const ALB_FIELDS: [string, Kind][] = [
  ['type', 'string'],
  ['timestamp', 'string'],
  ['elb', 'string'],
  ['client_host', 'string'],
  ['target_host', 'string'],
  ['request_processing_time', 'float'],
  ['target_processing_time', 'float'],
  ['response_processing_time', 'float'],
  ['elb_status_code', 'string'],
  ['target_status_code', 'string'],
  ['received_bytes', 'int'],
  ['sent_bytes', 'int'],
  ['request', 'request'],
  ['user_agent', 'string'],
  ['ssl_cipher', 'string'],
  ['ssl_protocol', 'string'],
  ['target_group_arn', 'string'],
  ['trace_id', 'string'],
  ['domain_name', 'string'],
  ['chosen_cert_arn', 'string'],
  ['matched_rule_priority', 'string'],
  ['request_creation_time', 'string'],
  ['actions_executed', 'string'],
  ['redirect_url', 'string'],
  ['error_reason', 'string'],
  ['target_port_list', 'list'],
  ['target_status_code_list', 'list'],
  ['classification', 'string'],
  ['classification_reason', 'string'],
  // Added by AWS in 2024; absent from older logs.
  ['traceability_id', 'string'],
];
const REQUIRED = ALB_FIELDS.length - 1;

/** Space-separated tokens; a quoted one may hold spaces (and `\"`). */
function tokens(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        value += line[i++];
      }
      if (i >= line.length) fail('unterminated quoted field');
      i++;
      out.push(value);
      continue;
    }
    const end = line.indexOf(' ', i);
    out.push(line.slice(i, end < 0 ? line.length : end));
    i = end < 0 ? line.length : end;
  }
  return out;
}

function parseAlb(line: string, strict: boolean): Obj {
  const values = tokens(line.trim());
  if (values.length < REQUIRED) fail(`expected at least ${REQUIRED} fields in an AWS ALB log line, found ${values.length}`);
  if (strict && values.length > ALB_FIELDS.length) fail(`unexpected fields after the ${ALB_FIELDS.length} of an AWS ALB log line (strict_mode: false ignores them)`);
  const out: Obj = {};
  ALB_FIELDS.forEach(([name, kind], n) => {
    const raw = values[n];
    const absent = raw === undefined || raw === '-';
    switch (kind) {
      case 'string':
        out[name] = absent ? null : raw;
        break;
      case 'float':
      case 'int': {
        const number = Number(raw);
        if (absent || raw === '' || !Number.isFinite(number) || (kind === 'int' && !Number.isSafeInteger(number))) fail(`invalid ${name}: ${JSON.stringify(raw)}`);
        out[name] = number;
        break;
      }
      case 'request': {
        const parts = (raw ?? '').split(' ');
        if (parts.length !== 3) fail(`invalid request: ${JSON.stringify(raw)}`);
        out.request_method = parts[0];
        out.request_url = parts[1];
        out.request_protocol = parts[2];
        break;
      }
      case 'list':
        out[name] = absent || raw === '' ? [] : raw.split(' ');
        break;
    }
  });
  return out;
}

defineFunctions([
  {
    name: 'parse_aws_alb_log',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'strict_mode', type: T.boolean }],
    returns: T.object,
    fallible: true,
    call: ([v, strict]) => parseAlb(String(v), optBool(strict, true)),
  },
]);
