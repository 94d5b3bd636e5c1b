// OCI bundles for the tests of hull's OCI runtime and hull-runc: busybox (Debian's static build)
// as the root, a config from defaultOciSpec with the command and a cgroup below the test's parent.
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultOciSpec } from '../../src/oci/default-spec.js';
import type { RuntimeSpec } from '../../src/runtime/spec.js';
import { findBusybox } from '../../scripts/make-busybox-image.mjs';

const TOOLS = ['sh', 'echo', 'cat', 'sleep', 'hostname', 'readlink', 'env', 'ls', 'true'];

/** A bundle in `dir`: busybox as its root, `args` as its command, its cgroup `/<cgroupParent>/<id>`. */
export function makeBundle(dir: string, id: string, args: string[], cgroupParent: string, patch: (spec: RuntimeSpec) => void = () => undefined): void {
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'out', 'etc']) mkdirSync(path.join(rootfs, d), { recursive: true });
  const busybox = findBusybox();
  if (!busybox) throw new Error('busybox-static is not installed');
  writeFileSync(path.join(rootfs, 'bin', 'busybox'), readFileSync(busybox));
  chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const tool of TOOLS) symlinkSync('busybox', path.join(rootfs, 'bin', tool));
  const spec = defaultOciSpec({ terminal: false, args });
  spec.root.readonly = false;
  spec.linux.cgroupsPath = `/${cgroupParent}/${id}`;
  patch(spec);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
}
