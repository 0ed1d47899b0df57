// EBS volumes as instances have them (root volumes): DescribeVolumes.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const volumeHandlers = {};
