import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway CA and a server certificate it signed, valid for 127.0.0.1 and localhost. */
export interface TestPki {
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
}

let cached: TestPki | undefined;

/**
 * Generate the test PKI with the `openssl` CLI (present on this machine kind; EC keys keep it fast).
 * Generated once per test process and shared: every fake server in the process uses the same CA.
 */
export function testPki(): TestPki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pki-'));
  try {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
    openssl('req', '-x509', '-new', '-key', 'ca.key', '-days', '2', '-subj', '/CN=sluice-test-ca', '-out', 'ca.crt');
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
    openssl('req', '-new', '-key', 'server.key', '-subj', '/CN=kube-apiserver', '-out', 'server.csr');
    writeFileSync(
      join(dir, 'ext.cnf'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
    );
    openssl(
      'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.crt',
    );
    cached = {
      caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      serverCertPem: readFileSync(join(dir, 'server.crt'), 'utf8'),
      serverKeyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
