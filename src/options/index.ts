/**
 * Docker's string syntaxes → hull's typed create options, one concern per module: the CLI's
 * flags now, and the Engine API's string-valued fields (Binds, Tmpfs, ExtraHosts, SecurityOpt,
 * NetworkMode, …) next. Each parser checks the syntax with Docker's messages; the library then
 * validates the typed values (src/runtime/validate.ts) and never parses these strings again.
 */
export { parseAnnotations } from './annotations.js';
export { DEFAULT_DETACH_KEYS, parseAttachStreams, parseDetachKeys } from './attach.js';
export { parseDevice, parseDeviceCgroupRule } from './devices.js';
export { parseEnvEntries, parseEnvFile } from './env.js';
export { parseIdMap, parseUsernsRemap } from './idmaps.js';
export { parseLabelFile, parseLabels } from './labels.js';
export { parseLogConfig, parseLogDriver, parseLogOptions } from './log.js';
export { parseMountFlag, parseMountFlags, parseTmpfsFlag, parseVolumeFlag, parseVolumesFrom } from './mounts.js';
export { parseExtraHost, parseLink, parseNetworkMode } from './network.js';
export { parseExpose, parseProto, parsePublish } from './ports.js';
export { type ResourceFlags, type ResourceValues, parseDeviceIops, parseDeviceRate, parseResourceFlags, resourcesFromValues } from './resources.js';
export { type HealthFlags, parseHealthFlags } from './health.js';
export { parseRestartPolicy } from './restart.js';
export { type SecurityOpts, parseSecurityOpts } from './security.js';
export { isNamespacedSysctl, parseSysctls } from './sysctls.js';
export { type Ulimit, parseUlimit } from './ulimits.js';
