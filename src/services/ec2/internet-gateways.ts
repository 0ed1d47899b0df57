// Internet gateways and egress-only internet gateways.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const internetGatewayHandlers = {};
