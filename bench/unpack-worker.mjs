// bench/unpack-worker.mjs — one unpack with hull's layer engine (dist/layer/unpack.js), in its own
// process so its peak memory (VmHWM) is its alone:
//
//   node bench/unpack-worker.mjs BLOB DEST [--fsync]
//
// Prints one JSON line: { ms, diffId, size, compression, hwmKiB, cpuMs }.

import { createReadStream, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [blob, dest, ...flags] = process.argv.slice(2);
if (!blob || !dest) {
  console.error('usage: node bench/unpack-worker.mjs BLOB DEST [--fsync]');
  process.exit(2);
}
const { unpackLayer } = await import(pathToFileURL(join(repo, 'dist/layer/unpack.js')).href);
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const r = await unpackLayer(createReadStream(blob, { highWaterMark: 256 * 1024 }), dest, { fsync: flags.includes('--fsync') });
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(cpu0);
const hwmKiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
console.log(JSON.stringify({ ms, diffId: r.diffId, size: r.size, compression: r.compression, hwmKiB, cpuMs: (cpu.user + cpu.system) / 1000 }));
