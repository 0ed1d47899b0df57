// VPC endpoints: gateway (S3, DynamoDB) and interface endpoints.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const vpcEndpointHandlers = {};
