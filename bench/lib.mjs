// Helpers shared by the benchmarks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The environment for podman or buildah configured privately under `dir`, never through /etc:
 * containers.conf (no network, cgroupfs, runc, files under `dir`), overlay storage under `dir`,
 * and registries.conf with docker.io blocked plus `insecure` hosts. The files are written now.
 */
export function privateContainersEnv(dir, { insecure = [], containers = [] } = {}) {
  const f = (n) => join(dir, n);
  for (const d of ['tmp', 'net', 'graph', 'run']) mkdirSync(f(d), { recursive: true });
  writeFileSync(
    f('containers.conf'),
    [
      '[containers]',
      'netns="none"',
      'log_driver="k8s-file"',
      'default_ulimits=["nofile=20000:20000","nproc=32768:32768"]',
      ...containers,
      '[engine]',
      'cgroup_manager="cgroupfs"',
      'events_logger="file"',
      `events_logfile_path="${f('events.log')}"`,
      'runtime="runc"',
      `tmp_dir="${f('tmp')}"`,
      '[network]',
      `network_config_dir="${f('net')}"`,
      '',
    ].join('\n'),
  );
  writeFileSync(f('storage.conf'), ['[storage]', 'driver="overlay"', `runroot="${f('run')}"`, `graphroot="${f('graph')}"`, ''].join('\n'));
  writeFileSync(
    f('registries.conf'),
    [
      'unqualified-search-registries=[]',
      ...insecure.flatMap((host) => ['[[registry]]', `location="${host}"`, 'insecure=true']),
      '[[registry]]',
      'location="docker.io"',
      'blocked=true',
      '',
    ].join('\n'),
  );
  return {
    ...process.env,
    CONTAINERS_CONF: f('containers.conf'),
    CONTAINERS_STORAGE_CONF: f('storage.conf'),
    CONTAINERS_REGISTRIES_CONF: f('registries.conf'),
  };
}
