// hull-runc as containerd's runtime: the same checks through ctr and the runc shim
// (io.containerd.runc.v2) that Debian's runc passes in containerd.test.ts. The shim runs the native
// front (build/Release/hull-runc), which hands create, exec, pause, ps … to Node.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasBusybox } from '../helpers/busybox-image.js';
import { containerdSkipReason } from '../helpers/containerd.js';
import { ctrRuntimeChecks } from '../helpers/ctr-checks.js';
import { PROJECT } from '../helpers/hull-env.js';

const HULL_RUNC = path.join(PROJECT, 'build', 'Release', 'hull-runc');
const skip =
  containerdSkipReason ||
  (!hasBusybox()
    ? '; skipped: needs busybox-static'
    : !existsSync(path.join(PROJECT, 'dist', 'hull-runc.cjs')) || !existsSync(HULL_RUNC)
      ? '; skipped: needs npm run build'
      : '');

ctrRuntimeChecks({ name: 'hull-runc', runtime: () => HULL_RUNC, skip });
