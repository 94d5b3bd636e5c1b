// `hull kube play|down|generate` end to end, as root, through the CLI: a Pod of a web server and a
// sidecar that reaches it on localhost, an init container that finishes first, a ConfigMap as files
// and as env, an emptyDir shared by two containers, a PVC as a named volume, a hostPort reached from
// the host over HTTP, a Deployment's two replicas; `kube down` leaves nothing; `kube generate` played
// again after `kube down` gives the same pod. Bad YAML, an unknown kind, duplicate names and a
// hostPort in use fail clearly and leave nothing. Traffic stays on loopback and the env's bridge.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { eventually, freePort, hasNetTools, httpGet, NET_TOOLS_SKIP } from '../helpers/net-checks.js';

const why = skipReason || (hasNetTools ? '' : NET_TOOLS_SKIP);

const appYaml = (hostPort: number) => `
apiVersion: v1
kind: ConfigMap
metadata:
  name: site
data:
  index.html: hello from kube
  GREETING: hi there
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: kube-data
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 1Gi } }
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: init
      image: busybox
      command: [sh, -c, "sleep 0.3; echo init-done > /shared/init.txt"]
      volumeMounts: [{ name: shared, mountPath: /shared }]
  containers:
    - name: server
      image: busybox
      command: [sh, -c, "cat /shared/init.txt > /shared/seen-by-server 2>&1; exec httpd -f -p 8080 -h /www"]
      envFrom: [{ configMapRef: { name: site } }]
      env:
        - name: WHO
          valueFrom: { configMapKeyRef: { name: site, key: GREETING } }
      ports: [{ containerPort: 8080, hostPort: ${hostPort} }]
      volumeMounts:
        - { name: www, mountPath: /www }
        - { name: shared, mountPath: /shared }
    - name: sidecar
      image: busybox
      command: [sh, -c, "while :; do wget -q -O /shared/fetched.html http://localhost:8080/ && sleep 5 || sleep 0.2; done"]
      volumeMounts:
        - { name: shared, mountPath: /shared }
        - { name: data, mountPath: /data }
  volumes:
    - name: www
      configMap: { name: site, items: [{ key: index.html, path: index.html }] }
    - name: shared
      emptyDir: {}
    - name: data
      persistentVolumeClaim: { claimName: kube-data }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox
          command: [sleep, "3600"]
`;

