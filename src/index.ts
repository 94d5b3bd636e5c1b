export { Hull } from './hull.js';
export type { HullOptions, ListedNetwork, RunOptions, RunResult } from './hull.js';
export * from './errors.js';
export type { ContainerRecord, ContainerState } from './runtime/container-store.js';
export { containerLabels } from './runtime/container-store.js';
export {
  validateContainerName,
  validateCreateOptions,
  validateHostname,
  validateMountTarget,
  validateNetworkName,
  validateVolumeName,
  validateWorkdir,
} from './runtime/validate.js';
export type { RunningContainer, CreateOptions, CreatedContainer, StartOptions } from './runtime/runtime.js';
export type {
  AttachStreams,
  DeviceMapping,
  ExposedPort,
  ExtraHost,
  IdMapping,
  LogConfig,
  NetworkMode,
  PortSpec,
  RestartPolicy,
  SeccompChoice,
  UsernsRemap,
} from './runtime/create-options.js';
export * from './options/index.js';
export type { PodContainer, PodContainerStats, PodStatus, PodSummary } from './pods/pods.js';
export type { PodCreateOptions, PodNamespace, PodNetworkOptions } from './pods/options.js';
export { DEFAULT_SHARE, parseShare } from './pods/options.js';
export type { PodNetwork, PodRecord } from './pods/pod-store.js';
export { PAUSE_IMAGE } from './pods/pause-image.js';
export { kubeDown, kubeGenerate, kubePlan, kubePlay } from './kube/index.js';
export type { DownResult, KubeSource, PlayPlan, PlayResult } from './kube/index.js';
export { healthStatusOf, mergeHealthcheck, validateHealthcheck } from './runtime/health.js';
export type { HealthConfig, HealthResult, HealthState, HealthStatus } from './runtime/health.js';
export type { RuntimeSpec } from './runtime/spec.js';
export { EscapeProxy } from './runtime/escape-proxy.js';
export { buildSpec } from './runtime/specconv.js';
export { buildPlan } from './runtime/plan.js';
export { storePaths } from './store/paths.js';
export type { StorePaths } from './store/paths.js';
export type { ImageDetails, PruneResult, RemoveResult, ResolvedImage, StoredImage, StoreUsage } from './store/image-store.js';
export type { DiskUsage, HistoryEntry, ImageInspect, ImageSummary, UsageFigures } from './present/images.js';
export type { CheckProblem, CheckResult } from './store/check.js';
export type { GcResult } from './store/gc.js';
export type { SaveFormat } from './image/archive/save.js';
export type { BuildRequest, BuildResult } from './build/index.js';
export { parseDockerfile } from './build/dockerfile.js';
export type { Dockerfile, Instruction, Heredoc } from './build/dockerfile.js';
export type { MountRequest, Propagation, VolumesFromRequest } from './volume/requests.js';
export type { MountPoint } from './volume/resolve.js';
export type { VolumeRecord } from './volume/store.js';
export type { SecurityOptions } from './runtime/security.js';
export type { UsernsOptions } from './runtime/userns.js';
export type { DockerSeccompProfile, LinuxSeccomp } from './runtime/seccomp/profile.js';
export { parseDockerProfile, resolveProfile } from './runtime/seccomp/profile.js';
export { defaultProfile } from './runtime/seccomp/default-profile.js';
/** The compiled filter buildPlan needs for a spec with linux.seccomp. */
export { compiledFilter } from './runtime/seccomp/step.js';
export type { NetworkRecord } from './network/store.js';
export type { PortMapping } from './network/nft.js';
export type { ContainerNetworkConfig, NetworkOptions } from './network/manager.js';
export type { NetworkOrphan } from './network/leases.js';
export { NetworkNotFoundError } from './network/store.js';
export type { ImageSourceOptions, PullPolicy } from './hull.js';
export type { Credentials, PullEvent, PullOptions, PullResult, PushEvent, PushOptions, PushResult, RegistrySettings } from './registry/index.js';
export { DEFAULT_OCI_ROOT, OciRuntime } from './oci/runtime.js';
export type { OciContainerState, OciCreateOptions, OciRuntimeOptions } from './oci/runtime.js';
export { defaultOciSpec } from './oci/default-spec.js';
export type { OciState } from './runtime/hooks.js';
export type { CommitOptions, ImportOptions } from './build/commit.js';
export type { Change, ChangeKind } from './runtime/container-fs.js';
export { CHANGE_KIND_NUMBER } from './runtime/container-fs.js';
export {
  filterArgsFromJson,
  parseContainerFilters,
  parseFilterFlags,
  parseImageFilters,
  parseNetworkFilters,
  parsePruneFilters,
  parseVolumeFilters,
} from './filters/index.js';
export type { ContainerFilters, FilterArgs, ImageFilters, LabelFilter, NetworkFilters, PruneFilters, PsSelection, VolumeFilters } from './filters/index.js';
export { infoText, versionText } from './present/system-info.js';
export type { EventMessage, EventType } from './events/log.js';
export type { EventReadOptions } from './events/follow.js';
export { type EventFilters, matchesEvent, parseEventFilters, parseEventTime } from './events/filter.js';
