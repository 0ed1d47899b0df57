// Elastic IP addresses: allocate, associate, disassociate, release.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const elasticIpHandlers = {};
