// Test helper: nats-server configurations for nkey users and for decentralized (operator / JWT)
// auth with a .creds file, built with the nkeys shipped in the `nats` package. The JWTs are signed
// here the way nats-server verifies them (header.claims, ed25519 by the issuer's nkey).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nkeys } from 'nats';

type KeyPair = ReturnType<typeof nkeys.createUser>;

const b64url = (data: string | Uint8Array) => Buffer.from(data).toString('base64url');

/** A NATS v2 JWT: `sub` described by `nats` claims, signed by `issuer`. */
function signJwt(issuer: KeyPair, subject: KeyPair, name: string, nats: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject.getPublicKey(), nats: { ...nats, version: 2 } };
  claims.jti = createHash('sha256').update(JSON.stringify(claims)).digest('hex').toUpperCase();
  const payload = b64url(JSON.stringify(claims));
  const signature = b64url(issuer.sign(new TextEncoder().encode(`${header}.${payload}`)));
  return `${header}.${payload}.${signature}`;
}

const seedOf = (kp: KeyPair) => new TextDecoder().decode(kp.getSeed());

/** `authorization { users = [{ nkey }] }`: the user's seed logs in, any other is refused. */
export function nkeyServerConfig(dir: string): { configFile: string; seed: string; otherSeed: string } {
  const user = nkeys.createUser();
  const configFile = join(dir, 'nkey.conf');
  writeFileSync(configFile, `authorization {\n  users = [ { nkey: ${user.getPublicKey()} } ]\n}\n`);
  return { configFile, seed: seedOf(user), otherSeed: seedOf(nkeys.createUser()) };
}

/** Operator mode with a memory resolver: one account (JetStream enabled) and a user's .creds file. */
export function operatorServerConfig(dir: string): { configFile: string; credsFile: string; foreignCredsFile: string } {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
  const accountJwt = signJwt(operator, account, 'logs', { type: 'account', limits: unlimited, default_permissions: { pub: {}, sub: {} } });
  // JetStream needs a system account in operator mode.
  const system = nkeys.createAccount();
  const systemJwt = signJwt(operator, system, 'SYS', { type: 'account', limits: { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 } });
  const operatorJwt = signJwt(operator, operator, 'test-operator', { type: 'operator', system_account: system.getPublicKey() });
  const configFile = join(dir, 'operator.conf');
  writeFileSync(
    configFile,
    `operator: ${operatorJwt}\nsystem_account: ${system.getPublicKey()}\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: ${accountJwt}\n  ${system.getPublicKey()}: ${systemJwt}\n}\n`,
  );
  const userCreds = (issuer: KeyPair, file: string) => {
    const user = nkeys.createUser();
    const jwt = signJwt(issuer, user, 'sluice', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
    const path = join(dir, file);
    writeFileSync(
      path,
      `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
        `************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\n\n` +
        `-----BEGIN USER NKEY SEED-----\n${seedOf(user)}\n------END USER NKEY SEED------\n`,
    );
    return path;
  };
  // A user of an account the server does not know: its credentials must be refused.
  return { configFile, credsFile: userCreds(account, 'sluice.creds'), foreignCredsFile: userCreds(nkeys.createAccount(), 'foreign.creds') };
}
