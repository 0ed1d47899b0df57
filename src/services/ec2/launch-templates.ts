// Launch templates and their versions.
// (Not implemented yet: the operations answer InvalidAction until their handlers are here.)
export const launchTemplateHandlers = {};
