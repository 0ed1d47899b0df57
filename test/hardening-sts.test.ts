// No token can block or crash STS: AssumeRoleWithSAML bounds the assertion as the API reference
// does and reads it with linear scans; AssumeRoleWithWebIdentity decodes any token totally, so a
// malformed JWT is InvalidIdentityToken (400), never a 500. The server runs on a worker thread
// (helpers/worker-server.ts): a blocked server shows as a 10 s timeout here, not a frozen test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IAMClient, CreateRoleCommand } from '@aws-sdk/client-iam';
import { AssumeRoleWithSAMLCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { awsError, CREDS } from './helpers/server.ts';
import { startInWorker, withinTime, type WorkerServer } from './helpers/worker-server.ts';

let server: WorkerServer;
let sts: STSClient;
const SSO = 'arn:aws:iam::000000000000:role/sso';
const CORP = 'arn:aws:iam::000000000000:saml-provider/corp';
const GHA = 'arn:aws:iam::000000000000:role/gha';
const INVALID_JWT = 'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const jwt = (claims: unknown, header: unknown = { alg: 'RS256', typ: 'JWT' }) =>
  `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;
const GOOD_CLAIMS = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:acme/app:ref:refs/heads/main',
  aud: 'sts.amazonaws.com',
};

function saml(inner: string): string {
  return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${inner}</saml:Assertion></samlp:Response>`;
}
const ALICE =
  '<saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice@example.com</saml:NameID></saml:Subject>' +
  '<saml:Conditions><saml:AudienceRestriction><saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience></saml:AudienceRestriction></saml:Conditions>';

const assumeSaml = (SAMLAssertion: string, extra: { Policy?: string } = {}) =>
  withinTime(
    sts.send(new AssumeRoleWithSAMLCommand({ RoleArn: SSO, PrincipalArn: CORP, SAMLAssertion, ...extra })),
    10_000,
    'AssumeRoleWithSAML',
  );
const assumeWeb = (WebIdentityToken: string, extra: { Policy?: string } = {}) =>
  withinTime(
    sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: GHA, RoleSessionName: 'ci', WebIdentityToken, ...extra })),
    10_000,
    'AssumeRoleWithWebIdentity',
  );
const stillServing = async () =>
  assert.equal(
    (
      await withinTime(
        new STSClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 }).send(
          new GetCallerIdentityCommand({}),
        ),
      )
    ).Account,
    '000000000000',
  );

before(async () => {
  server = await startInWorker();
  // federation calls are unsigned
  sts = new STSClient({
    endpoint: server.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: '', secretAccessKey: '' },
    signer: { sign: async (r: unknown) => r } as never,
  });
  const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'sso',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: CORP },
            Action: 'sts:AssumeRoleWithSAML',
            Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
          },
        ],
      }),
    }),
  );
  await iam.send(
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
  iam.destroy();
});
after(async () => {
  sts?.destroy();
  await server?.close();
});

