import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { TlsOptions } from './schemas.js';

/**
 * Node TLS connect options from the `tls` block. Files are read once, at build time, so a wrong
 * path fails config loading with a clear message instead of every request.
 */
export function tlsConnectOptions(tls: TlsOptions | undefined): ConnectionOptions {
  if (!tls) return {};
  const options: ConnectionOptions = {
    rejectUnauthorized: tls.verify_certificate,
  };
  if (tls.ca_file) options.ca = readPem(tls.ca_file, 'tls.ca_file');
  if (tls.crt_file) options.cert = readPem(tls.crt_file, 'tls.crt_file');
  if (tls.key_file) options.key = readPem(tls.key_file, 'tls.key_file');
  if (tls.key_pass) options.passphrase = tls.key_pass;
  if (tls.server_name) options.servername = tls.server_name;
  if (!tls.verify_hostname) options.checkServerIdentity = () => undefined;
  if ((options.cert === undefined) !== (options.key === undefined)) throw new Error('tls.crt_file and tls.key_file go together');
  return options;
}

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`${option}: cannot read "${path}": ${(error as Error).message}`);
  }
}
