import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import { getField, parsePath, type Fields, type LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { EventRejected, SinkDriver, type Prepared } from '../shared/driver.js';
import { AwsRequestSigner } from '../shared/aws-sigv4.js';
import { EventEncoder } from '../shared/encoding.js';
import { httpHealthcheck } from '../shared/healthcheck.js';
import { HttpClient } from '../shared/http-client.js';
import { outcomeFromStatus } from '../shared/http-outcome.js';
import { PayloadSlabs, contiguousRuns } from '../shared/payload-slabs.js';
import type { AttemptOutcome } from '../shared/outcome.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { EventTemplate } from '../shared/templating.js';
import { outcomeFromBulkResponse } from './bulk.js';
import type { ElasticsearchSinkConfig } from './schema.js';

/** Only what the sink reads from the answer: keeps large bulk responses small (ES and OpenSearch). */
const FILTER_PATH = 'errors,items.*.status,items.*.error.type,items.*.error.reason';

/**
 * Writes events with the bulk API: each document is an action line and a source line. All
 * documents of a batch go in one request whatever their index (the action names it), so batches
 * are not partitioned.
 */
export class ElasticsearchSink implements Sink {
  private readonly client: HttpClient;
  private readonly encoder: EventEncoder;
  private readonly index: EventTemplate;
  private readonly action: 'index' | 'create';
  private readonly idPath: readonly string[] | undefined;
  private readonly driver: SinkDriver<Buffer>;
  private readonly payloads = new PayloadSlabs(4 * 1024 * 1024, 4);
  private readonly bulkQuery: string;
  private nextEndpoint = 0;

  constructor(
    private readonly config: ElasticsearchSinkConfig,
    ctx: ComponentContext,
  ) {
    const dataStream = config.mode === 'data_stream';
    const { type, dataset, namespace } = config.data_stream;
    this.index = new EventTemplate(dataStream ? `${type}-${dataset}-${namespace}` : config.bulk.index, dataStream ? 'data_stream' : 'bulk.index');
    this.action = dataStream ? 'create' : config.bulk.action;
    this.idPath = config.id_key ? parsePath(config.id_key) : undefined;
    this.encoder = new EventEncoder({ codec: 'json', ...config.encoding });
    const auth = config.auth;
    if (auth?.strategy === 'aws' && !auth.access_key_id !== !auth.secret_access_key) {
      throw new Error('auth: access_key_id and secret_access_key go together (or leave both out for the default credential chain)');
    }
    this.client = new HttpClient({
      request: config.request,
      tls: config.tls,
      compression: config.compression,
      ...(auth?.strategy === 'aws'
        ? {
            signer: new AwsRequestSigner({
              region: auth.region,
              service: auth.service,
              credentials: auth.access_key_id && auth.secret_access_key ? { accessKeyId: auth.access_key_id, secretAccessKey: auth.secret_access_key } : undefined,
            }),
          }
        : { auth }),
    });
    const query = new URLSearchParams({ filter_path: FILTER_PATH, ...config.query });
    if (config.pipeline) query.set('pipeline', config.pipeline);
    this.bulkQuery = query.toString();
    this.driver = new SinkDriver<Buffer>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch), release: (batch) => this.payloads.release(batch.payloads) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  /** `GET /` on every endpoint: each node must answer (and accept our credentials). */
  async healthcheck(): Promise<void> {
    for (const endpoint of this.config.endpoints) await httpHealthcheck(this.client, baseUrl(endpoint) + '/');
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      await this.client.close();
    }
  }

  /** The action line and the source line, encoded into the payload slabs (see the http sink). */
  private prepare(event: LogEvent): Prepared<Buffer> {
    const meta: Record<string, string> = { _index: this.index.render(event.fields) };
    if (this.idPath) {
      const id = getField(event.fields, this.idPath);
      if (id !== undefined && id !== null) meta._id = typeof id === 'string' ? id : JSON.stringify(id);
    }
    const source = this.config.mode === 'data_stream' ? this.withTimestamp(event) : this.encoder.shippedFields(event);
    const payloads = this.payloads;
    payloads.begin();
    payloads.append(`{"${this.action}":${JSON.stringify(meta)}}\n`);
    this.encoder.encodeFieldsInto(source, payloads);
    payloads.appendByte(NEWLINE);
    const payload = payloads.end();
    return { key: '', payload, bytes: payload.length };
  }

  /**
   * Data streams index on `@timestamp`: take it from the event's `timestamp` when absent. Only the
   * top level is rebuilt: the frozen pod metadata keeps its cached JSON.
   */
  private withTimestamp(event: LogEvent): Fields {
    const fields: Fields = this.encoder.shippedFields(event);
    if (fields['@timestamp'] !== undefined) return fields;
    const timestamp = event.fields.timestamp;
    if (typeof timestamp !== 'string') throw new EventRejected('missing_timestamp', 'data_stream mode needs a timestamp field');
    const { timestamp: _, ...rest } = fields;
    return { '@timestamp': timestamp, ...rest };
  }

  private async send(batch: Batch<Buffer>): Promise<AttemptOutcome<Buffer>> {
    const endpoint = this.config.endpoints[this.nextEndpoint++ % this.config.endpoints.length]!;
    const runs = contiguousRuns(batch.payloads);
    // A partial retry holds scattered documents: join them rather than send many small writes.
    const { body, bytes, headers } = await this.client.encodeBody(runs.length > MAX_BODY_RUNS ? Buffer.concat(runs) : runs);
    const response = await this.client.send({
      method: 'POST',
      url: `${baseUrl(endpoint)}/_bulk?${this.bulkQuery}`,
      headers: { 'content-type': 'application/x-ndjson', ...headers },
      body,
    });
    if (response.status !== 200) return outcomeFromStatus(batch, response, bytes);
    return { ...outcomeFromBulkResponse(batch, response.body, bytes, this.action === 'create' && this.idPath !== undefined), status: 200 };
  }
}

const NEWLINE = 0x0a;
const MAX_BODY_RUNS = 4;

function baseUrl(endpoint: string): string {
  return endpoint.replace(/\/+$/, '');
}
