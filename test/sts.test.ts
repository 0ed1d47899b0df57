// STS with @aws-sdk/client-sts: AssumeRole (trust policy, durations, cross-account),
// GetSessionToken, AssumeRoleWithWebIdentity and AssumeRoleWithSAML (unsigned), and the
// temporary credentials working against the other APIs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IAMClient, CreateRoleCommand } from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  DecodeAuthorizationMessageCommand,
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { awsError, CREDS, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
const opts = (accessKeyId = CREDS.accessKeyId, extra: Record<string, string> = {}) => ({
  endpoint: server.url,
  region: 'us-east-1',
  credentials: { ...CREDS, accessKeyId, ...extra },
  maxAttempts: 1,
});
const jwt = (claims: Record<string, unknown>) =>
  [{ alg: 'RS256', typ: 'JWT' }, claims].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') + '.c2lnbmF0dXJl';

before(async () => {
  server = await start();
  const iam = (account: string) => new IAMClient(opts(account));
  await iam('000000000000').send(
    new CreateRoleCommand({
      RoleName: 'deployer',
      MaxSessionDuration: 7200,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::000000000000:root' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': 'xyz' } },
          },
        ],
      }),
    }),
  );
  await iam('111111111111').send(
    new CreateRoleCommand({
      RoleName: 'audit',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: '000000000000' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  await iam('000000000000').send(
    new CreateRoleCommand({
      RoleName: 'gha',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: 'arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com' },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/*' } },
          },
        ],
      }),
    }),
  );
  await iam('000000000000').send(
    new CreateRoleCommand({
      RoleName: 'sso',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: 'arn:aws:iam::000000000000:saml-provider/corp' },
            Action: 'sts:AssumeRoleWithSAML',
            Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
          },
        ],
      }),
    }),
  );
});
after(async () => server.close());

describe('STS', () => {
  it('AssumeRole honours the trust policy (ExternalId), durations, and yields ASIA credentials usable everywhere', async () => {
    const sts = new STSClient(opts());
    let e = await awsError(() =>
      sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/deployer', RoleSessionName: 's1' })),
    );
    assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
    e = await awsError(() =>
      sts.send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/deployer',
          RoleSessionName: 's1',
          ExternalId: 'xyz',
          DurationSeconds: 7201,
        }),
      ),
    );
    assert.equal(e.name, 'ValidationError');
    e = await awsError(() =>
      sts.send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/deployer', RoleSessionName: 'bad name!', ExternalId: 'xyz' }),
      ),
    );
    assert.equal(e.name, 'ValidationError');
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/deployer',
        RoleSessionName: 's1',
        ExternalId: 'xyz',
        DurationSeconds: 7200,
      }),
    );
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
    assert.equal(out.AssumedRoleUser!.Arn, 'arn:aws:sts::000000000000:assumed-role/deployer/s1');
    assert.ok(out.Credentials!.Expiration!.getTime() - Date.now() > 7100_000);
    const temp = {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
    const who = await new STSClient({ ...opts(), credentials: temp }).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, 'arn:aws:sts::000000000000:assumed-role/deployer/s1');
    assert.match(who.UserId!, /^AROA[A-Z0-9]+:s1$/);
    assert.equal((await new EC2Client({ ...opts(), credentials: temp }).send(new DescribeVpcsCommand({}))).Vpcs!.length, 1);
    // role chaining is limited to one hour
    e = await awsError(() =>
      new STSClient({ ...opts(), credentials: temp }).send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/deployer',
          RoleSessionName: 's2',
          ExternalId: 'xyz',
          DurationSeconds: 3601,
        }),
      ),
    );
    assert.equal(e.name, 'ValidationError');
  });

  it('a role in another account makes the session act in that account', async () => {
    const out = await new STSClient(opts()).send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/audit', RoleSessionName: 'x-acct' }),
    );
    const temp = {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
    const who = await new STSClient({ ...opts(), credentials: temp }).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Account, '111111111111');
    const info = await new STSClient(opts()).send(new GetAccessKeyInfoCommand({ AccessKeyId: temp.accessKeyId }));
    assert.equal(info.Account, '111111111111');
  });

  it('GetSessionToken keeps the caller identity; not callable with session credentials', async () => {
    const out = await new STSClient(opts('222222222222')).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const temp = {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
    const who = await new STSClient({ ...opts(), credentials: temp }).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, 'arn:aws:iam::222222222222:root');
    const e = await awsError(() => new STSClient({ ...opts(), credentials: temp }).send(new GetSessionTokenCommand({})));
    assert.equal(e.name, 'AccessDenied');
  });

  it('AssumeRoleWithWebIdentity: claims checked against the trust policy; no AWS credentials needed', async () => {
    const sts = new STSClient({
      endpoint: server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: '', secretAccessKey: '' },
      signer: { sign: async (r: unknown) => r } as never,
    });
    const token = jwt({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:acme/app:ref:refs/heads/main',
      aud: 'sts.amazonaws.com',
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    const out = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/gha',
        RoleSessionName: 'ci',
        WebIdentityToken: token,
      }),
    );
    assert.equal(out.AssumedRoleUser!.Arn, 'arn:aws:sts::000000000000:assumed-role/gha/ci');
    assert.equal(out.SubjectFromWebIdentityToken, 'repo:acme/app:ref:refs/heads/main');
    let e = await awsError(() =>
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/gha',
          RoleSessionName: 'ci',
          WebIdentityToken: jwt({ iss: 'https://token.actions.githubusercontent.com', sub: 'repo:evil/app' }),
        }),
      ),
    );
    assert.equal(e.name, 'AccessDenied');
    e = await awsError(() =>
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/gha',
          RoleSessionName: 'ci',
          WebIdentityToken: 'not-a-jwt',
        }),
      ),
    );
    assert.equal(e.name, 'InvalidIdentityTokenException');
  });

  it("AssumeRoleWithSAML: the assertion's audience and the provider must match the trust policy", async () => {
    const sts = new STSClient({
      endpoint: server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: '', secretAccessKey: '' },
      signer: { sign: async (r: unknown) => r } as never,
    });
    const assertion = Buffer.from(
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice@example.com</saml:NameID></saml:Subject><saml:Conditions><saml:AudienceRestriction><saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience></saml:AudienceRestriction></saml:Conditions></saml:Assertion></samlp:Response>`,
    ).toString('base64');
    const out = await sts.send(
      new AssumeRoleWithSAMLCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/sso',
        PrincipalArn: 'arn:aws:iam::000000000000:saml-provider/corp',
        SAMLAssertion: assertion,
      }),
    );
    assert.equal(out.Subject, 'alice@example.com');
    assert.equal(out.Issuer, 'https://idp.example.com');
    assert.equal(out.SubjectType, 'persistent');
    const e = await awsError(() =>
      sts.send(
        new AssumeRoleWithSAMLCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/sso',
          PrincipalArn: 'arn:aws:iam::000000000000:saml-provider/other',
          SAMLAssertion: assertion,
        }),
      ),
    );
    assert.equal(e.name, 'AccessDenied');
  });

  it('DecodeAuthorizationMessage refuses what it did not encode', async () => {
    const e = await awsError(() => new STSClient(opts()).send(new DecodeAuthorizationMessageCommand({ EncodedMessage: 'garbage' })));
    assert.deepEqual([e.name, e.status], ['InvalidAuthorizationMessageException', 400]);
  });
});