describe('AssumeRoleWithSAML', () => {
  // STS API reference, AssumeRoleWithSAML: "SAMLAssertion […] Length Constraints: Minimum length of 4.
  // Maximum length of 100000." (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithSAML.html)
  it('an assertion longer than 100,000 characters is a ValidationError (400), answered promptly', async () => {
    const crafted = b64(`<saml:Assertion>${'<saml:Issuer'.repeat(15_000)}`); // ~240 KB
    const e = await awsError(() => assumeSaml(crafted));
    assert.deepEqual([e.name, e.status], ['ValidationError', 400]);
    assert.equal(
      e.message,
      "1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length less than or equal to 100000",
    );
    await stillServing();
  });

  it('an assertion shorter than 4 characters is a ValidationError; one that is not a SAML response is InvalidIdentityToken', async () => {
    let e = await awsError(() => assumeSaml('abc'));
    assert.deepEqual([e.name, e.status], ['ValidationError', 400]);
    assert.match(e.message, /at 'sAMLAssertion' failed to satisfy constraint: Member must have length greater than or equal to 4$/);
    e = await awsError(() => assumeSaml('this is not base64 and not XML!'));
    assert.deepEqual([e.name, e.status], ['InvalidIdentityTokenException', 400]);
    e = await awsError(() => assumeSaml(b64('<saml:AssertionX>not an assertion</saml:AssertionX>')));
    assert.deepEqual([e.name, e.status], ['InvalidIdentityTokenException', 400]);
  });

  it('crafted assertions at the length limit are read in linear time', async () => {
    // each would make a `<Tag[^>]*>`-style RegExp rescan the rest of the document from every occurrence
    const room = (fill: string) => fill.repeat(Math.floor((75_000 - 200) / fill.length));
    for (const body of [room('<saml:Issuer'), room('<NameID Format="x'), room('NotOnOrAfter="'), room('<saml:Audience>x'), room('<a:')]) {
      const assertion = b64(`${body}<saml:Assertion>`);
      assert.ok(assertion.length <= 100_000);
      const out = await assumeSaml(assertion).catch((e: { name: string }) => e);
      assert.ok(
        !(out instanceof Error) || ['InvalidIdentityTokenException', 'ExpiredTokenException', 'AccessDenied'].includes(out.name),
        String(out),
      );
    }
    await stillServing();
  });

  it('valid assertions read as before: prefixes, Format, Audience; NotOnOrAfter expires, SessionNotOnOrAfter does not', async () => {
    let out = await assumeSaml(b64(saml(ALICE)));
    assert.deepEqual(
      [out.Subject, out.Issuer, out.SubjectType, out.Audience],
      ['alice@example.com', 'https://idp.example.com', 'persistent', 'https://signin.aws.amazon.com/saml'],
    );
    // no prefixes, attributes on every element, whitespace around the text
    out = await assumeSaml(
      b64(
        '<Response><Assertion ID="_1" Version="2.0"><Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity"> https://idp.example.org </Issuer>' +
          '<Subject><NameID SPNameQualifier="x" Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">bob@example.org</NameID></Subject></Assertion></Response>',
      ),
    );
    assert.deepEqual(
      [out.Subject, out.Issuer, out.SubjectType, out.Audience],
      ['bob@example.org', 'https://idp.example.org', 'emailAddress', 'https://signin.aws.amazon.com/saml'],
    );
    assert.equal(out.AssumedRoleUser!.Arn, 'arn:aws:sts::000000000000:assumed-role/sso/bob@example.org');
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const e = await awsError(() => assumeSaml(b64(saml(`${ALICE}<saml:SubjectConfirmationData NotOnOrAfter="${past}"/>`))));
    assert.deepEqual([e.name, e.status], ['ExpiredTokenException', 400]);
    out = await assumeSaml(
      b64(saml(`<saml:AuthnStatement SessionNotOnOrAfter="${past}"/><saml:SubjectConfirmationData NotOnOrAfter="${future}"/>${ALICE}`)),
    );
    assert.equal(out.Subject, 'alice@example.com');
  });

  it('a session Policy that is not a policy is MalformedPolicyDocument (400), as in AssumeRole', async () => {
    const e = await awsError(() => assumeSaml(b64(saml(ALICE)), { Policy: '{not json' }));
    assert.deepEqual([e.name, e.status], ['MalformedPolicyDocumentException', 400]);
  });
});

