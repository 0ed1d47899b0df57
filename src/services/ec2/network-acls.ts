// Network ACLs: the default ACL of every VPC, custom ACLs, entries and associations.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const networkAclHandlers = {};
