// Moved to src/present/containers.ts (the Docker-shaped presentation the CLI and the API share).
// This re-export keeps runtime.ts's import working; to be removed when runtime.ts is split.
export { inspectContainer, type InspectPaths } from '../present/containers.js';
