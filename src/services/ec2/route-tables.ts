// Route tables: the main table of every VPC, custom tables, routes and associations.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const routeTableHandlers = {};
