// The resources of a call, as LookupEvents reports them ({ResourceType, ResourceName}): found
// generically in the call's input (and, for calls that change something, its output) — EC2 ids
// by their prefixes, IAM/STS/Logs/CloudTrail names by the members that carry them.

import { resourceTypeOfId } from '../core/resource-types.ts';

export interface LookupResource {
  ResourceType: string;
  ResourceName: string;
}

/** Members naming a resource, per event source (JSON services use lower-camel names). */
const BY_MEMBER: Record<string, Record<string, string>> = {
  iam: {
    RoleName: 'AWS::IAM::Role',
    UserName: 'AWS::IAM::User',
    GroupName: 'AWS::IAM::Group',
    InstanceProfileName: 'AWS::IAM::InstanceProfile',
    PolicyArn: 'AWS::IAM::Policy',
    AccessKeyId: 'AWS::IAM::AccessKey',
  },
  sts: { RoleArn: 'AWS::IAM::Role', AccessKeyId: 'AWS::IAM::AccessKey', Arn: 'AWS::STS::AssumedRole' },
  logs: { logGroupName: 'AWS::Logs::LogGroup', logStreamName: 'AWS::Logs::LogStream' },
  cloudtrail: { Name: 'AWS::CloudTrail::Trail', TrailARN: 'AWS::CloudTrail::Trail' },
};

const MAX = 50;

/**
 * Walks the values (input, then output for writes) and collects the resources they name.
 * `output` is walked only when given (read-only calls pass none: a describe's result names
 * everything it lists, which AWS does not report as the event's resources).
 */
export function findResources(service: string, input: unknown, output: unknown): LookupResource[] {
  const out: LookupResource[] = [];
  const seen = new Set<string>();
  const add = (type: string, name: string) => {
    const k = `${type}\u0000${name}`;
    if (seen.has(k) || out.length >= MAX) return;
    seen.add(k);
    out.push({ ResourceType: type, ResourceName: name });
  };
  const members = BY_MEMBER[service];
  const ec2 = service === 'ec2';
  const walk = (v: unknown, key: string | undefined, depth: number): void => {
    if (out.length >= MAX || depth > 8 || v === null || v === undefined) return;
    if (typeof v === 'string') {
      // Own entries only: a key is caller data (a tag key, a map key) and may be `constructor`.
      if (ec2) {
        const type = resourceTypeOfId(v);
        if (type) add(type.cloudFormation, v);
      } else if (members && key && Object.hasOwn(members, key) && v) {
        add(members[key]!, v);
      }
      return;
    }
    if (Array.isArray(v)) {
      for (const x of v) walk(x, key, depth + 1);
      return;
    }
    if (typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        // The policy documents and user data of a call name no resources of their own.
        if (k === 'UserData' || k.endsWith('PolicyDocument') || k === 'Policy') continue;
        walk(x, k, depth + 1);
      }
    }
  };
  walk(input, undefined, 0);
  if (output !== undefined) walk(output, undefined, 0);
  return out;
}
