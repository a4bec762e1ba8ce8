import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface RunningS3 {
  url: string;
  /** A client of the same store, for reading back what the sink wrote. */
  client: S3Client;
  /** Keys and raw bodies of every object in a bucket, sorted by key. */
  objects(bucket: string): Promise<Array<{ key: string; body: Buffer; contentEncoding?: string | undefined; contentType?: string | undefined }>>;
  close(): Promise<void>;
}

// The SDK warns once per process that its 2027 releases will need Node 22: noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/**
 * s3rver (an S3-compatible server from npm, run in-process) on 127.0.0.1 with the given buckets.
 * It checks SigV4-signed requests' shape, stores objects on disk and speaks the real XML API.
 */
export async function startS3(buckets: string[], tls?: { cert: Buffer; key: Buffer; ca: Buffer }): Promise<RunningS3> {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
    ...(tls ? { cert: tls.cert, key: tls.key } : {}),
  });
  const { port } = await server.run();
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    ...(tls ? { requestHandler: { httpsAgent: { ca: tls.ca } } } : {}),
  });
  return {
    url,
    client,
    async objects(bucket) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      const out = [];
      for (const { Key } of listed.Contents ?? []) {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
        out.push({ key: Key!, body: Buffer.from(await object.Body!.transformToByteArray()), contentEncoding: object.ContentEncoding, contentType: object.ContentType });
      }
      return out.sort((a, b) => a.key.localeCompare(b.key));
    },
    async close() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
