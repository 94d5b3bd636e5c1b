/** The container's device controller: its rules as a BPF program attached to its cgroup (v2). */
import { sys } from '../native/index.js';
import { deviceFilterProgram, encodeBpfProgram } from './devices-bpf.js';
import type { SpecResources } from './spec.js';

/** Attach the program for `resources.devices` to the cgroup directory; none when there are no rules. */
export function attachDeviceFilter(cgroupDir: string, resources: SpecResources | undefined): void {
  const rules = resources?.devices;
  if (!rules || rules.length === 0) return;
  sys.attachDeviceFilter(cgroupDir, encodeBpfProgram(deviceFilterProgram(rules)));
}
