// AWS managed policies present in every account (arn:PARTITION:iam::aws:policy/NAME): read-only,
// attachable, listed by ListPolicies with Scope All|AWS. Documents are the published default
// versions (ReadOnlyAccess trimmed to the services an emulator user meets).
import type { ManagedPolicyDoc } from '../../core/documents/iam.ts';

interface Entry {
  policyId: string;
  versionId: string;
  createDate: string;
  updateDate: string;
  description: string;
  document: object;
}

const ALL = '*';
const CATALOGUE: Record<string, Entry> = {
  AdministratorAccess: {
    policyId: 'ANPAIWMBCKSKIEE64ZLYK',
    versionId: 'v1',
    createDate: '2015-02-06T18:39:46Z',
    updateDate: '2015-02-06T18:39:46Z',
    description: 'Provides full access to AWS services and resources.',
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: ALL }] },
  },
  ReadOnlyAccess: {
    policyId: 'ANPAILL3HVNFSB6DCOWYQ',
    versionId: 'v120',
    createDate: '2015-02-06T18:39:48Z',
    updateDate: '2024-06-28T17:12:43Z',
    description: 'Provides read-only access to AWS services and resources.',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadOnlyActions',
          Effect: 'Allow',
          Action: [
            'autoscaling:Describe*',
            'cloudtrail:Describe*',
            'cloudtrail:Get*',
            'cloudtrail:List*',
            'cloudtrail:LookupEvents',
            'cloudwatch:Describe*',
            'cloudwatch:Get*',
            'cloudwatch:List*',
            'ec2:Describe*',
            'ec2:Get*',
            'ec2:SearchTransitGatewayRoutes',
            'elasticloadbalancing:Describe*',
            'iam:Generate*',
            'iam:Get*',
            'iam:List*',
            'iam:Simulate*',
            'logs:Describe*',
            'logs:FilterLogEvents',
            'logs:Get*',
            'logs:ListTagsLogGroup',
            'logs:StartQuery',
            'logs:StopQuery',
            'logs:TestMetricFilter',
            's3:DescribeJob',
            's3:Get*',
            's3:List*',
            'ssm:Describe*',
            'ssm:Get*',
            'ssm:List*',
            'sts:GetAccessKeyInfo',
          ],
          Resource: ALL,
        },
      ],
    },
  },
  AmazonEC2FullAccess: {
    policyId: 'ANPAI3VAJF5ZCRZ7MCQE6',
    versionId: 'v5',
    createDate: '2015-02-06T18:40:15Z',
    updateDate: '2018-11-27T02:16:56Z',
    description: 'Provides full access to Amazon EC2 via the AWS Management Console.',
    document: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'ec2:*', Effect: 'Allow', Resource: ALL },
        { Effect: 'Allow', Action: 'elasticloadbalancing:*', Resource: ALL },
        { Effect: 'Allow', Action: 'cloudwatch:*', Resource: ALL },
        { Effect: 'Allow', Action: 'autoscaling:*', Resource: ALL },
        {
          Effect: 'Allow',
          Action: 'iam:CreateServiceLinkedRole',
          Resource: ALL,
          Condition: {
            StringEquals: {
              'iam:AWSServiceName': [
                'autoscaling.amazonaws.com',
                'ec2scheduled.amazonaws.com',
                'elasticloadbalancing.amazonaws.com',
                'spot.amazonaws.com',
                'spotfleet.amazonaws.com',
                'transitgateway.amazonaws.com',
              ],
            },
          },
        },
      ],
    },
  },
  AmazonEC2ReadOnlyAccess: {
    policyId: 'ANPAIGDT4SV4GSETWTBZK',
    versionId: 'v1',
    createDate: '2015-02-06T18:40:17Z',
    updateDate: '2015-02-06T18:40:17Z',
    description: 'Provides read only access to Amazon EC2 via the AWS Management Console.',
    document: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ec2:Describe*', Resource: ALL },
        { Effect: 'Allow', Action: 'elasticloadbalancing:Describe*', Resource: ALL },
        { Effect: 'Allow', Action: ['cloudwatch:ListMetrics', 'cloudwatch:GetMetricStatistics', 'cloudwatch:Describe*'], Resource: ALL },
        { Effect: 'Allow', Action: 'autoscaling:Describe*', Resource: ALL },
      ],
    },
  },
  AmazonSSMManagedInstanceCore: {
    policyId: 'ANPAIXSHM2BNB2D3AXXRU',
    versionId: 'v2',
    createDate: '2019-03-15T17:22:12Z',
    updateDate: '2019-05-23T16:54:21Z',
    description: 'The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality.',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'ssm:DescribeAssociation',
            'ssm:GetDeployablePatchSnapshotForInstance',
            'ssm:GetDocument',
            'ssm:DescribeDocument',
            'ssm:GetManifest',
            'ssm:GetParameter',
            'ssm:GetParameters',
            'ssm:ListAssociations',
            'ssm:ListInstanceAssociations',
            'ssm:PutInventory',
            'ssm:PutComplianceItems',
            'ssm:PutConfigurePackageResult',
            'ssm:UpdateAssociationStatus',
            'ssm:UpdateInstanceAssociationStatus',
            'ssm:UpdateInstanceInformation',
          ],
          Resource: ALL,
        },
        {
          Effect: 'Allow',
          Action: [
            'ssmmessages:CreateControlChannel',
            'ssmmessages:CreateDataChannel',
            'ssmmessages:OpenControlChannel',
            'ssmmessages:OpenDataChannel',
          ],
          Resource: ALL,
        },
        {
          Effect: 'Allow',
          Action: [
            'ec2messages:AcknowledgeMessage',
            'ec2messages:DeleteMessage',
            'ec2messages:FailMessage',
            'ec2messages:GetEndpoint',
            'ec2messages:GetMessages',
            'ec2messages:SendReply',
          ],
          Resource: ALL,
        },
      ],
    },
  },
  IAMReadOnlyAccess: {
    policyId: 'ANPAJKSO7NDY4T57MWDSQ',
    versionId: 'v4',
    createDate: '2015-02-06T18:39:48Z',
    updateDate: '2018-01-25T19:11:27Z',
    description: 'Provides read only access to IAM via the AWS Management Console.',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'iam:GenerateCredentialReport',
            'iam:GenerateServiceLastAccessedDetails',
            'iam:Get*',
            'iam:List*',
            'iam:SimulateCustomPolicy',
            'iam:SimulatePrincipalPolicy',
          ],
          Resource: ALL,
        },
      ],
    },
  },
};

