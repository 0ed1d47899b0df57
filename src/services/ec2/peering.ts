// VPC peering connections.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const peeringHandlers = {};
