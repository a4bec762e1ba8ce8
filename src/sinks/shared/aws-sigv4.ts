import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** SHA-256 / HMAC-SHA-256 from node:crypto in the shape the SigV4 signer expects. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }

  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

export interface AwsSignerOptions {
  region: string;
  /** Signing name: "es" for Amazon OpenSearch Service / Elasticsearch, "aoss" for OpenSearch Serverless. */
  service: string;
  /** Static keys; otherwise the SDK default chain (env, profile, IRSA, pod identity, IMDS). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** Signs HTTP requests with AWS Signature V4 (for Amazon OpenSearch Service). */
export class AwsRequestSigner {
  private readonly signer: SignatureV4;

  constructor(options: AwsSignerOptions) {
    this.signer = new SignatureV4({
      service: options.service,
      region: options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: NodeSha256,
      applyChecksum: true,
    });
  }

  /** The headers to send: the given ones plus host, x-amz-date, x-amz-content-sha256, authorization. */
  async sign(req: { method: string; url: string; headers: Record<string, string>; body?: string | Buffer | undefined }): Promise<Record<string, string>> {
    const url = new URL(req.url);
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const signed = await this.signer.sign({
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { ...req.headers, host: url.host },
      body: req.body,
    });
    return signed.headers;
  }
}
