// Instance types: DescribeInstanceTypes, and the interface and address limits they set.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const instanceTypeHandlers = {};
