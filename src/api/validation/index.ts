// Shared validation: name formats, IP addresses, quantities and ObjectMeta rules, with upstream's messages.
export * from './ip.js';
export * from './names.js';
export * from './object-meta.js';
export * from './quantity.js';
