/**
 * `--device HOST[:CONTAINER][:PERMISSIONS]` → a DeviceMapping (Docker's HostConfig.Devices entry);
 * `--device-cgroup-rule 'c 1:3 rwm'` → a rule of the device controller (HostConfig.DeviceCgroupRules).
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { DeviceRule } from '../runtime/devices-bpf.js';
import type { DeviceMapping } from '../runtime/security.js';

/** Docker's format (its ValidateDeviceCgroupRule): TYPE MAJOR:MINOR ACCESS, `*` for any number. */
export function parseDeviceCgroupRule(rule: string): DeviceRule {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule);
  if (!m) throw new UsageError(`invalid argument "${rule}" for "--device-cgroup-rule" flag: invalid device cgroup format '${rule}'`);
  const num = (t: string) => (t === '*' ? -1 : Number(t));
  return { allow: true, type: m[1]!, major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
}

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
