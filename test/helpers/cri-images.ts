// The images of the CRI tier (test/helpers/cri.ts), made here from Debian's busybox-static and two tiny
// static C programs compiled by the test (cc -static): nothing is downloaded. Every image shares one
// layer (busybox, a passwd/group with the users critest's images have, a web root, /pause and
// /nonewprivs) and differs by its config, so they are cheap to make and images meant to be "different"
// (test-image-1/2/3) differ by a label, and "the same" ones (test-image-tags:1/2/3) are byte-identical.
//
// The names are the upstream ones critest and containerd ask for (critest keeps its names: its
// --registry-prefix breaks its own RepoTags checks); cri.ts serves them from a local registry through
// containerd's registry host configuration, so a pull of registry.k8s.io/… never leaves the machine.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  BUSYBOX_GROUP,
  BUSYBOX_PASSWD,
  DEFAULT_PATH,
  type Entry,
  type ImageConfig,
  busyboxLayerEntries,
  writeOciImage,
} from '../../scripts/make-busybox-image.mjs';

/** containerd's sandbox_image for the tier */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.6';
/** critest's default container image (a plain busybox) */
export const CRI_BUSYBOX_IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';

export interface CriImage {
  /** the full upstream name, host/repository:tag */
  name: string;
  /** the OCI image layout directory that holds it */
  ociDir: string;
}

// The pause container: sleeps until SIGTERM/SIGINT and reaps the children a shared PID namespace hands it.
const PAUSE_C = `#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void quit(int s) { (void)s; _exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, quit); signal(SIGTERM, quit); signal(SIGCHLD, reap);
  for (;;) pause();
}
`;

// critest's NoNewPrivs specs run this setuid-root program as uid 1000 and read its effective uid.
const NONEWPRIVS_C = `#include <stdio.h>
#include <unistd.h>
int main(void) { printf("Effective uid: %d\\n", (int)geteuid()); return 0; }
`;

/** True when a C compiler that links statically is here (Debian: build-essential). */
export function hasStaticCc(): boolean {
  return spawnSync('sh', ['-c', 'command -v cc'], { stdio: 'ignore' }).status === 0;
}

