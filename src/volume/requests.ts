/**
 * What a container asks to have mounted, typed (Docker's HostConfig.Mounts/Binds/Tmpfs and
 * VolumesFrom): made from Docker's flags at the edge (src/options/mounts.ts), turned into volumes
 * and runtime-spec mounts by resolve.ts.
 */
import { UsageError } from '../errors.js';

export const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'] as const;
export type Propagation = (typeof PROPAGATIONS)[number];

/** Where a request came from: `-v` makes a missing bind source, `--mount` refuses it (as Docker). */
export type MountOrigin = 'volume-flag' | 'mount-flag' | 'tmpfs-flag' | 'image';

export type MountRequest =
  | {
      type: 'bind';
      /** Absolute host path. */
      source: string;
      target: string;
      readonly: boolean;
      propagation: Propagation;
      origin: MountOrigin;
      /** The mode string as given to `-v` (Docker's MountPoint.Mode). */
      mode: string;
      /** The `-v` text (Docker's HostConfig.Binds). */
      spec?: string;
    }
  | {
      type: 'volume';
      /** Volume name; undefined for an anonymous volume. */
      name?: string;
      target: string;
      readonly: boolean;
      /** `nocopy` / `volume-nocopy`: do not fill an empty volume from the image. */
      noCopy: boolean;
      origin: MountOrigin;
      mode: string;
      spec?: string;
    }
  | {
      type: 'tmpfs';
      target: string;
      readonly: boolean;
      /** Mount options for tmpfs: flags (nosuid, …) and data (size=…, mode=…). */
      options: string[];
      origin: MountOrigin;
    };

/** `--volumes-from CONTAINER[:ro|rw]`. */
export interface VolumesFromRequest {
  container: string;
  /** undefined: keep each mount's own mode. */
  readonly?: boolean;
}

/** Two mounts on one destination are refused (Docker: "Duplicate mount point"). */
export function checkDuplicates(targets: readonly string[]): void {
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t)) throw new UsageError(`Duplicate mount point: ${t}`);
    seen.add(t);
  }
}
