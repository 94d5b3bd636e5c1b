/**
 * The typed options of a new container: what the CLI fills from Docker's flags, and the Engine
 * API from its JSON (Podman's SpecGenerator plays this part there). Every value is typed; Docker's
 * string syntaxes (`-p 8080:80/udp`, `--restart on-failure:3`, `--device /dev/x:rw`, …) are
 * parsed at the edge by src/options/, never below it. validateCreateOptions (validate.ts) checks
 * the values once where they enter the library; create.ts turns them into a runtime-spec and a
 * record, returning Docker's warnings (never printing them).
 *
 * Each concern's part is declared next to the code that applies it and composed here:
 *   ProcessOptions   (specconv.ts)            command, entrypoint, env, workdir, tty
 *   SecurityOptions  (security.ts)            capabilities, no-new-privileges, seccomp, read-only, devices
 *   UsernsOptions    (userns.ts)              user-namespace remapping and id maps
 *   NetworkOptions   (network/container-config.ts)  mode, ports, exposed ports, DNS, extra hosts
 *   NamespaceOptions (namespaces.ts)          pid, IPC, UTS and cgroup namespaces: own, host's, another container's
 */
import type { ExtraHost } from '../network/hosts.js';
import type { NetworkMode, NetworkOptions } from '../network/container-config.js';
import type { ExposedPort, PortSpec } from '../network/ports.js';
import type { ResolvedImage } from '../store/image-store.js';
import type { HealthConfig, Platform } from '../image/types.js';
import type { MountRequest, VolumesFromRequest } from '../volume/requests.js';
import type { ContainerRecord } from './container-store.js';
import type { RestartPolicy } from './plan-codec.js';
import type { DeviceMapping, SeccompChoice, SecurityOptions } from './security.js';
import type { SpecResources } from './spec.js';
import type { ProcessOptions } from './specconv.js';
import type { IdMapping, UsernsOptions, UsernsRemap } from './userns.js';
import type { Ulimit } from './ulimits.js';
import type { CgroupnsMode, IpcMode, NamespaceOptions, PidMode, UtsMode } from './namespaces.js';

export type {
  CgroupnsMode,
  HealthConfig,
  DeviceMapping,
  ExposedPort,
  ExtraHost,
  IdMapping,
  IpcMode,
  MountRequest,
  NetworkMode,
  PidMode,
  PortSpec,
  RestartPolicy,
  SeccompChoice,
  UsernsRemap,
  UtsMode,
  VolumesFromRequest,
};

/** A resource limit (Docker's HostConfig.Ulimits entry: `nofile`, soft and hard, -1 unlimited). */
export type { Ulimit } from './ulimits.js';

/**
 * The log of a detached container (Docker's HostConfig.LogConfig): json-file (the default), local
 * (Docker's binary format; hull keeps it as json-file, which `logs` reads the same), or none (no
 * log: `logs` refuses, as Docker's).
 */
export interface LogConfig {
  driver?: 'json-file' | 'local' | 'none';
  /** Rotate the log when it reaches this many bytes (`max-size`); absent: never. */
  maxSize?: number;
  /** How many files to keep, the live one included (`max-file`, >= 1; more than 1 needs maxSize); absent: 1. */
  maxFile?: number;
}

export interface CreateOptions extends ProcessOptions, SecurityOptions, UsernsOptions, NetworkOptions, NamespaceOptions {
  /** An image reference or id. */
  image: string;
  name?: string;
  /** USER[:GROUP] (Docker's User), names looked up in the image's /etc/passwd and /etc/group. */
  user?: string;
  /** Supplementary groups: names or ids. */
  groupAdd?: string[];
  hostname?: string;
  /** Remove the container when it exits (`--rm`, Docker's AutoRemove). */
  remove?: boolean;
  /** The cgroup the container's cgroup is made in, relative to the cgroup2 root. Default 'hull'. */
  cgroupParent?: string;
  /** What the monitor of a detached container does when it ends. Default: no restart. */
  restartPolicy?: RestartPolicy;
  /** Keep stdin open (`-i`), recorded for inspect. */
  openStdin?: boolean;
  /** Run hull-init as PID 1 (reaps zombies, forwards signals), the command as its child. */
  init?: boolean;
  log?: LogConfig;
  /** cgroup limits (linux.resources). */
  resources?: SpecResources;
  /** Builds: the root filesystem and config to use instead of resolving `image` (a state between steps). */
  resolvedImage?: ResolvedImage;
  /** Builds: no anonymous volumes for the image's VOLUME paths (BuildKit keeps what RUN writes there in the layer). */
  skipImageVolumes?: boolean;
  /** Bind mounts, volumes and tmpfs mounts. */
  mounts?: MountRequest[];
  /** Mount the volumes of other containers. */
  volumesFrom?: VolumesFromRequest[];
  /** `-l`/`--label-file` (Docker's Config.Labels): over the image's labels. */
  labels?: Record<string, string>;
  /** `--ulimit` (process.rlimits). */
  ulimits?: Ulimit[];
  /** `--shm-size`: /dev/shm's size in bytes (default 64 MiB, Docker's). */
  shmSize?: number;
  /** `--sysctl` (linux.sysctl): only keys of the container's own namespaces (runtime/sysctls.ts). */
  sysctls?: Record<string, string>;
  /** `--stop-signal`: what `stop` sends first (default: the image's StopSignal, else SIGTERM). */
  stopSignal?: string;
  /** `--stop-timeout`: seconds `stop` waits before SIGKILL when it is given none (default 10). */
  stopTimeout?: number;
  /** `--oom-score-adj` (process.oomScoreAdj), -1000..1000. */
  oomScoreAdj?: number;
  /** `--domainname`: the NIS domain name of the container's UTS namespace. */
  domainname?: string;
  /** `--platform`: the image must be this platform's (a stored image of another is not found: the pull policy decides). */
  platform?: Platform;
  /** `--annotation` (Docker's HostConfig.Annotations): added to the spec's annotations. */
  annotations?: Record<string, string>;
  /** `--health-*`, `--no-healthcheck` (Docker's Config.Healthcheck): over the image's HEALTHCHECK, field by field (health.ts). */
  healthcheck?: HealthConfig;
  /** `-a` (Docker's Config.AttachStdin/AttachStdout/AttachStderr): the streams a foreground run attaches; shown by inspect. */
  attach?: AttachStreams;
  /**
   * `--pod`: the pod the container is made in (a name or id; `new:NAME` makes one). Hull.createContainer
   * checks the options against the pod and joins its namespaces (src/pods/members.ts); the record keeps the id.
   */
  pod?: string;
  /** `--detach-keys` as bytes (ctrl-p,ctrl-q is [16, 17]): the detach sequence of `start -a` and `attach` for this container. */
  detachKeys?: number[];
}

/** The streams a client attaches (Docker's Config.AttachStdin/AttachStdout/AttachStderr). */
export interface AttachStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** A created container and Docker's warnings about its options (the API's `{Id, Warnings}`): the caller shows them. */
export interface CreatedContainer {
  record: ContainerRecord;
  /** Each a sentence without the `WARNING: ` that the CLI puts before it. */
  warnings: string[];
}