function compile(dir: string, name: string, source: string): string {
  const src = path.join(dir, `${name}.c`);
  const out = path.join(dir, name);
  writeFileSync(src, source);
  const r = spawnSync('cc', ['-static', '-Os', '-s', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc -static ${src}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
  return out;
}

// Busybox-static has no pgrep and no ipcs, and no nginx is packaged here: small scripts stand in for
// what critest asks of them. nginx: "master process" in its command line, its pid in
// /var/run/nginx.pid and its name (a script's is its file name) for pidof, serving /var/www.
const PGREP_SH = `#!/bin/sh
# stands in for procps' pgrep PATTERN: the pids whose name matches
found=1
for d in /proc/[0-9]*; do
  comm=$(cat "$d/comm" 2>/dev/null) || continue
  if echo "$comm" | grep -q -- "$1"; then echo "\${d#/proc/}"; found=0; fi
done
exit $found
`;
const IPCS_SH = `#!/bin/sh
# stands in for util-linux's ipcs -m: the System V shared memory segments of this IPC namespace
echo '------ Shared Memory Segments --------'
echo 'key        shmid      perms      bytes      nattch     uid'
tail -n +2 /proc/sysvipc/shm | while read -r key shmid perms size cpid lpid nattch uid rest; do
  echo "$key $shmid $perms $size $nattch $uid"
done
`;
const NGINX_SH = `#!/bin/sh
# stands in for nginx (hull's CRI tests): its pid in /var/run/nginx.pid, a web server on \${PORT:-80}
echo $$ > /var/run/nginx.pid
httpd -f -p "\${PORT:-80}" -h /var/www &
trap 'kill $!; exit 0' TERM INT
wait
`;

const CRITOOLS = 'gcr.io/k8s-staging-cri-tools/';
const E2E = 'registry.k8s.io/e2e-test-images/';
const ECR = 'public.ecr.aws/docker/library/';
const WEB_PAGE = '<html><body>hull CRI test page (stands in for nginx)</body></html>\n';

/** The images: name → what its config sets (over Env=PATH and Cmd=sh). */
function imageConfigs(): Array<[string, NonNullable<ImageConfig['config']>]> {
  const httpd = (port: number): string[] => ['httpd', '-f', '-p', String(port), '-h', '/var/www'];
  const plain = {};
  return [
    [PAUSE_IMAGE, { Entrypoint: ['/pause'], Cmd: null }],
    [CRI_BUSYBOX_IMAGE, plain],
    [`${E2E}nginx:1.14-2`, { Cmd: ['/usr/sbin/nginx', 'master process'] }],
    // multi_container_linux.go looks for its command line in the log
    [`${E2E}httpd:2.4.39-4`, { Cmd: ['sh', '-c', `echo httpd -D FOREGROUND; exec ${httpd(80).join(' ')}`] }],
    [`${E2E}nonewprivs:1.3`, { Cmd: ['/nonewprivs'] }],
    [`${CRITOOLS}hostnet-nginx-amd64:latest`, { Cmd: ['/usr/sbin/nginx', 'master process'], Env: [`PATH=${DEFAULT_PATH}`, 'PORT=12003'] }],
    [`${CRITOOLS}test-image-user-uid:latest`, { User: '1002' }],
    [`${CRITOOLS}test-image-user-username:latest`, { User: 'www-data' }],
    [`${CRITOOLS}test-image-user-uid-group:latest`, { User: '1003:1003' }],
    [`${CRITOOLS}test-image-user-username-group:latest`, { User: 'www-data:www-data' }],
    [`${CRITOOLS}test-image-predefined-group:latest`, { User: '1000' }],
    [`${CRITOOLS}test-image-latest:latest`, plain],
    [`${CRITOOLS}test-image-tag:test`, plain],
    [`${CRITOOLS}test-image-tag:all`, plain],
    ...[1, 2, 3].map((n): [string, NonNullable<ImageConfig['config']>] => [`${CRITOOLS}test-image-${n}:latest`, { Labels: { 'hull.test-image': String(n) } }]),
    ...[1, 2, 3].map((n): [string, NonNullable<ImageConfig['config']>] => [`${CRITOOLS}test-image-tags:${n}`, { Labels: { 'hull.test-image': 'tags' } }]),
    // the image-listing benchmark's
    ...['1.35.0-glibc', '1-uclibc', '1', '1-glibc', '1-musl'].map((t): [string, NonNullable<ImageConfig['config']>] => [`${ECR}busybox:${t}`, plain]),
  ];
}

/** The shared layer: busybox plus what the images above need. */
function baseLayer(pause: string, nonewprivs: string): Entry[] {
  const passwd = `${BUSYBOX_PASSWD.trimEnd()}\nwww-data:x:33:33:www-data:/var/www:/bin/sh\n`;
  // uid 1000 (app) is in group 50000 only: critest's SupplementalGroups spec expects exactly "1000 1234 50000"
  const group = `${BUSYBOX_GROUP.replace(/^staff:x:50:app$/m, 'staff:x:50:').trimEnd()}\nwww-data:x:33:\ngroup-defined-in-image:x:50000:app\n`;
  // Hard links, not symlinks, to busybox (as Debian's busybox package has them): critest's MaskedPaths
  // spec masks /bin/ls, and a mask over a symlink would cover busybox itself, and with it the shell.
  // A hard link's mode is busybox's: containerd applies a link's header mode to the file.
  const entries = busyboxLayerEntries()
    .filter((e) => e.path !== 'etc/passwd' && e.path !== 'etc/group')
    .map((e): Entry => (e.type === 'symlink' && e.linkname === '/bin/busybox' ? { path: e.path, type: 'hardlink', linkname: 'bin/busybox', mode: 0o755 } : e));
  entries.push(
    { path: 'var/run/', type: 'dir' },
    { path: 'usr/bin/pgrep', type: 'file', mode: 0o755, content: PGREP_SH },
    { path: 'usr/bin/ipcs', type: 'file', mode: 0o755, content: IPCS_SH },
    { path: 'usr/sbin/nginx', type: 'file', mode: 0o755, content: NGINX_SH },
    { path: 'etc/passwd', type: 'file', content: passwd },
    { path: 'etc/group', type: 'file', content: group },
    { path: 'var/www/index.html', type: 'file', content: WEB_PAGE },
    { path: 'pause', type: 'file', mode: 0o755, source: pause },
    { path: 'nonewprivs', type: 'file', mode: 0o4755, source: nonewprivs },
  );
  return entries;
}

/** Write every image of the tier as an OCI layout under `dir` (compiles pause and nonewprivs there first). */
export async function makeCriImages(dir: string): Promise<CriImage[]> {
  mkdirSync(dir, { recursive: true });
  const layer = baseLayer(compile(dir, 'pause', PAUSE_C), compile(dir, 'nonewprivs', NONEWPRIVS_C));
  const out: CriImage[] = [];
  let i = 0;
  for (const [name, config] of imageConfigs()) {
    const ociDir = path.join(dir, `image-${i++}`);
    // a label of its own makes each image distinct (critest counts the tags of each image id), unless the config sets one
    const labels = { 'hull.cri-image': name };
    await writeOciImage({
      layers: [layer],
      name,
      outDir: ociDir,
      config: { config: { Env: [`PATH=${DEFAULT_PATH}`], Cmd: ['sh'], Labels: labels, ...config } },
    });
    out.push({ name, ociDir });
  }
  return out;
}
