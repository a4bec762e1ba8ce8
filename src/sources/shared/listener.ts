import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

/** A PEM file named by a `tls.*` option; an unreadable one is an error naming the option. */
export function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`tls.${option}: cannot read "${path}": ${(error as Error).message}`);
  }
}

/** `host:port` or `[v6]:port` into its parts. */
export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (port > 65_535) throw new Error(`address "${address}": port out of range`);
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port };
}

/** What node's http, https and http2 servers have in common for listening. */
interface ListeningServer {
  once(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  listen(port: number, host: string, callback: () => void): unknown;
  address(): AddressInfo | string | null;
}

/** Listens on a source's `address`; resolves with the bound address (the port chosen for `:0`). */
export async function listenOn(server: ListeningServer, address: string): Promise<{ shown: string; port: number }> {
  const { host, port } = splitAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return { shown: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`, port: bound.port };
}
