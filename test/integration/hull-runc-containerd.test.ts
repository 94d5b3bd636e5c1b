// hull-runc as containerd's runtime: the same checks through ctr and the runc shim
// (io.containerd.runc.v2) that Debian's runc passes in containerd.test.ts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasBusybox } from '../helpers/busybox-image.js';
import { containerdSkipReason } from '../helpers/containerd.js';
import { ctrRuntimeChecks } from '../helpers/ctr-checks.js';
import { PROJECT } from '../helpers/hull-env.js';

const HULL_RUNC = path.join(PROJECT, 'bin', 'hull-runc.cjs');
const skip =
  containerdSkipReason ||
  (!hasBusybox() ? '; skipped: needs busybox-static' : !existsSync(path.join(PROJECT, 'dist', 'hull-runc.cjs')) ? '; skipped: needs npm run build' : '');

ctrRuntimeChecks({ name: 'hull-runc', runtime: () => HULL_RUNC, skip });