describe.skipIf(!canRunContainers || !hasNetTools)(`kube play (integration${why})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  }, 60_000);

  afterAll(() => {
    env.removePods();
    env.destroy();
  });

  const file = (name: string, text: string) => {
    const f = path.join(env.base, name);
    writeFileSync(f, text);
    return f;
  };
  const ok = (args: string[]) => env.ok(args).trim();
  const podNames = () => (JSON.parse(env.cli(['pod', 'ps', '--format', 'json']).stdout || '[]') as { Name: string }[]).map((p) => p.Name).sort();
  const volumes = () => env.cli(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean);
  /** The pods' directories (a played pod's files and emptyDirs are in its own). */
  const podDirs = () => {
    try {
      return readdirSync(path.join(env.root, 'pods'));
    } catch {
      return [];
    }
  };
  /** Nothing of a play on the host or in the store (the env's own bridge and nft table are its infrastructure). */
  const expectNothingLeft = () => {
    expect(podNames()).toEqual([]);
    expect(env.cli(['ps', '-aq']).stdout).toBe('');
    expect(podDirs()).toEqual([]);
    expect(env.leftovers().filter((l) => !l.startsWith('name: '))).toEqual([]);
  };

  it('plays a Pod (web + sidecar on localhost, init first, ConfigMap files and env, emptyDir, PVC, hostPort) and a Deployment; down leaves nothing', async () => {
    const port = await freePort();
    const yaml = file('app.yaml', appYaml(port));
    const out = ok(['kube', 'play', yaml]);
    expect(out).toMatch(/^Volumes:\nkube-data\n/);
    expect(podNames()).toEqual(['api-pod-0', 'api-pod-1', 'web']);
    // The hostPort from the host, over HTTP; the ConfigMap key as the served file.
    expect((await eventually(() => httpGet(port))).trim()).toBe('hello from kube');
    // The sidecar reached the server on localhost (one network namespace) and left what it fetched in the shared emptyDir.
    await eventually(async () => expect(ok(['exec', 'web-server', 'cat', '/shared/fetched.html'])).toBe('hello from kube'));
    // The init container had finished before the server started.
    expect(ok(['exec', 'web-server', 'cat', '/shared/seen-by-server'])).toBe('init-done');
    expect(env.cli(['inspect', 'web-init']).code).not.toBe(0); // gone once it succeeded
    // The ConfigMap as env: envFrom and a configMapKeyRef.
    expect(ok(['exec', 'web-server', 'sh', '-c', 'echo "$GREETING|$WHO"'])).toBe('hi there|hi there');
    // The projected files are read-only; the emptyDir is not.
    expect(env.cli(['exec', 'web-server', 'sh', '-c', 'echo x > /www/index.html']).code).not.toBe(0);
    // The PVC is the named volume.
    ok(['exec', 'web-sidecar', 'sh', '-c', 'echo kept > /data/f']);
    expect(volumes()).toContain('kube-data');
    // The Deployment's replicas run.
    for (const p of ['api-pod-0', 'api-pod-1'])
      expect((JSON.parse(ok(['inspect', `${p}-main`])) as { State: { Status: string } }[])[0]!.State.Status).toBe('running');
    // One network namespace for the pod's containers.
    const netns = (c: string) => ok(['exec', c, 'readlink', '/proc/self/ns/net']);
    expect(netns('web-server')).toBe(netns('web-sidecar'));
    expect(netns('web-server')).not.toBe(netns('api-pod-0-main'));

    // The hostPort's rules are in the env's nft table while the pod runs.
    const nftRules = () => spawnSync('nft', ['list', 'table', 'ip', env.net.nftTable], { encoding: 'utf8' }).stdout;
    expect(nftRules()).toMatch(new RegExp(`tcp \\. ${port} :`));

    // down keeps the volume (Podman's kube down), --force takes it too.
    expect(ok(['kube', 'down', yaml])).toMatch(/^Pods stopped:\n/);
    expect(volumes()).toContain('kube-data');
    expectNothingLeft();
    expect(nftRules()).not.toMatch(new RegExp(`tcp \\. ${port} :`));
    ok(['kube', 'play', yaml]);
    // `pod rm` of a played pod takes its ConfigMap files and emptyDir with it; down then says it is gone.
    expect(podDirs()).toHaveLength(3);
    ok(['pod', 'rm', '-f', 'web']);
    expect(podDirs()).toHaveLength(2);
    const down = env.cli(['kube', 'play', '--down', '--force', yaml]);
    expect(down.code).toBe(0);
    expect(down.stderr).toMatch(/pod "web" does not exist/);
    expect(down.stdout).toContain('Volumes removed:\nkube-data');
    expect(volumes()).toEqual([]);
    expectNothingLeft();
  }, 120_000);

  it('kube generate of a running pod, played again after kube down, gives the same pod', async () => {
    const port = await freePort();
    const yaml = file('gen.yaml', appYaml(port));
    ok(['kube', 'play', yaml]);
    await eventually(() => httpGet(port));
    // A second play of the same pods is refused and changes nothing; --replace replaces them.
    const firstId = ok(['pod', 'inspect', 'web', '--format', '{{.Id}}']);
    const again1 = env.cli(['kube', 'play', yaml]);
    expect(again1.code).toBe(125);
    expect(again1.stderr).toBe('hull: pod "web" already exists (use --replace to replace it)\n');
    expect(ok(['pod', 'inspect', 'web', '--format', '{{.Id}}'])).toBe(firstId);
    ok(['kube', 'play', '--replace', yaml]);
    expect(ok(['pod', 'inspect', 'web', '--format', '{{.Id}}'])).not.toBe(firstId);
    expect(podNames()).toEqual(['api-pod-0', 'api-pod-1', 'web']);
    await eventually(() => httpGet(port));
    const generated = ok(['kube', 'generate', 'web']);
    expect(generated).toContain('kind: Pod');
    const again = file('generated.yaml', `${generated}\n`);
    ok(['kube', 'down', '--force', yaml]);
    expectNothingLeft();
    ok(['kube', 'play', again]);
    expect(podNames()).toEqual(['web']);
    expect((await eventually(() => httpGet(port))).trim()).toBe('hello from kube');
    expect(ok(['exec', 'web-server', 'sh', '-c', 'echo "$GREETING|$WHO"'])).toBe('hi there|hi there');
    await eventually(async () => expect(ok(['exec', 'web-server', 'cat', '/shared/fetched.html'])).toBe('hello from kube'));
    // The same pod: its YAML is the same YAML.
    expect(ok(['kube', 'generate', 'web'])).toBe(generated);
    ok(['kube', 'down', '--force', again]);
    expect(volumes()).toEqual([]);
    expectNothingLeft();
  }, 120_000);

  it('reads stdin for -, and warns once for each field it does not apply', () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata: { name: lone }
spec:
  terminationGracePeriodSeconds: 1
  shareProcessNamespace: true
  containers:
    - name: c
      image: busybox
      command: [sleep, "3600"]
      readinessProbe: { exec: { command: ["true"] } }
`;
    const r = env.cli(['kube', 'play', '-'], { input: yaml });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'WARNING: Pod "lone" (-:1): spec.containers[0].readinessProbe is not supported by hull, ignored\n' +
        'WARNING: Pod "lone" (-:1): spec.shareProcessNamespace is not supported by hull, ignored\n',
    );
    expect(podNames()).toEqual(['lone']);
    expect(env.cli(['kube', 'down', '-'], { input: yaml }).code).toBe(0);
    expectNothingLeft();
  }, 60_000);

  it('refuses bad YAML, an unknown kind, duplicate names and a hostPort in use, leaving nothing', async () => {
    const refused = (text: string, message: string | RegExp) => {
      const r = env.cli(['kube', 'play', file('bad.yaml', text)]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expectNothingLeft();
      expect(volumes()).toEqual([]);
    };
    const port = await freePort();
    const good = appYaml(port);
    refused(`${good}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken\n`, /^hull: .*bad\.yaml:\d+:\d+: invalid YAML: /);
    refused(`${good}---\napiVersion: v1\nkind: Service\nmetadata: { name: s }\n`, /kind "Service" is not supported by hull kube play/);
    refused(
      `${good}---\napiVersion: v1\nkind: Pod\nmetadata: { name: web }\nspec:\n  containers: [{ name: c, image: busybox }]\n`,
      /Pod "web" is defined twice/,
    );
    // A port a host program listens on is refused before anything is made.
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(port, '0.0.0.0', resolve));
    try {
      refused(good, new RegExp(`hostPort ${port}/tcp on 0.0.0.0 is already in use on the host`));
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
    // A port another pod publishes: the publish fails late, and the play is rolled back whole (volume included).
    const other = file(
      'other.yaml',
      `apiVersion: v1\nkind: Pod\nmetadata: { name: holder }\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: c\n      image: busybox\n      command: [sleep, "3600"]\n      ports: [{ containerPort: 80, hostPort: ${port} }]\n`,
    );
    ok(['kube', 'play', other]);
    const r = env.cli(['kube', 'play', file('bad.yaml', good)]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^hull: /);
    expect(podNames()).toEqual(['holder']);
    expect(volumes()).toEqual([]);
    ok(['kube', 'down', other]);
    expectNothingLeft();
  }, 120_000);

  it('rolls back a pod without init containers whose infra start or a container create fails while the other goes on', async () => {
    // Without init containers the infra container starts while the app containers are made (play.ts): either side failing
    // is awaited with the other before the rollback, which leaves nothing.
    const port = await freePort();
    const pod = (name: string, containers: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name} }\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n${containers}`;
    const sleeper = (name: string, extra = '') => `    - name: ${name}\n      image: busybox\n      command: [sleep, "3600"]\n${extra}`;
    const holder = file('holder.yaml', pod('holder', sleeper('c', `      ports: [{ containerPort: 80, hostPort: ${port} }]\n`)));
    ok(['kube', 'play', holder]);
    // The infra's publish fails (another pod holds the port) while three containers are made.
    const clash = pod('clash', [sleeper('a', `      ports: [{ containerPort: 81, hostPort: ${port} }]\n`), sleeper('b'), sleeper('c')].join(''));
    let r = env.cli(['kube', 'play', file('clash.yaml', clash)]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^hull: /);
    expect(podNames()).toEqual(['holder']);
    ok(['kube', 'down', holder]);
    expectNothingLeft();
    // A container's create fails (its image is missing and may not be pulled) while the infra starts.
    const missing = pod(
      'missing',
      [sleeper('a'), '    - name: b\n      image: localhost/hull-no-such-image:1\n      imagePullPolicy: Never\n', sleeper('c')].join(''),
    );
    r = env.cli(['kube', 'play', file('missing.yaml', missing)]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/hull-no-such-image/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expectNothingLeft();
  }, 120_000);
});
