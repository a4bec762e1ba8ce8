import { bodyExcerpt, redactUrl, type HttpClient } from './http-client.js';

/** Request a URL through the sink's client (same TLS and auth); throw a clear error unless healthy (default 2xx). */
export async function httpHealthcheck(
  client: HttpClient,
  url: string,
  method = 'GET',
  healthy: (status: number) => boolean = (status) => status >= 200 && status < 300,
): Promise<void> {
  let status: number;
  let body: string;
  try {
    ({ status, body } = await client.send({ method, url }));
  } catch (error) {
    const err = error as Error & { cause?: Error };
    throw new Error(`healthcheck ${method} ${redactUrl(url)} failed: ${err.message}${err.cause ? ` (${err.cause.message})` : ''}`);
  }
  if (!healthy(status)) {
    const excerpt = bodyExcerpt(body, 200);
    throw new Error(`healthcheck ${method} ${redactUrl(url)} answered HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`);
  }
}
