import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePodYaml, type GenerateContainer } from '../../../src/kube/generate.js';
import { parseKubeYaml } from '../../../src/kube/objects.js';
import { planPlay } from '../../../src/kube/plan.js';
import { DEFAULT_CAPABILITIES } from '../../../src/runtime/capabilities.js';
import type { ContainerRecord } from '../../../src/runtime/container-store.js';
import type { RuntimeSpec } from '../../../src/runtime/spec.js';

function container(
  over: Partial<ContainerRecord>,
  spec: { env?: string[]; cwd?: string; uid?: number; caps?: string[]; readonly?: boolean; resources?: RuntimeSpec['linux']['resources'] },
): GenerateContainer {
  const record = {
    id: 'c'.repeat(64),
    name: 'web-server',
    image: 'busybox',
    imageId: 'i'.repeat(64),
    created: '2026-01-01T00:00:00Z',
    command: [],
    autoRemove: false,
    cgroupParent: 'hull',
    ...over,
  } as ContainerRecord;
  const runtimeSpec = {
    ociVersion: '1.2.0',
    process: {
      user: { uid: spec.uid ?? 0, gid: 0 },
      args: [],
      env: spec.env ?? ['PATH=/bin'],
      cwd: spec.cwd ?? '/',
      capabilities: { bounding: spec.caps ?? [...DEFAULT_CAPABILITIES] },
      noNewPrivileges: false,
    },
    root: { path: 'rootfs', readonly: spec.readonly ?? false },
    mounts: [],
    linux: { resources: spec.resources, seccomp: {} },
  } as unknown as RuntimeSpec;
  return { record, spec: runtimeSpec, image: { env: ['PATH=/bin'], entrypoint: [], cmd: ['sh'], workdir: '' } };
}

describe('kube generate', () => {
  it("writes a pod's containers back as the YAML kube play reads, and that YAML plans to the same options", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kube-gen-'));
    try {
      const volumes = path.join(dir, 'volumes');
      mkdirSync(path.join(volumes, 'site'), { recursive: true });
      mkdirSync(path.join(volumes, 'scratch'), { recursive: true });
      writeFileSync(path.join(volumes, 'site', 'index.html'), 'hi');
      const server = container(
        {
          entrypoint: ['httpd', '-f'],
          cmd: ['-p', '8080'],
          restartPolicy: { name: 'on-failure', maximumRetryCount: 0 },
          stopTimeout: 3,
          healthcheck: { Test: ['CMD-SHELL', 'wget -q -O - localhost:8080'], Interval: 5e9, Timeout: 1e9, Retries: 3 },
          mounts: [
            { Type: 'bind', Source: path.join(volumes, 'site'), Destination: '/www', Mode: 'ro', RW: false, Propagation: 'rprivate' },
            { Type: 'bind', Source: path.join(volumes, 'scratch'), Destination: '/shared', Mode: '', RW: true, Propagation: 'rprivate' },
            { Type: 'volume', Name: 'data', Source: '/var/lib/hull/volumes/data/_data', Destination: '/data', Mode: '', RW: true, Propagation: '' },
          ],
          annotations: { note: 'kept' },
        },
        {
          env: ['PATH=/bin', 'HOSTNAME=web', 'GREETING=hello'],
          cwd: '/www',
          uid: 1000,
          caps: [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD'), 'CAP_NET_ADMIN'],
          readonly: true,
          resources: { memory: { limit: 64 * 2 ** 20 }, cpu: { quota: 50_000, period: 100_000 } },
        },
      );
      const sidecar = container({ name: 'web-sidecar', cmd: ['sleep', '1000'], stopTimeout: 3 }, {});
      const { yaml, warnings } = await generatePodYaml({
        name: 'web',
        hostname: 'web',
        labels: { app: 'web' },
        ports: [{ proto: 'tcp', hostIp: '', hostPort: 18080, containerPort: 8080 }],
        extraHosts: [],
        hostNetwork: false,
        containers: [server, sidecar],
        kubeVolumes: volumes,
      });
      expect(warnings).toEqual([]);
      const parsed = parseKubeYaml(yaml, 'generated.yaml');
      expect(parsed.warnings).toEqual([]);
      expect(parsed.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ConfigMap/web-site', 'PersistentVolumeClaim/data', 'Pod/web']);
      const plan = planPlay(parsed.objects);
      const pod = plan.pods[0]!;
      expect(pod.labels).toEqual({ app: 'web' });
      expect(pod.annotations).toEqual({ note: 'kept' });
      expect(pod.ports).toEqual([{ proto: 'tcp', hostIp: '', hostPort: 18080, containerPort: 8080 }]);
      expect(plan.volumes).toEqual(['data']);
      expect(pod.containers[0]!.options).toMatchObject({
        name: 'web-server',
        entrypoint: ['httpd', '-f'],
        cmd: ['-p', '8080'],
        env: ['GREETING=hello'],
        workdir: '/www',
        user: '1000',
        capAdd: ['NET_ADMIN'],
        capDrop: ['MKNOD'],
        readOnly: true,
        restartPolicy: { name: 'on-failure', maximumRetryCount: 0 },
        stopTimeout: 3,
        resources: { memory: { limit: 64 * 2 ** 20 }, cpu: { quota: 50_000, period: 100_000 } },
        healthcheck: { Test: ['CMD', '/bin/sh', '-c', 'wget -q -O - localhost:8080'], Interval: 5e9, Timeout: 1e9, Retries: 3 },
      });
      expect(pod.containers[1]!.options.cmd).toEqual(['sleep', '1000']);
      expect(pod.containers[1]!.options.entrypoint).toBeUndefined();
      const sources = Object.fromEntries(pod.volumes.map((v) => [v.name, v.source]));
      expect(sources.site).toEqual({ type: 'files', of: 'configMap', name: 'web-site', files: [{ path: 'index.html', data: Buffer.from('hi'), mode: 0o644 }] });
      expect(sources.scratch).toEqual({ type: 'emptyDir' });
      expect(sources.data).toEqual({ type: 'volume', volume: 'data', readOnly: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
