// NAT gateways (public, with an Elastic IP; private).
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const natGatewayHandlers = {};
