/** Docker's `--filter` for every list and prune verb: parsed once at the edge (./args.ts), checked and matched per verb. */
export * from './args.js';
export * from './containers.js';
export * from './images.js';
export * from './resources.js';
export * from './prune.js';
