#!/usr/bin/env node
// The vm test tier: boots Debian's linux-image-cloud-amd64 kernel under qemu (KVM when it works,
// else TCG, chosen automatically) on a real unified cgroup v2 hierarchy with every controller,
// runs the vm tests (test/vm, with vitest) inside, and exits with their result.
//
//   sudo node scripts/vm/run-vm-tests.mjs [vitest arguments]
//
// How the machine is made (nothing is installed on the host beyond apt packages):
//   kernel    apt-get download of linux-image-cloud-amd64's kernel package, unpacked with
//             dpkg-deb -x into the cache (/var/tmp/hull-vm/<kernel version>/)
//   initrd    busybox-static + the virtio modules the root disk needs (the cloud kernel has them
//             as modules); its /init loads them, mounts /dev/vda and switch_root's into it
//   root disk an ext4 image made by mke2fs -d (no mounting) from a staged tree: busybox, node and
//             its shared libraries, the kernel modules hull needs, the built project (hardlinked)
//   result    the guest's serial console is copied to stdout; its last line HULL_VM_EXIT=<code>
//             is the result; the guest powers off and qemu exits
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const project = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cacheRoot = process.env.HULL_VM_CACHE ?? '/var/tmp/hull-vm';
const timeoutMs = Number(process.env.HULL_VM_TIMEOUT_MS ?? 15 * 60_000);
const memoryMb = Number(process.env.HULL_VM_MEMORY_MB ?? 2048);
/** Modules the guest loads (with their dependencies): root disk first, then what hull uses. */
const BOOT_MODULES = ['virtio_pci', 'virtio_blk'];
const GUEST_MODULES = ['overlay', 'veth', 'bridge'];

function log(msg) {
  process.stderr.write(`vm: ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** The cloud kernel, unpacked: { version, vmlinuz, modules } (downloaded once into the cache). */
function ensureKernel() {
  const meta = run('apt-cache', ['depends', 'linux-image-cloud-amd64']);
  const pkg = /Depends: (linux-image-[\d.]+-\d+-cloud-amd64)\b/.exec(meta)?.[1];
  if (!pkg) throw new Error('cannot find the kernel package behind linux-image-cloud-amd64 (run apt-get update)');
  const version = pkg.replace(/^linux-image-/, '');
  const dir = path.join(cacheRoot, version);
  const vmlinuz = path.join(dir, 'boot', `vmlinuz-${version}`);
  if (!existsSync(vmlinuz)) {
    const work = path.join(cacheRoot, `.download-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    log(`downloading ${pkg}`);
    run('apt-get', ['download', pkg], { cwd: work });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
    rmSync(dir, { recursive: true, force: true });
    run('dpkg-deb', ['-x', path.join(work, deb), dir]);
    rmSync(work, { recursive: true, force: true });
  }
  return { version, vmlinuz, modules: path.join(dir, 'lib', 'modules', version) };
}

/** Module files by name, and `names` with their dependencies, dependencies first. */
function moduleOrder(modulesDir, names) {
  const files = new Map();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ko')) files.set(entry.name.slice(0, -3).replace(/-/g, '_'), p);
    }
  };
  walk(modulesDir);
  const ordered = [];
  const visit = (name) => {
    if (ordered.includes(name)) return;
    const file = files.get(name);
    if (!file) return; // built into this kernel
    const deps = /depends=([^\0]*)\0/.exec(readFileSync(file, 'latin1'))?.[1] ?? '';
    for (const dep of deps.split(',').filter(Boolean)) visit(dep.replace(/-/g, '_'));
    ordered.push(name);
  };
  for (const n of names) visit(n);
  return ordered.map((name) => ({ name, file: files.get(name) }));
}

function busybox() {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(p)) return p;
  throw new Error('busybox not found (apt-get install busybox-static)');
}