const AWS_MANAGED_NAMES: readonly string[] = Object.keys(CATALOGUE);

const docs = new Map<string, ManagedPolicyDoc>();

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The AWS managed policy with this ARN (in the caller's partition), as a read-only document. */
export function awsManagedPolicy(partition: string, arn: string): ManagedPolicyDoc | undefined {
  const prefix = `arn:${partition}:iam::aws:policy/`;
  if (!arn.startsWith(prefix)) return undefined;
  const name = arn.slice(prefix.length);
  const e = Object.hasOwn(CATALOGUE, name) ? CATALOGUE[name] : undefined;
  if (!e) return undefined;
  let d = docs.get(arn);
  if (!d) {
    d = deepFreeze({
      id: arn,
      name,
      policyId: e.policyId,
      path: '/',
      arn,
      description: e.description,
      createDate: e.createDate,
      updateDate: e.updateDate,
      defaultVersionId: e.versionId,
      versions: [{ versionId: e.versionId, document: JSON.stringify(e.document, null, 4), createDate: e.updateDate }],
      nextVersion: Number(e.versionId.slice(1)) + 1,
      tags: [],
    } satisfies ManagedPolicyDoc);
    docs.set(arn, d);
  }
  return d;
}

export function awsManagedPolicies(partition: string): ManagedPolicyDoc[] {
  return AWS_MANAGED_NAMES.map((n) => awsManagedPolicy(partition, `arn:${partition}:iam::aws:policy/${n}`)!);
}
