// The IAM policy engine (src/auth/policy.ts) against AWS's documented evaluation logic.
// Each case names the IAM User Guide page whose rule it checks:
//   [eval]      Policy evaluation logic
//   [action]    IAM JSON policy elements: Action / NotAction
//   [resource]  IAM JSON policy elements: Resource / NotResource
//   [principal] AWS JSON policy elements: Principal / NotPrincipal
//   [ops]       IAM JSON policy elements: Condition operators
//   [multi]     Conditions with multiple context keys or values
//   [sets]      Single-valued vs. multivalued context keys (set operators)
//   [vars]      IAM policy elements: Variables and tags
//   [version]   IAM JSON policy elements: Version
//   [keys]      AWS global condition context keys
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  evaluate,
  evaluateTrust,
  matchesPrincipal,
  parsePolicy,
  PolicyParseError,
  type Decision,
  type ParsedPolicy,
  type PolicyStatement,
  type RequestContext,
} from '../src/auth/iam-policy.ts';
import { compileTemplate, globMatch, matchTemplate, toRegExp, tokenize } from '../src/auth/policy-glob.ts';

type Stmt = Record<string, unknown>;
const doc = (...Statement: Stmt[]) => ({ Version: '2012-10-17', Statement });
const allow = (s: Stmt = {}): Stmt => ({ Effect: 'Allow', Action: '*', Resource: '*', ...s });
const deny = (s: Stmt = {}): Stmt => ({ Effect: 'Deny', Action: '*', Resource: '*', ...s });

const ACCT = '111122223333';
const OTHER = '444455556666';
const SG = `arn:aws:ec2:us-east-1:${ACCT}:security-group/sg-0123456789abcdef0`;
const VPC = `arn:aws:ec2:us-east-1:${ACCT}:vpc/vpc-0abc`;
const ALICE = `arn:aws:iam::${ACCT}:user/alice`;
const BOB = `arn:aws:iam::${ACCT}:user/bob`;
const ROLE = `arn:aws:iam::${ACCT}:role/deploy`;
const SESSION = `arn:aws:sts::${ACCT}:assumed-role/deploy/ci-run-1`;
const GH = `arn:aws:iam::${ACCT}:oidc-provider/token.actions.githubusercontent.com`;

interface Case {
  name: string;
  docs: object[];
  req: Partial<RequestContext>;
  expect: Decision;
  /** evaluate as a resource/trust policy (single document) */
  trust?: boolean;
}

const req = (r: Partial<RequestContext>): RequestContext => ({
  action: 'ec2:AuthorizeSecurityGroupIngress',
  resource: SG,
  context: {},
  ...r,
});