/** newc cpio of `dir`, made by busybox (no cpio package needed). */
function cpio(dir, out) {
  execFileSync('sh', ['-c', `cd "${dir}" && find . | "${busybox()}" cpio -o -H newc > "${out}"`], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeInitrd(work, kernel) {
  const dir = path.join(work, 'initrd');
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  mkdirSync(path.join(dir, 'modules'));
  copyFileSync(busybox(), path.join(dir, 'bin', 'busybox'));
  const mods = moduleOrder(kernel.modules, BOOT_MODULES);
  for (const m of mods) copyFileSync(m.file, path.join(dir, 'modules', `${m.name}.ko`));
  writeFileSync(
    path.join(dir, 'init'),
    `#!/bin/busybox sh
echo "vm: initrd started"
/bin/busybox mkdir -p /proc /sys /dev /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
for m in ${mods.map((m) => m.name).join(' ')}; do /bin/busybox insmod /modules/$m.ko || echo "initrd: insmod $m failed"; done
for i in $(/bin/busybox seq 1 200); do [ -b /dev/vda ] && break; /bin/busybox usleep 20000; done
/bin/busybox mount -t ext4 /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; echo HULL_VM_EXIT=125; /bin/busybox poweroff -f; }
/bin/busybox umount /proc
/bin/busybox umount /dev
exec /bin/busybox switch_root /newroot /vm/init
`,
  );
  chmodSync(path.join(dir, 'init'), 0o755);
  const out = path.join(work, 'initrd.cpio');
  cpio(dir, out);
  return out;
}

/** Hardlink a tree (fast, no copy); falls back to copying across file systems. */
function linkTree(from, to) {
  try {
    execFileSync('cp', ['-al', from, to], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch {
    cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  }
}

function sharedLibraries(binary) {
  const out = run('ldd', [binary]);
  const libs = new Set();
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]);
  }
  return [...libs];
}

/** Run in the guest after vitest: its json report as one line the host parses (HULL_VM_SUMMARY). */
const SUMMARY_JS = [
  'let r = {};',
  'try { r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch {}',
  'const n = (k) => Number(r[k] || 0);',
  'const broken = (r.testResults || []).filter((f) => f.status === "failed" && !(f.assertionResults || []).length).length;',
  'console.log("HULL_VM_SUMMARY " + JSON.stringify({ passed: n("numPassedTests"), failed: n("numFailedTests") + broken, skipped: n("numPendingTests") + n("numTodoTests"), report: !!r.numTotalTests || r.success !== undefined }));',
].join(' ');

/**
 * The guest's counts for scripts/test.sh: written to $HULL_VM_SUMMARY_FILE as
 * {passed, failed, skipped}; a run without a report (no boot, a crash) counts as one failure.
 */
function writeSummary(output, code) {
  const file = process.env.HULL_VM_SUMMARY_FILE;
  if (!file) return;
  const m = /HULL_VM_SUMMARY (\{.*\})/.exec(output ?? '');
  let counts = { passed: 0, failed: 1, skipped: 0 };
  if (m) {
    const s = JSON.parse(m[1]);
    counts = { passed: s.passed, failed: s.failed + (s.report && (s.failed > 0 || code === 0) ? 0 : 1), skipped: s.skipped };
  }
  writeFileSync(file, `${JSON.stringify(counts)}\n`);
}

function makeRootDisk(work, kernel, vitestArgs) {
  const root = path.join(work, 'root');
  for (const d of ['bin', 'usr/bin', 'proc', 'sys', 'dev', 'tmp', 'run', 'var/lib', 'etc', 'vm/modules', 'root']) {
    mkdirSync(path.join(root, d), { recursive: true });
  }
  copyFileSync(busybox(), path.join(root, 'bin', 'busybox'));
  const node = process.execPath;
  copyFileSync(node, path.join(root, 'usr', 'bin', 'node'));
  chmodSync(path.join(root, 'usr', 'bin', 'node'), 0o755);
  // node's libraries, and those of every native addon the tests load (hull's, the test tools').
  const addons = run('find', [path.join(project, 'node_modules'), path.join(project, 'build'), '-name', '*.node', '-type', 'f'])
    .split('\n')
    .filter(Boolean);
  const libs = new Set([node, ...addons].flatMap((file) => sharedLibraries(file)));
  for (const lib of libs) {
    const real = path.join(root, lib);
    mkdirSync(path.dirname(real), { recursive: true });
    copyFileSync(lib, real);
  }
  const mods = moduleOrder(kernel.modules, GUEST_MODULES);
  for (const m of mods) copyFileSync(m.file, path.join(root, 'vm', 'modules', `${m.name}.ko`));
  writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\n');
  writeFileSync(path.join(root, 'etc', 'resolv.conf'), '');
  writeFileSync(path.join(root, 'etc', 'hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  // The project: what the tests import and run.
  mkdirSync(path.join(root, 'hull'));
  for (const entry of ['package.json', 'tsconfig.json', 'vitest.config.ts', 'bin', 'dist', 'build', 'node_modules', 'scripts', 'src', 'test']) {
    const from = path.join(project, entry);
    if (existsSync(from)) linkTree(from, path.join(root, 'hull', entry));
  }
  const args = vitestArgs.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  writeFileSync(
    path.join(root, 'vm', 'init'),
    `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin HOME=/root TMPDIR=/tmp CI=true HULL_VM_GUEST=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# As systemd does on a unified host: every controller enabled for the root's children.
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "vm: cannot enable $c"; done
for m in ${mods.map((m) => m.name).join(' ')}; do insmod /vm/modules/$m.ko || echo "vm: insmod $m failed"; done
ip link set lo up
hostname hull-vm
echo "vm: kernel $(uname -r), cgroup v2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
cd /hull && node node_modules/vitest/vitest.mjs run --config test/vm/vitest.config.ts --reporter=default --reporter=json --outputFile.json=/tmp/vm-report.json ${args}
rc=$?
node -e '${SUMMARY_JS}' /tmp/vm-report.json
echo "HULL_VM_EXIT=$rc"
sync
poweroff -f
`,
  );
  chmodSync(path.join(root, 'vm', 'init'), 0o755);
  // Size: the tree plus room for the tests' images, layers and containers.
  const usedKb = Number(run('du', ['-sk', root]).split('\t')[0]);
  const sizeMb = Math.ceil(usedKb / 1024) + 768;
  const image = path.join(work, 'root.img');
  run('mke2fs', ['-q', '-t', 'ext4', '-L', 'hullvm', '-d', root, image, `${sizeMb}M`]);
  return image;
}

function kvmUsable() {
  try {
    const st = statSync('/dev/kvm');
    return st.isCharacterDevice();
  } catch {
    return false;
  }
}

/** How long a boot may stay silent before the accelerator is taken to have hung (KVM does, here). */
const FIRST_OUTPUT_MS = Number(process.env.HULL_VM_FIRST_OUTPUT_MS ?? 20_000);

/** Boot and stream the console; resolves with { code, started, qemuStatus, output }. */
function boot({ vmlinuz, initrd, disk, accel }) {
  const args = [
    '-accel',
    accel,
    '-m',
    String(memoryMb),
    '-smp',
    String(Math.min(2, os.cpus().length)),
    '-nographic',
    '-no-reboot',
    '-nodefaults',
    '-serial',
    'stdio',
    '-kernel',
    vmlinuz,
    '-initrd',
    initrd,
    '-append',
    'console=ttyS0 panic=-1 quiet loglevel=3 rw',
    '-drive',
    `file=${disk},format=raw,if=virtio`,
  ];
  if (accel === 'kvm') args.push('-cpu', 'host');
  return new Promise((resolve) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let tail = '';
    const bootStart = Date.now();
    let bootMs;
    const onData = (chunk) => {
      const text = chunk.toString();
      output += text;
      if (bootMs === undefined && /vm: kernel .*controllers/.test(output)) bootMs = Date.now() - bootStart;
      tail = (tail + text).slice(-4096);
      process.stdout.write(text);
    };
    qemu.stdout.on('data', onData);
    qemu.stderr.on('data', onData);
    const timer = setTimeout(() => {
      log(`timed out after ${timeoutMs} ms; stopping qemu`);
      qemu.kill('SIGKILL');
    }, timeoutMs);
    const silence = setTimeout(() => {
      if (/vm: initrd started/.test(output)) return;
      log(`no sign of the guest after ${FIRST_OUTPUT_MS} ms with ${accel}; stopping qemu`);
      qemu.kill('SIGKILL');
    }, FIRST_OUTPUT_MS);
    qemu.once('close', (status) => {
      clearTimeout(timer);
      clearTimeout(silence);
      const m = /HULL_VM_EXIT=(\d+)/.exec(tail);
      resolve({ accel, bootMs, code: m ? Number(m[1]) : null, started: /vm: initrd started/.test(output), qemuStatus: status, output });
    });
  });
}

async function main() {
  const vitestArgs = process.argv.slice(2);
  if (process.getuid?.() !== 0) throw new Error('the vm tier needs root (it runs hull inside the guest as root)');
  for (const tool of ['qemu-system-x86_64', 'mke2fs', 'dpkg-deb', 'apt-get', 'ldd']) {
    try {
      run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      throw new Error(`${tool} not found: run scripts/install-deps.sh test`);
    }
  }
  if (!existsSync(path.join(project, 'dist', 'hull-cli.cjs')) || !existsSync(path.join(project, 'build', 'Release', 'hull.node'))) {
    throw new Error('build hull first (npm run build)');
  }
  mkdirSync(cacheRoot, { recursive: true });
  const kernel = ensureKernel();
  const work = path.join(cacheRoot, `run-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  process.once('SIGTERM', () => {
    cleanup();
    process.exit(143);
  });
  try {
    const t0 = Date.now();
    const initrd = makeInitrd(work, kernel);
    const disk = makeRootDisk(work, kernel, vitestArgs);
    log(`kernel ${kernel.version}; initrd and root disk made in ${Date.now() - t0} ms`);
    let result;
    const accels = process.env.HULL_VM_ACCEL ? [process.env.HULL_VM_ACCEL] : kvmUsable() ? ['kvm', 'tcg'] : ['tcg'];
    for (const accel of accels) {
      log(`booting with ${accel}`);
      result = await boot({ vmlinuz: kernel.vmlinuz, initrd, disk, accel });
      if (result.code !== null) break;
      // KVM that cannot run here (a nested host) fails or hangs before the guest prints anything.
      if (accel === 'kvm' && !result.started) {
        log('KVM did not work here; falling back to TCG');
        continue;
      }
      break;
    }
    writeSummary(result.output, result.code);
    const total = ((Date.now() - t0) / 1000).toFixed(1);
    if (result.code === null) {
      log(`the guest ended without a result (qemu status ${result.qemuStatus}); ${total} s in all`);
      return 1;
    }
    log(`vm tests exited ${result.code}; booted with ${result.accel} to the guest's init in ${((result.bootMs ?? 0) / 1000).toFixed(1)} s, ${total} s in all`);
    return result.code;
  } finally {
    cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(err instanceof Error ? err.message : String(err));
    writeSummary('', 1);
    process.exit(1);
  },
);
