// Key pairs: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const keyPairHandlers = {};
