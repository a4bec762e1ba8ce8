import { randomBytes } from 'node:crypto';
import { ReceiverFake, type ReceivedRequest } from './receiver.js';

export interface FakeStsOptions {
  roleArn: string;
  /** The projected ServiceAccount token (the web identity) STS accepts. */
  webIdentityToken: string;
  /** The temporary credentials handed out (the fake service in front checks signatures with them). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  lifetimeSecs?: number;
}

/**
 * A fake AWS STS answering `AssumeRoleWithWebIdentity` (IRSA) as documented: the AWS Query
 * protocol (`POST /`, form-encoded `Action`, `Version=2011-06-15`, `RoleArn`, `RoleSessionName`,
 * `WebIdentityToken`; unsigned), answered in XML with temporary credentials, or an
 * `InvalidIdentityToken` / `AccessDenied` error.
 */
export class FakeSts extends ReceiverFake {
  readonly issued: Array<{ accessKeyId: string; secretAccessKey: string; sessionToken: string; sessionName: string }> = [];

  constructor(private readonly options: FakeStsOptions) {
    super();
  }

  protected handle(request: ReceivedRequest): { status: number; body: string; headers: Record<string, string> } {
    const xml = { 'content-type': 'text/xml' };
    const error = (status: number, code: string, message: string) => ({
      status,
      headers: xml,
      body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
    });
    const form = new URLSearchParams(request.body);
    if (request.method !== 'POST' || form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15') return error(400, 'InvalidAction', 'Could not find operation');
    if (form.get('WebIdentityToken') !== this.options.webIdentityToken) return error(400, 'InvalidIdentityToken', 'The web identity token that was passed could not be validated by AWS.');
    if (form.get('RoleArn') !== this.options.roleArn) return error(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    const sessionName = form.get('RoleSessionName') ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) return error(400, 'ValidationError', 'RoleSessionName is invalid');
    const credentials = { ...this.options.credentials, sessionName };
    this.issued.push(credentials);
    const expiration = new Date(Date.now() + (this.options.lifetimeSecs ?? 3600) * 1000).toISOString();
    return {
      status: 200,
      headers: xml,
      body:
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
        `<SubjectFromWebIdentityToken>system:serviceaccount:logging:sluice</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience>` +
        `<AssumedRoleUser><Arn>${this.options.roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${sessionName}</Arn><AssumedRoleId>AROAFAKE:${sessionName}</AssumedRoleId></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey><SessionToken>${credentials.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `<Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/FAKE</Provider>` +
        `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
    };
  }
}
