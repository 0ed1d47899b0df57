// The IAM operation table, assembled from the domain modules (index.ts registers it), plus the
// names other parts of Palisade import from here.
import type { Handler } from '../../core/context.ts';
import { accessKeyHandlers } from './access-keys.ts';
import { attachmentHandlers } from './attachments.ts';
import { authorizationDetailsHandlers } from './authorization-details.ts';
import { inlinePolicyHandlers } from './inline-policies.ts';
import { instanceProfileHandlers } from './instance-profiles.ts';
import { policyHandlers } from './policies.ts';
import { roleHandlers } from './roles.ts';
import { userHandlers } from './users.ts';

export const iamCoreHandlers: Record<string, Handler> = {
  ...roleHandlers,
  ...inlinePolicyHandlers,
  ...policyHandlers,
  ...attachmentHandlers,
  ...instanceProfileHandlers,
  ...userHandlers,
  ...accessKeyHandlers,
  ...authorizationDetailsHandlers,
};

export { awsManagedPolicy, awsManagedPolicies } from './aws-managed.ts';
export { validatePolicyDocument } from './policy-grammar.ts';
export { getRole, getPolicy as findPolicy } from './lookups.ts';