describe('AssumeRoleWithWebIdentity', () => {
  it('a JWT whose claims are null is InvalidIdentityToken (400), not a 500', async () => {
    const e = await awsError(() => assumeWeb('e30.bnVsbA.x'));
    assert.deepEqual([e.name, e.status, e.message], ['InvalidIdentityTokenException', 400, INVALID_JWT]);
    await stillServing();
  });

  it('any token that is not three base64url parts with a JSON object header and JSON object claims is InvalidIdentityToken', async () => {
    const tokens: Record<string, string> = {
      'header null': `${b64url('null')}.${b64url(JSON.stringify(GOOD_CLAIMS))}.x`,
      'header an array': jwt(GOOD_CLAIMS, []),
      'claims an array': jwt([GOOD_CLAIMS]),
      'claims a string': jwt('claims'),
      'claims a number': jwt(42),
      'claims not JSON': `${b64url('{}')}.${b64url('{"iss":')}.x`,
      'claims empty': `${b64url('{}')}..x`,
      'four parts': `${jwt(GOOD_CLAIMS)}.x`,
      'two parts': jwt(GOOD_CLAIMS).split('.').slice(0, 2).join('.'),
      'not base64url': `${b64url('{}')}.${b64(JSON.stringify({ ...GOOD_CLAIMS, sub: 'repo:acme/app??>>' }))}.x`,
      padded: `${b64url('{}')}.${b64url(JSON.stringify(GOOD_CLAIMS))}==.x`,
    };
    for (const [what, token] of Object.entries(tokens)) {
      const e = await awsError(() => assumeWeb(token));
      assert.deepEqual([e.name, e.status, e.message], ['InvalidIdentityTokenException', 400, INVALID_JWT], what);
    }
    await stillServing();
  });

  it('claims of the wrong type are InvalidIdentityToken', async () => {
    const claims: Record<string, unknown> = {
      'iss a number': { ...GOOD_CLAIMS, iss: 42 },
      'iss an object': { ...GOOD_CLAIMS, iss: { toString: 1 } },
      'sub an object': { ...GOOD_CLAIMS, sub: { toString: 1 } },
      'sub null': { ...GOOD_CLAIMS, sub: null },
      'exp a string': { ...GOOD_CLAIMS, exp: 'tomorrow' },
      'exp null': { ...GOOD_CLAIMS, exp: null },
      'aud an object': { ...GOOD_CLAIMS, aud: { toString: 1 } },
      'aud a number': { ...GOOD_CLAIMS, aud: 7 },
      'aud a list with a number': { ...GOOD_CLAIMS, aud: ['sts.amazonaws.com', 7] },
      'amr a list of objects': { ...GOOD_CLAIMS, amr: [{ toString: 1 }] },
    };
    for (const [what, c] of Object.entries(claims)) {
      const e = await awsError(() => assumeWeb(jwt(c)));
      assert.deepEqual([e.name, e.status, e.message], ['InvalidIdentityTokenException', 400, INVALID_JWT], what);
    }
    await stillServing();
  });

  // STS API reference, AssumeRoleWithWebIdentity: "WebIdentityToken […] Length Constraints: Minimum
  // length of 4. Maximum length of 20000." (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html)
  it('a token outside 4 to 20,000 characters is a ValidationError (400)', async () => {
    let e = await awsError(() => assumeWeb(jwt({ ...GOOD_CLAIMS, pad: 'x'.repeat(20_000) })));
    assert.deepEqual([e.name, e.status], ['ValidationError', 400]);
    assert.equal(
      e.message,
      "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000",
    );
    e = await awsError(() => assumeWeb('a.b'));
    assert.deepEqual([e.name, e.status], ['ValidationError', 400]);
  });

  it('valid tokens work as before; a session Policy that is not a policy is MalformedPolicyDocument', async () => {
    const out = await assumeWeb(
      jwt({ ...GOOD_CLAIMS, aud: ['sts.amazonaws.com', 'other'], amr: ['pwd'], exp: Math.floor(Date.now() / 1000) + 600 }),
    );
    assert.deepEqual(
      [out.SubjectFromWebIdentityToken, out.Provider, out.Audience],
      [GOOD_CLAIMS.sub, GOOD_CLAIMS.iss, 'sts.amazonaws.com'],
    );
    let e = await awsError(() => assumeWeb(jwt({ ...GOOD_CLAIMS, exp: Math.floor(Date.now() / 1000) - 600 })));
    assert.deepEqual([e.name, e.status], ['ExpiredTokenException', 400]);
    e = await awsError(() => assumeWeb(jwt(GOOD_CLAIMS), { Policy: '{not json' }));
    assert.deepEqual([e.name, e.status], ['MalformedPolicyDocumentException', 400]);
    await stillServing();
  });
});
