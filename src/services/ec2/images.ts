// Images: a built-in catalogue of the common public AMIs (DescribeImages).
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const imageHandlers = {};
