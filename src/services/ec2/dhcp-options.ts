// DHCP options sets and their association with VPCs.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const dhcpOptionsHandlers = {};
