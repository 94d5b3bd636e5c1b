/** The registry client: pull, push, login/logout (see each module). */
export { type PullEvent, type PullOptions, type PullResult, parsePlatform, pullImage } from './pull.js';
export { type PushEvent, type PushOptions, type PushResult, pushImage } from './push.js';
export { checkLogin, login, logout, registryHost } from './login.js';
export { type RegistrySettings, registrySettings } from './settings.js';
export type { Credentials } from './credentials.js';
