// parse_aws_alb_log: VRL's documented example re-expressed with an EKS ingress request of our own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../test-helpers.js';

const value = (source: string): unknown => JSON.parse(JSON.stringify(run(source).value));
const vrlString = (text: string) => JSON.stringify(text);

const LINE =
  'h2 2026-03-01T10:00:00.123456Z app/k8s-shop-ingress/0a1b2c3d4e5f6789 203.0.113.7:51234 10.0.12.34:8080 0.001 0.045 0.000 502 503 812 420 ' +
  '"POST https://shop.example.com:443/api/cart HTTP/2.0" "Mozilla/5.0 (X11; Linux x86_64)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ' +
  'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/k8s-shop-cart/abcdef0123456789 "Root=1-65e1a2b3-0123456789abcdef01234567" ' +
  '"shop.example.com" "arn:aws:acm:eu-west-1:111122223333:certificate/1234" 3 2026-03-01T10:00:00.078000Z "waf,forward" "-" "-" ' +
  '"10.0.12.34:8080 10.0.12.35:8080" "503 -" "Ambiguous" "UndefinedContentLengthSemantics"';

describe('parse_aws_alb_log', () => {
  it('parses every field, "-" as null, lists as arrays', () => {
    assert.deepEqual(value(`parse_aws_alb_log!(${vrlString(LINE)})`), {
      type: 'h2',
      timestamp: '2026-03-01T10:00:00.123456Z',
      elb: 'app/k8s-shop-ingress/0a1b2c3d4e5f6789',
      client_host: '203.0.113.7:51234',
      target_host: '10.0.12.34:8080',
      request_processing_time: 0.001,
      target_processing_time: 0.045,
      response_processing_time: 0,
      elb_status_code: '502',
      target_status_code: '503',
      received_bytes: 812,
      sent_bytes: 420,
      request_method: 'POST',
      request_url: 'https://shop.example.com:443/api/cart',
      request_protocol: 'HTTP/2.0',
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
      ssl_cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
      ssl_protocol: 'TLSv1.2',
      target_group_arn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/k8s-shop-cart/abcdef0123456789',
      trace_id: 'Root=1-65e1a2b3-0123456789abcdef01234567',
      domain_name: 'shop.example.com',
      chosen_cert_arn: 'arn:aws:acm:eu-west-1:111122223333:certificate/1234',
      matched_rule_priority: '3',
      request_creation_time: '2026-03-01T10:00:00.078000Z',
      actions_executed: 'waf,forward',
      redirect_url: null,
      error_reason: null,
      target_port_list: ['10.0.12.34:8080', '10.0.12.35:8080'],
      target_status_code_list: ['503', '-'],
      classification: 'Ambiguous',
      classification_reason: 'UndefinedContentLengthSemantics',
      traceability_id: null,
    });
  });

  it('takes the newer traceability id; later fields fail strict mode and are ignored without it', () => {
    assert.equal((value(`parse_aws_alb_log!(${vrlString(LINE + ' TID_0001')})`) as Record<string, unknown>).traceability_id, 'TID_0001');
    const longer = LINE + ' TID_0001 "-" "future"';
    assert.match(String(value(`_, err = parse_aws_alb_log(${vrlString(longer)})\nerr`)), /unexpected fields .*strict_mode: false/);
    assert.equal((value(`parse_aws_alb_log!(${vrlString(longer)}, strict_mode: false)`) as Record<string, unknown>).traceability_id, 'TID_0001');
  });

  it('rejects lines that are not ALB logs', () => {
    assert.match(String(value('_, err = parse_aws_alb_log("GET / 200")\nerr')), /expected at least 29 fields/);
    const badBytes = LINE.replace(' 812 420 ', ' 812 lots ');
    assert.match(String(value(`_, err = parse_aws_alb_log(${vrlString(badBytes)})\nerr`)), /invalid sent_bytes/);
    const open = LINE.slice(0, LINE.lastIndexOf('"'));
    assert.match(String(value(`_, err = parse_aws_alb_log(${vrlString(open)})\nerr`)), /unterminated quoted field/);
  });
});
