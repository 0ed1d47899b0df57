// Live mode: the same snapshot an import builds, fetched through an endpoint's API (Palisade's,
// or any that speaks EC2 and IAM) with the AWS SDK, paging through everything. The SDK clients
// are loaded only here, and at run time (not bundled into the server).
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import { loadPackage } from '../core/lazy.ts';
import type { IamPolicyDetail, IamRoleDetail } from './snapshot.ts';
import { emptySnapshot } from './snapshot.ts';
import type { AuditSnapshot } from './findings/estate.ts';

interface LiveOptions {
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  onProgress?: (done: number, total: number, label: string) => void;
}

// Non-literal specifiers keep the bundler from pulling the SDK into dist/palisade.cjs.
const EC2_SDK = '@aws-sdk/client-ec2';
const IAM_SDK = '@aws-sdk/client-iam';

type Ec2Sdk = typeof import('@aws-sdk/client-ec2');
type IamSdk = typeof import('@aws-sdk/client-iam');

export async function fetchLiveSnapshot(endpoint: string, opts: LiveOptions = {}): Promise<AuditSnapshot> {
  const ec2sdk = loadPackage<Ec2Sdk>(EC2_SDK);
  const iamsdk = loadPackage<IamSdk>(IAM_SDK);
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const credentials =
    opts.credentials ??
    (process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID,
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
          sessionToken: process.env.AWS_SESSION_TOKEN,
        }
      : { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
  const ec2 = new ec2sdk.EC2Client({ endpoint, region, credentials, maxAttempts: 2 });
  const iam = new iamsdk.IAMClient({ endpoint, region, credentials, maxAttempts: 2 });
  const steps = 15;
  let step = 0;
  const tick = (label: string) => opts.onProgress?.(step++, steps, label);
  try {
    const s: AuditSnapshot = { ...emptySnapshot(), region };
    const page = { client: ec2, pageSize: 1000 };
    tick('security groups');
    for await (const p of ec2sdk.paginateDescribeSecurityGroups(page, {})) s.securityGroups.push(...(p.SecurityGroups ?? []));
    tick('security group rules');
    s.securityGroupRules = [];
    for await (const p of ec2sdk.paginateDescribeSecurityGroupRules(page, {})) s.securityGroupRules.push(...(p.SecurityGroupRules ?? []));
    tick('network interfaces');
    for await (const p of ec2sdk.paginateDescribeNetworkInterfaces(page, {})) s.networkInterfaces.push(...(p.NetworkInterfaces ?? []));
    tick('instances');
    for await (const p of ec2sdk.paginateDescribeInstances(page, {}))
      for (const r of p.Reservations ?? []) s.instances.push(...(r.Instances ?? []));
    tick('VPCs');
    for await (const p of ec2sdk.paginateDescribeVpcs(page, {})) s.vpcs.push(...(p.Vpcs ?? []));
    tick('subnets');
    for await (const p of ec2sdk.paginateDescribeSubnets(page, {})) s.subnets.push(...(p.Subnets ?? []));
    tick('prefix lists');
    for await (const p of ec2sdk.paginateDescribeManagedPrefixLists({ client: ec2, pageSize: 100 }, {}))
      s.prefixLists.push(...(p.PrefixLists ?? []));
    await pool(s.prefixLists, 8, async (pl) => {
      const entries = [];
      for await (const p of ec2sdk.paginateGetManagedPrefixListEntries({ client: ec2, pageSize: 100 }, { PrefixListId: pl.PrefixListId }))
        entries.push(...(p.Entries ?? []));
      pl.Entries = entries;
    });
    // The routing around the VPCs, so the audit follows the same paths as the server's data plane.
    const routing = { client: ec2, pageSize: 100 };
    tick('route tables');
    s.routeTables = [];
    for await (const p of ec2sdk.paginateDescribeRouteTables(routing, {})) s.routeTables.push(...(p.RouteTables ?? []));
    tick('network ACLs');
    s.networkAcls = [];
    for await (const p of ec2sdk.paginateDescribeNetworkAcls(routing, {})) s.networkAcls.push(...(p.NetworkAcls ?? []));
    tick('internet gateways');
    s.internetGateways = [];
    for await (const p of ec2sdk.paginateDescribeInternetGateways(routing, {})) s.internetGateways.push(...(p.InternetGateways ?? []));
    tick('egress-only internet gateways');
    s.egressOnlyInternetGateways = [];
    for await (const p of ec2sdk.paginateDescribeEgressOnlyInternetGateways(routing, {}))
      s.egressOnlyInternetGateways.push(...(p.EgressOnlyInternetGateways ?? []));
    tick('NAT gateways');
    s.natGateways = [];
    for await (const p of ec2sdk.paginateDescribeNatGateways(routing, {})) s.natGateways.push(...(p.NatGateways ?? []));
    tick('peering connections');
    s.vpcPeeringConnections = [];
    for await (const p of ec2sdk.paginateDescribeVpcPeeringConnections(routing, {}))
      s.vpcPeeringConnections.push(...(p.VpcPeeringConnections ?? []));
    tick('IAM');
    s.iam = await fetchIam(iam, iamsdk);
    s.account = s.securityGroups.find((g) => g.OwnerId)?.OwnerId ?? s.iam.roles[0]?.Arn.split(':')[4];
    tick('done');
    return stripMetadata(s);
  } finally {
    ec2.destroy();
    iam.destroy();
  }
}

const notImplemented = (e: unknown) =>
  ['InvalidAction', 'UnknownOperationException', 'NotImplemented', 'InvalidActionException'].includes((e as Error).name);

/** Roles and managed policies: GetAccountAuthorizationDetails, or the List/Get calls where that is missing. */
async function fetchIam(client: IAMClient, sdk: IamSdk): Promise<{ roles: IamRoleDetail[]; policies: IamPolicyDetail[] }> {
  try {
    const roles: IamRoleDetail[] = [];
    const policies: IamPolicyDetail[] = [];
    for await (const p of sdk.paginateGetAccountAuthorizationDetails(
      { client, pageSize: 1000 },
      { Filter: ['Role', 'LocalManagedPolicy', 'AWSManagedPolicy'] },
    )) {
      roles.push(...((p.RoleDetailList ?? []) as IamRoleDetail[]));
      policies.push(...((p.Policies ?? []) as IamPolicyDetail[]));
    }
    return { roles, policies };
  } catch (e) {
    if (!notImplemented(e)) throw e;
  }
  const roles: IamRoleDetail[] = [];
  for await (const p of sdk.paginateListRoles({ client, pageSize: 1000 }, {})) {
    for (const r of p.Roles ?? [])
      roles.push({
        RoleName: r.RoleName!,
        Arn: r.Arn!,
        AssumeRolePolicyDocument: r.AssumeRolePolicyDocument,
        RolePolicyList: [],
        AttachedManagedPolicies: [],
        InstanceProfileList: [],
      });
  }
  const arns = new Set<string>();
  await pool(roles, 8, async (role) => {
    const RoleName = role.RoleName;
    for await (const p of sdk.paginateListRolePolicies({ client, pageSize: 1000 }, { RoleName })) {
      for (const PolicyName of p.PolicyNames ?? []) {
        const got = await client.send(new sdk.GetRolePolicyCommand({ RoleName, PolicyName }));
        role.RolePolicyList!.push({ PolicyName, PolicyDocument: got.PolicyDocument ?? '{}' });
      }
    }
    for await (const p of sdk.paginateListAttachedRolePolicies({ client, pageSize: 1000 }, { RoleName })) {
      for (const a of p.AttachedPolicies ?? []) {
        role.AttachedManagedPolicies!.push({ PolicyName: a.PolicyName, PolicyArn: a.PolicyArn! });
        arns.add(a.PolicyArn!);
      }
    }
    for await (const p of sdk.paginateListInstanceProfilesForRole({ client, pageSize: 1000 }, { RoleName })) {
      for (const ip of p.InstanceProfiles ?? [])
        role.InstanceProfileList!.push({ InstanceProfileName: ip.InstanceProfileName!, Arn: ip.Arn! });
    }
    const tags = [];
    for await (const p of sdk.paginateListRoleTags({ client, pageSize: 1000 }, { RoleName })) tags.push(...(p.Tags ?? []));
    if (tags.length) Object.assign(role, { Tags: tags });
  });
  const policies: IamPolicyDetail[] = [];
  await pool([...arns], 8, async (PolicyArn) => {
    const { Policy } = await client.send(new sdk.GetPolicyCommand({ PolicyArn }));
    const VersionId = Policy?.DefaultVersionId;
    if (!VersionId) return;
    const { PolicyVersion } = await client.send(new sdk.GetPolicyVersionCommand({ PolicyArn, VersionId }));
    policies.push({
      Arn: PolicyArn,
      PolicyName: Policy!.PolicyName!,
      DefaultVersionId: VersionId,
      PolicyVersionList: [{ VersionId, IsDefaultVersion: true, Document: PolicyVersion?.Document ?? '{}' }],
    });
  });
  policies.sort((a, b) => a.Arn.localeCompare(b.Arn));
  return { roles, policies };
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** SDK outputs as plain JSON (Dates as ISO text), the shape an export has. */
function stripMetadata<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export type { EC2Client };
