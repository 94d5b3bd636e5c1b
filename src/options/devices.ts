/** `--device HOST[:CONTAINER][:PERMISSIONS]` → a DeviceMapping (Docker's HostConfig.Devices entry). */
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { DeviceMapping } from '../runtime/security.js';

/** PERMISSIONS: some of rwm (default rwm); a second field of only r, w and m is permissions, not a path. */
export function parseDevice(spec: string): DeviceMapping {
  const parts = spec.split(':');
  const hostPath = parts[0] ?? '';
  let containerPath = hostPath;
  let permissions = 'rwm';
  if (parts.length === 2) {
    if (/^[rwm]+$/.test(parts[1]!)) permissions = parts[1]!;
    else containerPath = parts[1]!;
  } else if (parts.length === 3) {
    containerPath = parts[1]!;
    permissions = parts[2]!;
  } else if (parts.length > 3) {
    throw new UsageError(`invalid device specification: ${spec}`);
  }
  if (!path.posix.isAbsolute(hostPath) || !path.posix.isAbsolute(containerPath)) {
    throw new UsageError(`invalid device specification: ${spec} (paths must be absolute)`);
  }
  if (!/^[rwm]{1,3}$/.test(permissions)) throw new UsageError(`invalid device mode: ${permissions}`);
  return { hostPath, containerPath: path.posix.normalize(containerPath), permissions };
}