const IDENTITY: Case[] = [
  // ---- evaluation logic
  { name: '[eval] with no policy every request is implicitly denied', docs: [], req: {}, expect: 'ImplicitDeny' },
  { name: '[eval] an applicable Allow allows', docs: [doc(allow())], req: {}, expect: 'Allow' },
  { name: '[eval] an explicit deny overrides an allow in the same policy', docs: [doc(allow(), deny())], req: {}, expect: 'ExplicitDeny' },
  {
    name: '[eval] an explicit deny in another policy overrides an allow',
    docs: [doc(allow()), doc(deny({ Action: 'ec2:Authorize*' }))],
    req: {},
    expect: 'ExplicitDeny',
  },
  { name: '[eval] a Deny alone gives an explicit deny', docs: [doc(deny())], req: {}, expect: 'ExplicitDeny' },
  {
    name: '[eval] an Allow for other actions leaves the implicit deny',
    docs: [doc(allow({ Action: 'ec2:Describe*' }))],
    req: {},
    expect: 'ImplicitDeny',
  },
  {
    name: '[eval] a Deny that does not apply does not affect an Allow',
    docs: [doc(allow(), deny({ Action: 'iam:*' }))],
    req: {},
    expect: 'Allow',
  },

  // ---- Action / NotAction
  {
    name: '[action] the prefix and the action name are case insensitive',
    docs: [doc(allow({ Action: 'EC2:authorizesecuritygroupINGRESS' }))],
    req: {},
    expect: 'Allow',
  },
  {
    name: '[action] * wildcard after the service prefix',
    docs: [doc(allow({ Action: 'ec2:Describe*' }))],
    req: { action: 'ec2:DescribeVpcs', resource: '*' },
    expect: 'Allow',
  },
  {
    name: '[action] a wildcard does not widen past its literal text',
    docs: [doc(allow({ Action: 'ec2:Describe*' }))],
    req: { action: 'ec2:RunInstances' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[action] ? matches a single character',
    docs: [doc(allow({ Action: 'ec2:?escribeVpcs' }))],
    req: { action: 'ec2:DescribeVpcs', resource: '*' },
    expect: 'Allow',
  },
  {
    name: '[action] wildcards in the middle of the name (iam:*AccessKey*)',
    docs: [doc(allow({ Action: 'iam:*AccessKey*' }))],
    req: { action: 'iam:CreateAccessKey', resource: ALICE },
    expect: 'Allow',
  },
  {
    name: '[action] the service prefix is part of the match',
    docs: [doc(allow({ Action: 'ec2:*' }))],
    req: { action: 'iam:ListUsers', resource: '*' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[action] "*" alone matches every action of every service',
    docs: [doc(allow({ Action: '*' }))],
    req: { action: 'iam:CreateUser', resource: ALICE },
    expect: 'Allow',
  },
  {
    name: '[action] a list of actions is OR-ed',
    docs: [doc(allow({ Action: ['iam:ListUsers', 'ec2:AuthorizeSecurityGroupIngress'] }))],
    req: {},
    expect: 'Allow',
  },
  {
    name: '[action] Allow with NotAction allows every other action',
    docs: [doc(allow({ Action: undefined, NotAction: 'iam:*' }))],
    req: { action: 'ec2:RunInstances' },
    expect: 'Allow',
  },
  {
    name: '[action] Allow with NotAction does not allow the listed actions',
    docs: [doc(allow({ Action: undefined, NotAction: 'iam:*' }))],
    req: { action: 'iam:CreateUser' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[action] Deny with NotAction denies everything not listed',
    docs: [doc(allow(), deny({ Action: undefined, NotAction: ['ec2:*', 'sts:GetCallerIdentity'] }))],
    req: { action: 'iam:CreateUser' },
    expect: 'ExplicitDeny',
  },
  {
    name: '[action] Deny with NotAction leaves the listed actions to the Allow',
    docs: [doc(allow(), deny({ Action: undefined, NotAction: ['ec2:*', 'sts:GetCallerIdentity'] }))],
    req: { action: 'ec2:RunInstances' },
    expect: 'Allow',
  },
  {
    name: '[action] NotAction matching is case-insensitive too',
    docs: [doc(allow(), deny({ Action: undefined, NotAction: 'EC2:*' }))],
    req: { action: 'ec2:RunInstances' },
    expect: 'Allow',
  },

  // ---- Resource / NotResource
  { name: '[resource] an exact ARN', docs: [doc(allow({ Resource: SG }))], req: {}, expect: 'Allow' },
  {
    name: '[resource] "the IAM user name is case sensitive" in Resource',
    docs: [doc(allow({ Resource: `arn:aws:iam::${ACCT}:user/Bob` }))],
    req: { action: 'iam:GetUser', resource: BOB },
    expect: 'ImplicitDeny',
  },
  {
    name: '[resource] * in the region and account segments',
    docs: [doc(allow({ Resource: 'arn:aws:ec2:*:*:security-group/*' }))],
    req: {},
    expect: 'Allow',
  },
  {
    name: '[resource] * inside a segment (us-*-1) matches us-east-1',
    docs: [doc(allow({ Resource: `arn:aws:ec2:us-*-1:${ACCT}:security-group/*` }))],
    req: {},
    expect: 'Allow',
  },
  {
    name: '[resource] * inside a segment does not match another region',
    docs: [doc(allow({ Resource: `arn:aws:ec2:us-*-1:${ACCT}:security-group/*` }))],
    req: { resource: SG.replace('us-east-1', 'eu-west-2') },
    expect: 'ImplicitDeny',
  },
  {
    name: '[resource] ? matches one character of a segment',
    docs: [doc(allow({ Resource: `arn:aws:ec2:us-east-?:${ACCT}:security-group/*` }))],
    req: {},
    expect: 'Allow',
  },
  {
    name: '[resource] a * that ends a segment can expand beyond colon boundaries',
    docs: [doc(allow({ Resource: 'arn:aws:ec2:us-east-1:*' }))],
    req: {},
    expect: 'Allow',
  },
  {
    name: '[resource] a * inside a segment does not cross a colon',
    docs: [doc(allow({ Resource: 'arn:aws:s3:::bucket/a*b' }))],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/a:x:b' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[resource] * spans slashes: bucket/*/test/* matches bucket/1///test///object.jpg',
    docs: [doc(allow({ Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*/test/*' }))],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/1///test///object.jpg' },
    expect: 'Allow',
  },
  {
    name: '[resource] bucket/*/test/* does not match bucket/1-test/object.jpg',
    docs: [doc(allow({ Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*/test/*' }))],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/1-test/object.jpg' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[resource] an action without resource-level permissions needs Resource "*"',
    docs: [doc(allow({ Resource: 'arn:aws:ec2:*:*:vpc/*' }))],
    req: { action: 'ec2:DescribeVpcs', resource: '*' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[resource] Allow with NotResource allows other resources',
    docs: [doc(allow({ Action: 's3:*', Resource: undefined, NotResource: 'arn:aws:s3:::data/private/*' }))],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::data/public/a.txt' },
    expect: 'Allow',
  },
  {
    name: '[resource] Allow with NotResource does not allow the listed resources',
    docs: [doc(allow({ Action: 's3:*', Resource: undefined, NotResource: 'arn:aws:s3:::data/private/*' }))],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::data/private/a.txt' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[resource] Deny with NotResource denies every other resource',
    docs: [doc(allow(), deny({ Action: 'iam:PassRole', Resource: undefined, NotResource: `arn:aws:iam::${ACCT}:role/app` }))],
    req: { action: 'iam:PassRole', resource: ROLE },
    expect: 'ExplicitDeny',
  },
  {
    name: '[resource] Deny with NotResource spares the listed resource',
    docs: [doc(allow(), deny({ Action: 'iam:PassRole', Resource: undefined, NotResource: `arn:aws:iam::${ACCT}:role/app` }))],
    req: { action: 'iam:PassRole', resource: `arn:aws:iam::${ACCT}:role/app` },
    expect: 'Allow',
  },

  // ---- policy variables
  {
    name: '[vars] ${aws:username} in Resource resolves to the caller',
    docs: [doc(allow({ Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' }))],
    req: { action: 's3:PutObject', resource: 'arn:aws:s3:::home/alice/notes.txt', context: { 'aws:username': 'alice' } },
    expect: 'Allow',
  },
  {
    name: "[vars] ${aws:username} does not match another user's folder",
    docs: [doc(allow({ Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' }))],
    req: { action: 's3:PutObject', resource: 'arn:aws:s3:::home/bob/notes.txt', context: { 'aws:username': 'alice' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[vars] a resource with a variable that has no value matches no resource',
    docs: [doc(allow({ Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' }))],
    req: { action: 's3:PutObject', resource: 'arn:aws:s3:::home/alice/notes.txt' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[vars] variable key names are case-insensitive',
    docs: [doc(allow({ Action: 's3:*', Resource: 'arn:aws:s3:::home/${AWS:UserName}/*' }))],
    req: { action: 's3:PutObject', resource: 'arn:aws:s3:::home/alice/x', context: { 'aws:username': 'alice' } },
    expect: 'Allow',
  },
  {
    name: '[vars] ${aws:userid} in Resource',
    docs: [doc(allow({ Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:userid}/*' }))],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::home/AIDAEXAMPLE/x', context: { 'aws:userid': 'AIDAEXAMPLE' } },
    expect: 'Allow',
  },
  {
    name: "[vars] a variable's value is literal text, not a wildcard",
    docs: [doc(allow({ Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' }))],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::home/alice/x', context: { 'aws:username': '*' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[vars] a multivalued key is not a variable',
    docs: [doc(allow({ Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:TagKeys}/*' }))],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::home/env/x', context: { 'aws:TagKeys': ['env'] } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[vars] ${aws:PrincipalTag/team} compared with aws:ResourceTag/team (equal)',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } }))],
    req: { context: { 'aws:PrincipalTag/team': 'web', 'aws:ResourceTag/team': 'web' } },
    expect: 'Allow',
  },
  {
    name: '[vars] ${aws:PrincipalTag/team} compared with aws:ResourceTag/team (different)',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } }))],
    req: { context: { 'aws:PrincipalTag/team': 'web', 'aws:ResourceTag/team': 'db' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[vars] StringEquals with a variable that has no value does not match',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } }))],
    req: { context: { 'aws:ResourceTag/team': 'web' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[vars] "inverted condition operators like StringNotEquals do match against a null value"',
    docs: [doc(allow({ Condition: { StringNotEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } }))],
    req: { context: { 'aws:ResourceTag/team': 'web' } },
    expect: 'Allow',
  },
  {
    name: '[vars] a default value applies when the key has none',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/team': "${aws:PrincipalTag/team, 'company-wide'}" } } }))],
    req: { context: { 'aws:ResourceTag/team': 'company-wide' } },
    expect: 'Allow',
  },
  {
    name: '[vars] ${*} is a literal * in StringLike, not a wildcard',
    docs: [doc(allow({ Condition: { StringLike: { 's3:prefix': 'a${*}b' } } }))],
    req: { context: { 's3:prefix': 'axb' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[vars] ${*} matches a literal *',
    docs: [doc(allow({ Condition: { StringLike: { 's3:prefix': 'a${*}b*' } } }))],
    req: { context: { 's3:prefix': 'a*b/c' } },
    expect: 'Allow',
  },
  {
    name: '[vars] ${?} and ${$} are the literal characters',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/cost': 'what${?}${$}' } } }))],
    req: { context: { 'aws:ResourceTag/cost': 'what?$' } },
    expect: 'Allow',
  },
  {
    name: '[vars] a NotResource with a variable that has no value matches no resource (Deny applies)',
    docs: [doc(allow(), deny({ Action: 's3:*', Resource: undefined, NotResource: 'arn:aws:s3:::home/${aws:username}/*' }))],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::home/alice/x' },
    expect: 'ExplicitDeny',
  },
  {
    name: '[version] without Version 2012-10-17, ${aws:username} is literal text',
    docs: [{ Statement: [allow({ Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' })] }],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::home/alice/x', context: { 'aws:username': 'alice' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[version] under 2008-10-17 the literal ${aws:username} is what matches',
    docs: [{ Version: '2008-10-17', Statement: [allow({ Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' })] }],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::home/${aws:username}/x', context: { 'aws:username': 'alice' } },
    expect: 'Allow',
  },

  // ---- string operators and EC2 tag conditions
  {
    name: '[ops] StringEquals ec2:ResourceTag/env "dev" allows a dev security group',
    docs: [doc(allow({ Action: 'ec2:AuthorizeSecurityGroupIngress', Condition: { StringEquals: { 'ec2:ResourceTag/env': 'dev' } } }))],
    req: { context: { 'ec2:ResourceTag/env': 'dev' } },
    expect: 'Allow',
  },
  {
    name: '[ops] StringEquals ec2:ResourceTag/env "dev" does not allow a prod one',
    docs: [doc(allow({ Action: 'ec2:AuthorizeSecurityGroupIngress', Condition: { StringEquals: { 'ec2:ResourceTag/env': 'dev' } } }))],
    req: { context: { 'ec2:ResourceTag/env': 'prod' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] a key absent from the request context makes StringEquals false',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/env': 'dev' } } }))],
    req: {},
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] context key names are not case-sensitive (aws:ResourceTag/env)',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/env': 'dev' } } }))],
    req: { context: { 'AWS:RESOURCETAG/ENV': 'dev' } },
    expect: 'Allow',
  },
  {
    name: '[ops] StringEquals is case sensitive on values',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/env': 'dev' } } }))],
    req: { context: { 'aws:ResourceTag/env': 'Dev' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] Deny on ec2:ResourceTag/env "prod" beats an Allow',
    docs: [doc(allow(), deny({ Action: 'ec2:*', Condition: { StringEquals: { 'ec2:ResourceTag/env': 'prod' } } }))],
    req: { context: { 'ec2:ResourceTag/env': 'prod' } },
    expect: 'ExplicitDeny',
  },
  {
    name: '[ops] StringNotEquals: absent key makes a negated operator true',
    docs: [doc(allow({ Condition: { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } } }))],
    req: {},
    expect: 'Allow',
  },
  {
    name: '[ops] StringNotEquals on a present different value is true',
    docs: [doc(allow({ Condition: { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } } }))],
    req: { context: { 'aws:ResourceTag/env': 'dev' } },
    expect: 'Allow',
  },
  {
    name: "[multi] a negated operator's values are NOR-ed: matching any one makes it false",
    docs: [doc(allow({ Condition: { StringNotEquals: { 'aws:ResourceTag/env': ['prod', 'staging'] } } }))],
    req: { context: { 'aws:ResourceTag/env': 'staging' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[multi] a negated operator with several values is true when none match',
    docs: [doc(allow({ Condition: { StringNotEquals: { 'aws:ResourceTag/env': ['prod', 'staging'] } } }))],
    req: { context: { 'aws:ResourceTag/env': 'dev' } },
    expect: 'Allow',
  },
  {
    name: '[multi] several values of one key are OR-ed',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/env': ['dev', 'test'] } } }))],
    req: { context: { 'aws:ResourceTag/env': 'test' } },
    expect: 'Allow',
  },
  {
    name: '[multi] several keys under one operator are AND-ed',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/env': 'dev', 'aws:RequestedRegion': 'eu-west-1' } } }))],
    req: { context: { 'aws:ResourceTag/env': 'dev', 'aws:RequestedRegion': 'us-east-1' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[multi] several operators are AND-ed (all hold)',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/env': 'dev' }, Bool: { 'aws:SecureTransport': 'true' } } }))],
    req: { context: { 'aws:ResourceTag/env': 'dev', 'aws:SecureTransport': true } },
    expect: 'Allow',
  },
  {
    name: '[multi] several operators are AND-ed (one fails)',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:ResourceTag/env': 'dev' }, Bool: { 'aws:SecureTransport': 'true' } } }))],
    req: { context: { 'aws:ResourceTag/env': 'dev', 'aws:SecureTransport': false } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] StringEqualsIgnoreCase ignores case',
    docs: [doc(allow({ Condition: { StringEqualsIgnoreCase: { 'aws:ResourceTag/env': 'DEV' } } }))],
    req: { context: { 'aws:ResourceTag/env': 'dev' } },
    expect: 'Allow',
  },
  {
    name: '[ops] StringNotEqualsIgnoreCase is false for a case-only difference',
    docs: [doc(allow({ Condition: { StringNotEqualsIgnoreCase: { 'aws:ResourceTag/env': 'DEV' } } }))],
    req: { context: { 'aws:ResourceTag/env': 'Dev' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] StringLike with * and ?',
    docs: [doc(allow({ Condition: { StringLike: { 'aws:ResourceTag/env': ['d?v-*'] } } }))],
    req: { context: { 'aws:ResourceTag/env': 'dev-42' } },
    expect: 'Allow',
  },
  {
    name: '[ops] StringLike is case sensitive',
    docs: [doc(allow({ Condition: { StringLike: { 'aws:ResourceTag/env': 'dev-*' } } }))],
    req: { context: { 'aws:ResourceTag/env': 'DEV-42' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] StringNotLike is false for a matching value',
    docs: [doc(allow({ Condition: { StringNotLike: { 'aws:ResourceTag/env': 'prod*' } } }))],
    req: { context: { 'aws:ResourceTag/env': 'production' } },
    expect: 'ImplicitDeny',
  },

  // ---- numeric
  {
    name: '[ops] NumericLessThan true below the value',
    docs: [doc(allow({ Condition: { NumericLessThan: { 's3:max-keys': '10' } } }))],
    req: { context: { 's3:max-keys': '5' } },
    expect: 'Allow',
  },
  {
    name: '[ops] NumericLessThan false at the value',
    docs: [doc(allow({ Condition: { NumericLessThan: { 's3:max-keys': '10' } } }))],
    req: { context: { 's3:max-keys': 10 } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] NumericLessThanEquals true at the value',
    docs: [doc(allow({ Condition: { NumericLessThanEquals: { 's3:max-keys': 10 } } }))],
    req: { context: { 's3:max-keys': 10 } },
    expect: 'Allow',
  },
  {
    name: '[ops] NumericGreaterThan compares decimals',
    docs: [doc(allow({ Condition: { NumericGreaterThan: { 'ec2:VolumeSize': '1.5' } } }))],
    req: { context: { 'ec2:VolumeSize': '1.75' } },
    expect: 'Allow',
  },
  {
    name: '[ops] NumericGreaterThanEquals false below',
    docs: [doc(allow({ Condition: { NumericGreaterThanEquals: { 'ec2:VolumeSize': '100' } } }))],
    req: { context: { 'ec2:VolumeSize': 99 } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] NumericEquals compares numbers, not text (10 = 10.0)',
    docs: [doc(allow({ Condition: { NumericEquals: { 'ec2:VolumeSize': '10.0' } } }))],
    req: { context: { 'ec2:VolumeSize': '10' } },
    expect: 'Allow',
  },
  {
    name: '[ops] NumericNotEquals false for an equal number',
    docs: [doc(allow({ Condition: { NumericNotEquals: { 'ec2:VolumeSize': '10' } } }))],
    req: { context: { 'ec2:VolumeSize': 10 } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] a non-numeric request value does not satisfy NumericEquals',
    docs: [doc(allow({ Condition: { NumericEquals: { 'ec2:VolumeSize': '10' } } }))],
    req: { context: { 'ec2:VolumeSize': 'ten' } },
    expect: 'ImplicitDeny',
  },

  // ---- date (aws:CurrentTime, aws:EpochTime)
  {
    name: '[ops] DateGreaterThan with aws:CurrentTime after the date',
    docs: [doc(allow({ Condition: { DateGreaterThan: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } } }))],
    req: { context: { 'aws:CurrentTime': '2024-06-01T12:00:00Z' } },
    expect: 'Allow',
  },
  {
    name: '[ops] DateLessThan with aws:CurrentTime after the date is false',
    docs: [doc(allow({ Condition: { DateLessThan: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } } }))],
    req: { context: { 'aws:CurrentTime': new Date('2024-06-01T12:00:00Z') } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] a time window: DateGreaterThan AND DateLessThan',
    docs: [
      doc(
        allow({
          Condition: {
            DateGreaterThan: { 'aws:CurrentTime': '2024-04-01T00:00:00Z' },
            DateLessThan: { 'aws:CurrentTime': '2024-06-30T23:59:59Z' },
          },
        }),
      ),
    ],
    req: { context: { 'aws:CurrentTime': '2024-05-15T08:00:00Z' } },
    expect: 'Allow',
  },
  {
    name: '[ops] dates may be epoch (UNIX) seconds in the policy',
    docs: [doc(allow({ Condition: { DateLessThan: { 'aws:CurrentTime': '1717200000' } } }))],
    req: { context: { 'aws:CurrentTime': '2024-05-31T23:59:59Z' } },
    expect: 'Allow',
  },
  {
    name: '[ops] aws:EpochTime (seconds) against an ISO 8601 policy date',
    docs: [doc(allow({ Condition: { DateGreaterThanEquals: { 'aws:EpochTime': '2024-06-01T00:00:00Z' } } }))],
    req: { context: { 'aws:EpochTime': 1717200000 } },
    expect: 'Allow',
  },
  {
    name: '[ops] DateEquals with a time-zone offset is the same instant',
    docs: [doc(allow({ Condition: { DateEquals: { 'aws:CurrentTime': '2024-01-01T01:00:00+01:00' } } }))],
    req: { context: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } },
    expect: 'Allow',
  },
  {
    name: '[ops] DateNotEquals false for the same instant',
    docs: [doc(allow({ Condition: { DateNotEquals: { 'aws:CurrentTime': '2024-01-01' } } }))],
    req: { context: { 'aws:CurrentTime': '2024-01-01T00:00:00.000Z' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] DateLessThanEquals true at the instant',
    docs: [doc(allow({ Condition: { DateLessThanEquals: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } } }))],
    req: { context: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } },
    expect: 'Allow',
  },
  {
    name: '[ops] Deny after an expiry date (aws:CurrentTime)',
    docs: [doc(allow(), deny({ Condition: { DateGreaterThan: { 'aws:CurrentTime': '2025-12-31T23:59:59Z' } } }))],
    req: { context: { 'aws:CurrentTime': '2026-01-02T00:00:00Z' } },
    expect: 'ExplicitDeny',
  },

  // ---- Bool, Binary
  {
    name: '[ops] Bool aws:SecureTransport "false" denies plain HTTP',
    docs: [doc(allow(), deny({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }))],
    req: { context: { 'aws:SecureTransport': false } },
    expect: 'ExplicitDeny',
  },
  {
    name: '[ops] Bool aws:SecureTransport "false" does not deny HTTPS',
    docs: [doc(allow(), deny({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }))],
    req: { context: { 'aws:SecureTransport': true } },
    expect: 'Allow',
  },
  {
    name: '[ops] Bool aws:MultiFactorAuthPresent true (unquoted JSON boolean)',
    docs: [doc(allow({ Condition: { Bool: { 'aws:MultiFactorAuthPresent': true } } }))],
    req: { context: { 'aws:MultiFactorAuthPresent': 'true' } },
    expect: 'Allow',
  },
  {
    name: '[ops] Bool with the key absent is false',
    docs: [doc(allow({ Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }))],
    req: {},
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] BoolIfExists false is true when the key is absent (long-term keys)',
    docs: [doc(allow(), deny({ Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } }))],
    req: {},
    expect: 'ExplicitDeny',
  },
  {
    name: '[ops] BinaryEquals compares base64 values',
    docs: [doc(allow({ Condition: { BinaryEquals: { 'key:bin': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } } }))],
    req: { context: { 'key:bin': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } },
    expect: 'Allow',
  },
  {
    name: '[ops] BinaryEquals false for other bytes',
    docs: [doc(allow({ Condition: { BinaryEquals: { 'key:bin': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } } }))],
    req: { context: { 'key:bin': 'b3RoZXI=' } },
    expect: 'ImplicitDeny',
  },

  // ---- IP
  {
    name: '[ops] IpAddress: aws:SourceIp inside the CIDR',
    docs: [doc(allow({ Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }))],
    req: { context: { 'aws:SourceIp': '203.0.113.77' } },
    expect: 'Allow',
  },
  {
    name: '[ops] IpAddress: aws:SourceIp outside the CIDR',
    docs: [doc(allow({ Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }))],
    req: { context: { 'aws:SourceIp': '198.51.100.1' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] IpAddress with an IPv6 CIDR (aws:SourceIp IPv6)',
    docs: [doc(allow({ Condition: { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } } }))],
    req: { context: { 'aws:SourceIp': '2001:db8:1234:5678:abcd::1' } },
    expect: 'Allow',
  },
  {
    name: '[ops] IpAddress: IPv6 source outside the IPv6 CIDR',
    docs: [doc(allow({ Condition: { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } } }))],
    req: { context: { 'aws:SourceIp': '2001:db8:1234:5679::1' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] an IPv4 source never falls in an IPv6 CIDR',
    docs: [doc(allow({ Condition: { IpAddress: { 'aws:SourceIp': '::/0' } } }))],
    req: { context: { 'aws:SourceIp': '10.0.0.1' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] an address without a prefix means /32',
    docs: [doc(allow({ Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.5' } } }))],
    req: { context: { 'aws:SourceIp': '203.0.113.6' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] NotIpAddress Deny outside the corporate ranges',
    docs: [doc(allow(), deny({ Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32'] } } }))],
    req: { context: { 'aws:SourceIp': '198.51.100.9' } },
    expect: 'ExplicitDeny',
  },
  {
    name: '[ops] NotIpAddress Deny spares an IPv6 corporate address',
    docs: [doc(allow(), deny({ Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32'] } } }))],
    req: { context: { 'aws:SourceIp': '2001:db8:ffff::2' } },
    expect: 'Allow',
  },

  // ---- ARN
  {
    name: '[ops] ArnLike aws:PrincipalArn with wildcards',
    docs: [doc(allow({ Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/admin-*' } } }))],
    req: { context: { 'aws:PrincipalArn': `arn:aws:iam::${ACCT}:role/admin-ops` } },
    expect: 'Allow',
  },
  {
    name: '[ops] ArnLike: each colon-delimited component is checked separately',
    docs: [doc(allow({ Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCT}:role/*` } } }))],
    req: { context: { 'aws:PrincipalArn': `arn:aws:iam::${OTHER}:role/x` } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] ArnEquals ec2:Vpc exact',
    docs: [doc(allow({ Condition: { ArnEquals: { 'ec2:Vpc': VPC } } }))],
    req: { context: { 'ec2:Vpc': VPC } },
    expect: 'Allow',
  },
  {
    name: '[ops] ArnEquals is case sensitive',
    docs: [doc(allow({ Condition: { ArnEquals: { 'ec2:Vpc': VPC.toUpperCase() } } }))],
    req: { context: { 'ec2:Vpc': VPC } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] ArnNotLike false for a matching ARN',
    docs: [doc(allow({ Condition: { ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:alerts-*' } } }))],
    req: { context: { 'aws:SourceArn': `arn:aws:sns:us-east-1:${ACCT}:alerts-prod` } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] ArnNotEquals with the key absent is true',
    docs: [doc(allow({ Condition: { ArnNotEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:x' } } }))],
    req: {},
    expect: 'Allow',
  },

  // ---- Null, IfExists
  {
    name: '[ops] Null "true": key absent (long-term credentials)',
    docs: [doc(allow({ Condition: { Null: { 'aws:TokenIssueTime': 'true' } } }))],
    req: {},
    expect: 'Allow',
  },
  {
    name: '[ops] Null "true" is false when the key is present',
    docs: [doc(allow({ Condition: { Null: { 'aws:TokenIssueTime': 'true' } } }))],
    req: { context: { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] Null "false": requires the tag in the request',
    docs: [doc(allow({ Condition: { Null: { 'aws:RequestTag/env': 'false' } } }))],
    req: { context: { 'aws:RequestTag/env': 'dev' } },
    expect: 'Allow',
  },
  {
    name: '[ops] StringEqualsIfExists: absent key is true',
    docs: [doc(allow({ Condition: { StringEqualsIfExists: { 'ec2:InstanceType': ['t3.micro', 't3.small'] } } }))],
    req: { action: 'ec2:RunInstances' },
    expect: 'Allow',
  },
  {
    name: '[ops] StringEqualsIfExists: a present key is still checked',
    docs: [doc(allow({ Condition: { StringEqualsIfExists: { 'ec2:InstanceType': ['t3.micro', 't3.small'] } } }))],
    req: { action: 'ec2:RunInstances', context: { 'ec2:InstanceType': 'm5.24xlarge' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[ops] NumericLessThanIfExists: absent key is true',
    docs: [doc(allow({ Condition: { NumericLessThanIfExists: { 's3:max-keys': '10' } } }))],
    req: {},
    expect: 'Allow',
  },

  // ---- set operators on multivalued keys
  {
    name: '[sets] ForAllValues:StringEquals: every request tag key is allowed',
    docs: [doc(allow({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': ['env'] } },
    expect: 'Allow',
  },
  {
    name: '[sets] ForAllValues:StringEquals: one disallowed key fails it',
    docs: [doc(allow({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': ['env', 'owner'] } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[sets] ForAllValues "also returns true if there are no context keys in the request"',
    docs: [doc(allow({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } } }))],
    req: { action: 'ec2:CreateTags' },
    expect: 'Allow',
  },
  {
    name: '[sets] ForAllValues is true for an empty list of values',
    docs: [doc(allow({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': [] } },
    expect: 'Allow',
  },
  {
    name: '[sets] ForAnyValue:StringEquals: one matching request value is enough',
    docs: [doc(allow({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': ['owner', 'env'] } },
    expect: 'Allow',
  },
  {
    name: '[sets] ForAnyValue:StringEquals: no matching value',
    docs: [doc(allow({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': ['owner'] } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[sets] ForAnyValue "if the key does not exist, the condition returns false"',
    docs: [doc(allow({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } } }))],
    req: { action: 'ec2:CreateTags' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[sets] ForAnyValue with a negated operator: some value matches none',
    docs: [doc(allow({ Condition: { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env', 'team'] } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': ['env', 'owner'] } },
    expect: 'Allow',
  },
  {
    name: '[sets] ForAnyValue:StringNotEquals is false with the key absent',
    docs: [doc(allow({ Condition: { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env'] } } }))],
    req: { action: 'ec2:CreateTags' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[sets] Deny ForAnyValue:StringLike on forbidden tag-key prefixes',
    docs: [doc(allow(), deny({ Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['aws-*', 'internal:*'] } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': ['env', 'internal:cost'] } },
    expect: 'ExplicitDeny',
  },
  {
    name: '[sets] ForAllValues:StringNotLike: every key avoids the patterns',
    docs: [doc(allow({ Condition: { 'ForAllValues:StringNotLike': { 'aws:TagKeys': ['aws-*'] } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': ['env', 'aws-x'] } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[sets] ForAllValues with Null false guards against a missing key',
    docs: [doc(allow({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] }, Null: { 'aws:TagKeys': 'false' } } }))],
    req: { action: 'ec2:CreateTags' },
    expect: 'ImplicitDeny',
  },
  {
    name: '[sets] a plain operator on a multivalued key matches if any value matches',
    docs: [doc(allow({ Condition: { StringEquals: { 'aws:TagKeys': 'env' } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': ['owner', 'env'] } },
    expect: 'Allow',
  },
  {
    name: '[sets] (no documented rule) a negated plain operator on a multivalued key: no value may match',
    docs: [doc(allow({ Condition: { StringNotEquals: { 'aws:TagKeys': 'env' } } }))],
    req: { action: 'ec2:CreateTags', context: { 'aws:TagKeys': ['owner', 'env'] } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[sets] RequestTag plus TagKeys: create only with env=dev and only allowed keys',
    docs: [
      doc(
        allow({
          Action: 'ec2:CreateSecurityGroup',
          Condition: { StringEquals: { 'aws:RequestTag/env': 'dev' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'Name'] } },
        }),
      ),
    ],
    req: {
      action: 'ec2:CreateSecurityGroup',
      resource: `arn:aws:ec2:us-east-1:${ACCT}:security-group/*`,
      context: { 'aws:RequestTag/env': 'dev', 'aws:TagKeys': ['env', 'Name'] },
    },
    expect: 'Allow',
  },
];

const TRUST_DOC_EC2 = doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' });
const TRUST_ROOT = doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: 'sts:AssumeRole' });
const assume = (principal: RequestContext['principal'], context: RequestContext['context'] = {}): Partial<RequestContext> => ({
  action: 'sts:AssumeRole',
  resource: ROLE,
  principal,
  context,
});
const GH_TRUST = doc({
  Effect: 'Allow',
  Principal: { Federated: GH },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: {
    StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
    StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/web:*' },
  },
});
const ghReq = (sub: string, aud = 'sts.amazonaws.com'): Partial<RequestContext> => ({
  action: 'sts:AssumeRoleWithWebIdentity',
  resource: ROLE,
  principal: { federated: GH },
  context: { 'token.actions.githubusercontent.com:sub': sub, 'token.actions.githubusercontent.com:aud': aud },
});

const TRUST: Case[] = [
  {
    name: '[principal] Service ec2.amazonaws.com may assume the role',
    trust: true,
    docs: [TRUST_DOC_EC2],
    req: assume({ service: 'ec2.amazonaws.com' }),
    expect: 'Allow',
  },
  {
    name: '[principal] another service may not',
    trust: true,
    docs: [TRUST_DOC_EC2],
    req: assume({ service: 'lambda.amazonaws.com' }),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] a Service principal does not admit an IAM user',
    trust: true,
    docs: [TRUST_DOC_EC2],
    req: assume({ aws: [ALICE], account: ACCT }),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] the account root ARN means any principal of the account',
    trust: true,
    docs: [TRUST_ROOT],
    req: assume({ aws: [ALICE], account: ACCT }),
    expect: 'Allow',
  },
  {
    name: '[principal] the account root ARN admits a role session of that account',
    trust: true,
    docs: [TRUST_ROOT],
    req: assume({ aws: [SESSION, ROLE] }),
    expect: 'Allow',
  },
  {
    name: '[principal] a bare account ID behaves as the account ARN',
    trust: true,
    docs: [doc({ Effect: 'Allow', Principal: { AWS: ACCT }, Action: 'sts:AssumeRole' })],
    req: assume({ aws: [ALICE], account: ACCT }),
    expect: 'Allow',
  },
  {
    name: '[principal] the account root ARN does not admit another account',
    trust: true,
    docs: [TRUST_ROOT],
    req: assume({ aws: [`arn:aws:iam::${OTHER}:user/eve`], account: OTHER }),
    expect: 'ImplicitDeny',
  },
  {
    name: "[principal] a specific role ARN admits that role's session (role ARN passed)",
    trust: true,
    docs: [doc({ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'sts:AssumeRole' })],
    req: assume({ aws: [SESSION, ROLE], account: ACCT }),
    expect: 'Allow',
  },
  {
    name: '[principal] a specific role ARN does not match the session ARN alone',
    trust: true,
    docs: [doc({ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'sts:AssumeRole' })],
    req: assume({ aws: [SESSION] }),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] an assumed-role session ARN names that session only',
    trust: true,
    docs: [doc({ Effect: 'Allow', Principal: { AWS: SESSION }, Action: 'sts:AssumeRole' })],
    req: assume({ aws: [SESSION.replace('ci-run-1', 'other'), ROLE] }),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] a user ARN admits only that user',
    trust: true,
    docs: [doc({ Effect: 'Allow', Principal: { AWS: [ALICE] }, Action: 'sts:AssumeRole' })],
    req: assume({ aws: [BOB], account: ACCT }),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] no wildcard matching inside a principal ARN',
    trust: true,
    docs: [doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/*` }, Action: 'sts:AssumeRole' })],
    req: assume({ aws: [ALICE], account: ACCT }),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] "Principal": "*" admits everyone, anonymous too',
    trust: true,
    docs: [doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pub/*' })],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::pub/a' },
    expect: 'Allow',
  },
  {
    name: '[principal] {"AWS": "*"} admits any AWS identity',
    trust: true,
    docs: [doc({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' })],
    req: assume({ aws: [`arn:aws:iam::${OTHER}:user/eve`], account: OTHER }),
    expect: 'Allow',
  },
  {
    name: '[principal] sts:ExternalId must match (right id)',
    trust: true,
    docs: [
      doc({
        Effect: 'Allow',
        Principal: { AWS: OTHER },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': 'Unique-1234' } },
      }),
    ],
    req: assume({ aws: [`arn:aws:iam::${OTHER}:role/partner`], account: OTHER }, { 'sts:ExternalId': 'Unique-1234' }),
    expect: 'Allow',
  },
  {
    name: '[principal] sts:ExternalId must match (wrong id)',
    trust: true,
    docs: [
      doc({
        Effect: 'Allow',
        Principal: { AWS: OTHER },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': 'Unique-1234' } },
      }),
    ],
    req: assume({ aws: [`arn:aws:iam::${OTHER}:role/partner`], account: OTHER }, { 'sts:ExternalId': 'guess' }),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] sts:ExternalId absent fails the condition',
    trust: true,
    docs: [
      doc({
        Effect: 'Allow',
        Principal: { AWS: OTHER },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': 'Unique-1234' } },
      }),
    ],
    req: assume({ aws: [`arn:aws:iam::${OTHER}:role/partner`], account: OTHER }),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] Federated GitHub OIDC with sub StringLike repo:acme/web:*',
    trust: true,
    docs: [GH_TRUST],
    req: ghReq('repo:acme/web:ref:refs/heads/main'),
    expect: 'Allow',
  },
  {
    name: '[principal] Federated GitHub OIDC: another repository',
    trust: true,
    docs: [GH_TRUST],
    req: ghReq('repo:acme/api:ref:refs/heads/main'),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] Federated GitHub OIDC: wrong audience',
    trust: true,
    docs: [GH_TRUST],
    req: ghReq('repo:acme/web:ref:refs/heads/main', 'example.com'),
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] Federated GitHub OIDC: another provider',
    trust: true,
    docs: [GH_TRUST],
    req: { ...ghReq('repo:acme/web:x'), principal: { federated: 'accounts.google.com' } },
    expect: 'ImplicitDeny',
  },
  {
    name: '[principal] a resource-policy statement without Principal applies to no one',
    trust: true,
    docs: [doc({ Effect: 'Allow', Action: 'sts:AssumeRole' })],
    req: assume({ aws: [ALICE], account: ACCT }),
    expect: 'ImplicitDeny',
  },
  {
    name: '[eval] a Deny in a trust policy overrides its Allow',
    trust: true,
    docs: [
      doc(
        { Effect: 'Allow', Principal: { AWS: ACCT }, Action: 'sts:AssumeRole' },
        { Effect: 'Deny', Principal: { AWS: BOB }, Action: 'sts:AssumeRole' },
      ),
    ],
    req: assume({ aws: [BOB], account: ACCT }),
    expect: 'ExplicitDeny',
  },
  {
    name: '[principal] NotPrincipal with Deny exempts the named user and account',
    trust: true,
    docs: [
      doc(
        { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' },
        { Effect: 'Deny', NotPrincipal: { AWS: [ALICE, `arn:aws:iam::${ACCT}:root`] }, Action: 's3:*', Resource: '*' },
      ),
    ],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: { aws: [ALICE], account: ACCT } },
    expect: 'Allow',
  },
  {
    name: '[principal] NotPrincipal with Deny denies everyone else',
    trust: true,
    docs: [
      doc(
        { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' },
        { Effect: 'Deny', NotPrincipal: { AWS: [ALICE, `arn:aws:iam::${ACCT}:root`] }, Action: 's3:*', Resource: '*' },
      ),
    ],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: { aws: [BOB], account: ACCT } },
    expect: 'ExplicitDeny',
  },
  {
    name: '[principal] NotPrincipal naming the user but not its account still denies ("must also specify the account ARN")',
    trust: true,
    docs: [
      doc(
        { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' },
        { Effect: 'Deny', NotPrincipal: { AWS: [ALICE] }, Action: 's3:*', Resource: '*' },
      ),
    ],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: { aws: [ALICE], account: ACCT } },
    expect: 'ExplicitDeny',
  },
  {
    name: '[principal] NotPrincipal exempts a role session when the session, role and account are named',
    trust: true,
    docs: [
      doc(
        { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' },
        { Effect: 'Deny', NotPrincipal: { AWS: [SESSION, ROLE, ACCT] }, Action: 's3:*', Resource: '*' },
      ),
    ],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: { aws: [SESSION, ROLE], account: ACCT } },
    expect: 'Allow',
  },
  {
    name: '[principal] Principal and Resource both apply in a resource policy',
    trust: true,
    docs: [doc({ Effect: 'Allow', Principal: { AWS: ACCT }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/public/*' })],
    req: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/private/k', principal: { aws: [ALICE], account: ACCT } },
    expect: 'ImplicitDeny',
  },
];

function run(c: Case) {
  const policies = c.docs.map((d, i) => parsePolicy(JSON.stringify(d), `p${i}`));
  const r = req(c.req);
  return c.trust ? evaluateTrust(policies[0]!, r) : evaluate(policies, r);
}

describe('IAM policy evaluation: documented cases', () => {
  it('has at least 80 cases', () => assert.ok(IDENTITY.length + TRUST.length >= 80, `${IDENTITY.length + TRUST.length}`));
  for (const c of [...IDENTITY, ...TRUST]) {
    it(c.name, () => assert.equal(run(c).decision, c.expect));
  }
});

describe('evaluation results', () => {
  it('[eval] names every matching statement by policy id and Sid', () => {
    const a = parsePolicy(doc({ Sid: 'AllowAll', ...allow() }), 'a');
    const d = parsePolicy(doc({ Sid: 'NoProd', ...deny({ Condition: { StringEquals: { 'ec2:ResourceTag/env': 'prod' } } }) }), 'd');
    const e = evaluate([a, d], req({ context: { 'ec2:ResourceTag/env': 'prod' } }));
    assert.deepEqual(e, {
      decision: 'ExplicitDeny',
      allowedBy: [{ policyId: 'a', sid: 'AllowAll' }],
      deniedBy: [{ policyId: 'd', sid: 'NoProd' }],
    });
  });
  it('a hand-built ParsedPolicy (no parsePolicy) is compiled on first use', () => {
    const p: ParsedPolicy = { statements: [{ Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::home/${aws:username}/*'] }] };
    assert.equal(
      evaluate([p], req({ action: 's3:GetObject', resource: 'arn:aws:s3:::home/al/x', context: { 'aws:username': 'al' } })).decision,
      'Allow',
    );
    p.statements.push({ Effect: 'Deny', Action: ['s3:GetObject'], Resource: ['*'] });
    assert.equal(
      evaluate([p], req({ action: 's3:GetObject', resource: 'arn:aws:s3:::home/al/x', context: { 'aws:username': 'al' } })).decision,
      'ExplicitDeny',
    );
  });
});

describe('robustness', () => {
  it('a pattern of many wildcards against a long ARN is matched without RegExp backtracking', () => {
    const p = parsePolicy(doc(allow({ Action: 's3:*a*a*a*a*a*a*a*a*b', Resource: `arn:aws:s3:::${'*a'.repeat(12)}b` })));
    const t0 = performance.now();
    const e = evaluate([p], req({ action: `s3:${'a'.repeat(120)}`, resource: `arn:aws:s3:::${'a'.repeat(1500)}` }));
    assert.equal(e.decision, 'ImplicitDeny');
    assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
  });
  it('an unknown operator in a hand-built policy is a PolicyParseError at evaluation', () => {
    const p: ParsedPolicy = {
      statements: [{ Effect: 'Allow', Action: ['*'], Resource: ['*'], Condition: { StringEqualz: { k: ['v'] } } }],
    };
    assert.throws(() => evaluate([p], req({})), PolicyParseError);
  });
});

describe('matchesPrincipal', () => {
  it('[principal] account ID, root ARN, role ARN, service, federated', () => {
    assert.equal(matchesPrincipal('*', undefined), true);
    assert.equal(matchesPrincipal({ AWS: [ACCT] }, { aws: [ALICE] }), true); // account read from the ARN
    assert.equal(matchesPrincipal({ AWS: [`arn:aws:iam::${ACCT}:root`] }, { account: ACCT }), true);
    assert.equal(matchesPrincipal({ AWS: [ROLE] }, { aws: [SESSION, ROLE] }), true);
    assert.equal(matchesPrincipal({ AWS: [ROLE] }, { aws: [SESSION] }), false);
    assert.equal(matchesPrincipal({ Service: ['ec2.amazonaws.com'] }, { service: 'ec2.amazonaws.com' }), true);
    assert.equal(matchesPrincipal({ Federated: [GH] }, { federated: GH }), true);
    assert.equal(matchesPrincipal({ AWS: ['*'] }, { service: 'ec2.amazonaws.com' }), false);
    assert.equal(matchesPrincipal({ AWS: ['*'] }, undefined), true); // "for anonymous users, these two methods are equivalent"
    assert.equal(matchesPrincipal({ AWS: [ALICE] }, undefined), false);
  });
});

describe('parsePolicy', () => {
  it('normalises single strings to lists and scalars in conditions to strings', () => {
    const p = parsePolicy(
      '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Principal":{"AWS":"111122223333"},"Condition":{"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}}}}',
      'x',
    );
    const s: PolicyStatement = p.statements[0]!;
    assert.deepEqual(s, {
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: ['*'],
      Principal: { AWS: [ACCT] },
      Condition: { NumericLessThan: { 's3:max-keys': ['10'] }, Bool: { 'aws:SecureTransport': ['true'] } },
    });
    assert.equal(p.id, 'x');
    assert.equal(p.version, '2012-10-17');
  });
  it('defaults the version to 2008-10-17', () => assert.equal(parsePolicy({ Statement: [allow()] }).version, '2008-10-17'));
  const bad: [string, unknown][] = [
    ['garbage JSON', '{"Statement": ['],
    ['not an object', '[1,2]'],
    ['no Statement', { Version: '2012-10-17' }],
    ['empty Statement', { Statement: [] }],
    ['unknown top-level element', { Statement: [allow()], Foo: 1 }],
    ['bad version', { Version: '2012-10-18', Statement: [allow()] }],
    ['Effect is case sensitive', { Statement: [{ Effect: 'allow', Action: '*', Resource: '*' }] }],
    ['no Action', { Statement: [{ Effect: 'Allow', Resource: '*' }] }],
    ['Action with NotAction', { Statement: [allow({ NotAction: 's3:*' })] }],
    ['Resource with NotResource', { Statement: [allow({ NotResource: '*' })] }],
    ['action without a vendor prefix', { Statement: [allow({ Action: 'GetObject' })] }],
    ['unknown statement element', { Statement: [allow({ Actions: 's3:*' })] }],
    ['unknown condition operator', { Statement: [allow({ Condition: { StringEqual: { 'aws:username': 'a' } } })] }],
    ['operator names are case sensitive', { Statement: [allow({ Condition: { stringequals: { 'aws:username': 'a' } } })] }],
    ['Null takes no IfExists', { Statement: [allow({ Condition: { NullIfExists: { 'aws:username': 'true' } } })] }],
    ['bad principal type', { Statement: [allow({ Principal: { User: 'x' } })] }],
    ['principal as a bare string', { Statement: [allow({ Principal: 'arn:aws:iam::111122223333:root' })] }],
    ['condition value object', { Statement: [allow({ Condition: { StringEquals: { k: { a: 1 } } } })] }],
  ];
  for (const [name, input] of bad) {
    it(`throws PolicyParseError: ${name}`, () => assert.throws(() => parsePolicy(input as string | object), PolicyParseError));
  }
});

// ---- properties

const actionArb = fc.constantFrom('ec2:RunInstances', 'ec2:DescribeVpcs', 'iam:CreateUser', 's3:GetObject', 'sts:AssumeRole');
const actionPatternArb = fc.constantFrom('*', 'ec2:*', 'ec2:Describe*', 'iam:*User', 's3:Get?bject', 'sts:*');
const resourceArb = fc.constantFrom('*', SG, VPC, 'arn:aws:s3:::b/k', ALICE);
const resourcePatternArb = fc.constantFrom(
  '*',
  'arn:aws:ec2:*:*:*',
  'arn:aws:s3:::b/*',
  `arn:aws:iam::${ACCT}:user/*`,
  'arn:aws:ec2:us-east-1:*',
);
const envArb = fc.constantFrom('dev', 'prod', undefined);
const conditionArb = fc.option(
  fc.constantFrom(
    { StringEquals: { 'aws:ResourceTag/env': 'dev' } },
    { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } },
    { StringEqualsIfExists: { 'aws:ResourceTag/env': 'dev' } },
    { Null: { 'aws:ResourceTag/env': 'true' } },
  ),
  { nil: undefined },
);
const statementArb = fc
  .record({
    Effect: fc.constantFrom('Allow', 'Deny'),
    Action: fc.array(actionPatternArb, { minLength: 1, maxLength: 3 }),
    Resource: fc.array(resourcePatternArb, { minLength: 1, maxLength: 2 }),
    Condition: conditionArb,
  })
  .map((s) => (s.Condition ? s : { Effect: s.Effect, Action: s.Action, Resource: s.Resource }));
const requestArb = fc
  .record({ action: actionArb, resource: resourceArb, env: envArb })
  .map(({ action, resource, env }): RequestContext => ({ action, resource, context: env ? { 'aws:ResourceTag/env': env } : {} }));

describe('properties', () => {
  it('[eval] a Deny statement identical to an Allow statement means the result is never Allow', () => {
    fc.assert(
      fc.property(fc.array(statementArb, { minLength: 1, maxLength: 5 }), fc.boolean(), requestArb, (stmts, split, r) => {
        const twins = stmts.filter((s) => s.Effect === 'Allow').map((s) => ({ ...s, Effect: 'Deny' }));
        // twins in the same policy, or in a policy of their own
        const policies =
          split && twins.length ? [parsePolicy(doc(...stmts)), parsePolicy(doc(...twins))] : [parsePolicy(doc(...stmts, ...twins))];
        return evaluate(policies, r).decision !== 'Allow';
      }),
      { numRuns: 500 },
    );
  });
  it('[eval] the decision does not depend on the order of statements or policies', () => {
    fc.assert(
      fc.property(fc.array(statementArb, { minLength: 1, maxLength: 6 }), requestArb, (stmts, r) => {
        const one = evaluate([parsePolicy(doc(...stmts))], r).decision;
        const rev = evaluate(
          stmts
            .slice()
            .reverse()
            .map((s) => parsePolicy(doc(s))),
          r,
        ).decision;
        return one === rev;
      }),
      { numRuns: 300 },
    );
  });
  it('[eval] adding a Deny statement never turns a non-Allow into Allow, and adding an Allow never yields ExplicitDeny from Allow', () => {
    fc.assert(
      fc.property(fc.array(statementArb, { maxLength: 5 }), statementArb, requestArb, (stmts, extra, r) => {
        const before = evaluate(stmts.length ? [parsePolicy(doc(...stmts))] : [], r).decision;
        const after = evaluate([parsePolicy(doc(...stmts, extra))], r).decision;
        if (extra.Effect === 'Deny') return before === 'Allow' || after !== 'Allow';
        return before !== 'Allow' || after === 'Allow';
      }),
      { numRuns: 300 },
    );
  });
  it('the linear-time matcher agrees with the reference RegExp (any number of wildcards, either case mode)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'B', 'b', ':', '/'), maxLength: 12 });
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', 'A', ':', '/', '*', '?'), maxLength: 10 });
    fc.assert(
      fc.property(pattern, text, fc.boolean(), fc.boolean(), (p, t, arn, ci) => {
        const tokens = tokenize(p, { wildcards: true, variables: false, arn });
        const reference = toRegExp(tokens, ci).test(t);
        const viaTemplate = matchTemplate(
          compileTemplate(p, { wildcards: true, variables: false, arn, caseInsensitive: ci }),
          t,
          () => undefined,
        );
        return viaTemplate === reference && (ci || globMatch(tokens, t) === reference);
      }),
      { numRuns: 3000 },
    );
  });
  it('a variable template resolves and matches like the same literal pattern', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', '/', ':'), maxLength: 5 });
    fc.assert(
      fc.property(word, word, word, (pre, value, t) => {
        const viaVar = matchTemplate(compileTemplate(`${pre}\${aws:username}*`, { wildcards: true, variables: true, arn: true }), t, (k) =>
          k === 'aws:username' ? value : undefined,
        );
        const literal = matchTemplate(
          compileTemplate(`${pre}${value.replace(/[*?]/g, '')}*`, { wildcards: true, variables: false, arn: true }),
          t,
          () => undefined,
        );
        return viaVar === literal;
      }),
      { numRuns: 1000 },
    );
  });
});
