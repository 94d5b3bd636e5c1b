import { describe, expect, it } from 'vitest';
import { parseKubeYaml } from '../../../src/kube/objects.js';
import { planPlay } from '../../../src/kube/plan.js';
import { parseCpuQuantity, parseMemoryQuantity, parseQuantity } from '../../../src/kube/quantity.js';
import { expandReferences } from '../../../src/kube/container-options.js';
import { UsageError } from '../../../src/errors.js';

function plan(yaml: string) {
  const { objects, warnings } = parseKubeYaml(yaml, 'app.yaml');
  return planPlay(objects, warnings);
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

const APP = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hello
  index.html: "<h1>hi</h1>"
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  password: c2VjcmV0
stringData:
  user: admin
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
  annotations:
    note: kept
spec:
  restartPolicy: OnFailure
  securityContext:
    runAsUser: 1000
  initContainers:
    - name: prepare
      image: busybox
      command: [sh, -c, "echo ready > /work/ready"]
      volumeMounts:
        - name: scratch
          mountPath: /work
  containers:
    - name: server
      image: busybox
      command: [httpd, -f]
      args: [-p, "8080"]
      workingDir: /www
      env:
        - name: GREETING
          valueFrom:
            configMapKeyRef: { name: settings, key: greeting }
        - name: PASSWORD
          valueFrom:
            secretKeyRef: { name: creds, key: password }
        - name: MESSAGE
          value: "$(GREETING) world $$(x)"
      envFrom:
        - configMapRef: { name: settings }
          prefix: CFG_
      ports:
        - containerPort: 8080
          hostPort: 18080
          name: http
        - containerPort: 9000
          protocol: UDP
      resources:
        limits: { cpu: 500m, memory: 64Mi }
        requests: { cpu: "0.25", memory: 32Mi }
      securityContext:
        runAsGroup: 2000
        capabilities: { add: [NET_ADMIN], drop: [MKNOD] }
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
      livenessProbe:
        httpGet: { path: /healthz, port: http }
        periodSeconds: 5
        initialDelaySeconds: 2
      volumeMounts:
        - name: site
          mountPath: /www
          readOnly: true
        - name: scratch
          mountPath: /work
        - name: store
          mountPath: /data
    - name: sidecar
      image: busybox
      args: [sleep, "1000"]
      livenessProbe:
        tcpSocket: { port: 8080 }
      volumeMounts:
        - name: scratch
          mountPath: /shared
        - name: secret
          mountPath: /secret
  volumes:
    - name: site
      configMap:
        name: settings
        items:
          - key: index.html
            path: index.html
    - name: secret
      secret:
        secretName: creds
        defaultMode: 0400
    - name: scratch
      emptyDir: {}
    - name: store
      persistentVolumeClaim:
        claimName: data
`;

describe('kube play plan', () => {
  it('maps a Pod with ConfigMap, Secret, PVC, init container and probes onto typed options', () => {
    const p = plan(APP);
    expect(p.warnings).toEqual([]);
    expect(p.volumes).toEqual(['data']);
    expect(p.pods).toHaveLength(1);
    const pod = p.pods[0]!;
    expect(pod.name).toBe('web');
    expect(pod.labels).toEqual({ app: 'web' });
    expect(pod.annotations).toEqual({ note: 'kept' });
    expect(pod.hostname).toBe('web');
    expect(pod.ports).toEqual([{ proto: 'tcp', hostIp: '', hostPort: 18080, containerPort: 8080 }]);
    expect(pod.initContainers.map((c) => c.name)).toEqual(['web-prepare']);
    expect(pod.containers.map((c) => c.name)).toEqual(['web-server', 'web-sidecar']);
    const init = pod.initContainers[0]!;
    expect(init.options.restartPolicy).toEqual({ name: 'no', maximumRetryCount: 0 });
    expect(init.options.entrypoint).toEqual(['sh', '-c', 'echo ready > /work/ready']);
    expect(init.options.user).toBe('1000');
    const server = pod.containers[0]!;
    expect(server.options).toMatchObject({
      image: 'busybox',
      name: 'web-server',
      entrypoint: ['httpd', '-f'],
      cmd: ['-p', '8080'],
      workdir: '/www',
      user: '1000:2000',
      capAdd: ['NET_ADMIN'],
      capDrop: ['MKNOD'],
      readOnly: true,
      noNewPrivileges: true,
      restartPolicy: { name: 'on-failure', maximumRetryCount: 0 },
      exposed: [{ port: 9000, proto: 'udp' }],
      resources: { memory: { limit: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024 }, cpu: { quota: 50_000, period: 100_000, shares: 256 } },
    });
    expect(server.options.env).toEqual(['CFG_greeting=hello', 'CFG_index.html=<h1>hi</h1>', 'GREETING=hello', 'PASSWORD=secret', 'MESSAGE=hello world $(x)']);
    expect(server.options.healthcheck).toEqual({
      Test: ['CMD-SHELL', `curl -fs 'http://localhost:8080/healthz' >/dev/null || wget -q -O /dev/null 'http://localhost:8080/healthz'`],
      Interval: 5e9,
      Timeout: 1e9,
      Retries: 3,
      StartPeriod: 2e9,
    });
    expect(server.mounts).toEqual([
      { volume: 'site', target: '/www', readonly: true },
      { volume: 'scratch', target: '/work', readonly: false },
      { volume: 'store', target: '/data', readonly: false },
    ]);
    expect(pod.containers[1]!.options.cmd).toEqual(['sleep', '1000']);
    expect(pod.containers[1]!.options.entrypoint).toBeUndefined();
    expect(pod.containers[1]!.options.healthcheck?.Test).toEqual(['CMD-SHELL', `nc -z 'localhost' 8080`]);
    const volumes = Object.fromEntries(pod.volumes.map((v) => [v.name, v.source]));
    expect(volumes.site).toEqual({
      type: 'files',
      of: 'configMap',
      name: 'settings',
      files: [{ path: 'index.html', data: Buffer.from('<h1>hi</h1>'), mode: 0o644 }],
    });
    expect(volumes.secret).toEqual({
      type: 'files',
      of: 'secret',
      name: 'creds',
      files: [
        { path: 'password', data: Buffer.from('secret'), mode: 0o400 },
        { path: 'user', data: Buffer.from('admin'), mode: 0o400 },
      ],
    });
    expect(volumes.scratch).toEqual({ type: 'emptyDir' });
    expect(volumes.store).toEqual({ type: 'volume', volume: 'data', readOnly: false });
  });

  it("makes a Deployment's replicas pods named as Podman names them, with the template's labels", () => {
    const p = plan(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: main
          image: busybox
`);
    expect(p.pods.map((x) => x.name)).toEqual(['api-pod-0', 'api-pod-1']);
    expect(p.pods.map((x) => x.containers[0]!.name)).toEqual(['api-pod-0-main', 'api-pod-1-main']);
    expect(p.pods[1]!.labels).toEqual({ app: 'api' });
    expect(p.pods[0]!.from).toEqual({ kind: 'Deployment', name: 'api' });
    expect(p.pods[0]!.containers[0]!.options.restartPolicy?.name).toBe('always');
  });

  it('warns once for each field it does not apply, naming it', () => {
    const p = plan(`
apiVersion: v1
kind: Pod
metadata: { name: w, namespace: default, finalizers: [x] }
spec:
  nodeName: here
  shareProcessNamespace: true
  containers:
    - name: c
      image: busybox
      readinessProbe: { exec: { command: [true] } }
      env:
        - name: NODE
          valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
      securityContext: { seLinuxOptions: { level: s0 } }
`);
    expect(p.warnings).toEqual([
      'Pod "w" (app.yaml:2): metadata.finalizers is not supported by hull, ignored',
      'Pod "w" (app.yaml:2): spec.containers[0].env[0].valueFrom.fieldRef is not supported by hull, ignored',
      'Pod "w" (app.yaml:2): spec.containers[0].securityContext.seLinuxOptions is not supported by hull, ignored',
      'Pod "w" (app.yaml:2): spec.containers[0].readinessProbe is not supported by hull, ignored',
      'Pod "w" (app.yaml:2): spec.shareProcessNamespace is not supported by hull, ignored',
    ]);
  });

  it('refuses bad YAML with its line, an unknown kind, duplicate names and a missing image', () => {
    expect(failure(() => plan('apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n'))).toMatch(/^app\.yaml:5:1: invalid YAML: /);
    expect(failure(() => plan('a: 1\n---\nkind: Pod\nkind: Pod\n'))).toMatch(/^app\.yaml:4:1: invalid YAML: Map keys must be unique/);
    expect(failure(() => plan('apiVersion: v1\nkind: Service\nmetadata: { name: s }\n'))).toBe(
      'app.yaml:1: kind "Service" is not supported by hull kube play (Pod, Deployment, ConfigMap, Secret, PersistentVolumeClaim)',
    );
    const pod = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name} }\nspec:\n  containers: [{ name: c, image: busybox }]\n`;
    expect(failure(() => plan(`${pod('a')}---\n${pod('a')}`))).toBe('app.yaml:7: Pod "a" is defined twice (first as Pod at app.yaml:1)');
    const dep = `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers: [{ name: c, image: busybox }]\n`;
    expect(failure(() => plan(`${dep}---\n${pod('x-pod-0')}`))).toBe('pod "x-pod-0" of Pod "x-pod-0" is defined twice (also by Deployment "x")');
    expect(failure(() => plan('apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers: [{ name: c }]\n'))).toBe(
      'Pod "p" (app.yaml:1): container "c" has no image',
    );
    expect(failure(() => plan('apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers: [{ name: c, image: i }, { name: c, image: i }]\n'))).toBe(
      'pod "p": container "c" is defined twice',
    );
    expect(failure(() => plan('kind: Pod\nmetadata: { name: p }\nspec: {}\n'))).toBe('Pod "p" (app.yaml:1): apiVersion is required');
    expect(failure(() => plan('apiVersion: v1\nkind: Pod\nmetadata: { name: Bad_Name }\nspec: {}\n'))).toMatch(/metadata\.name "Bad_Name" is not a valid name/);
  });

  it('refuses references to what the YAML does not define, and a hostPort given twice', () => {
    const base = (container: string, volumes = '') =>
      `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers:\n    - name: c\n      image: busybox\n${container}${volumes}`;
    expect(failure(() => plan(base('      envFrom: [{ configMapRef: { name: nope } }]\n')))).toBe(
      'pod "p": container "c": envFrom needs ConfigMap "nope", which the YAML does not define',
    );
    expect(plan(base('      envFrom: [{ configMapRef: { name: nope, optional: true } }]\n')).pods[0]!.containers[0]!.options.env).toBeUndefined();
    expect(failure(() => plan(base('      volumeMounts: [{ name: v, mountPath: /v }]\n')))).toBe(
      'pod "p": container "c" mounts volume "v", which the pod does not define',
    );
    expect(failure(() => plan(base('', '  volumes: [{ name: v, configMap: { name: nope } }]\n')))).toBe(
      'pod "p": volume "v" needs ConfigMap "nope", which the YAML does not define',
    );
    expect(failure(() => plan(base('      ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81, hostPort: 8080 }]\n')))).toBe(
      'pod "p": hostPort 0.0.0.0:8080/tcp is given twice',
    );
    expect(failure(() => plan(base('      livenessProbe: { httpGet: { port: web } }\n')))).toBe(
      'pod "p": container "c": livenessProbe names port "web", which the container does not declare',
    );
    expect(failure(() => plan(base('      ports: [{ containerPort: "80" }]\n')))).toMatch(
      /spec\.containers\[0\]\.ports\[0\]\.containerPort must be an integer >= 1$/,
    );
  });

  it('warns about a claim the YAML does not define and uses the volume of that name', () => {
    const p = plan(
      'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers: [{ name: c, image: i }]\n  volumes: [{ name: v, persistentVolumeClaim: { claimName: shared } }]\n',
    );
    expect(p.volumes).toEqual(['shared']);
    expect(p.warnings).toEqual(['pod "p": PersistentVolumeClaim "shared" is not in the YAML: the volume of that name is used (and made if missing)']);
  });
});

describe('kube quantities and references', () => {
  it('reads Kubernetes quantities', () => {
    expect(parseQuantity('500m', 'x')).toBe(0.5);
    expect(parseQuantity('1e3', 'x')).toBe(1000);
    expect(parseMemoryQuantity('128Mi', 'x')).toBe(128 * 2 ** 20);
    expect(parseMemoryQuantity('1G', 'x')).toBe(1e9);
    expect(parseMemoryQuantity(1024, 'x')).toBe(1024);
    expect(parseCpuQuantity('2', 'x')).toEqual({ quota: 200_000, period: 100_000 });
    expect(parseCpuQuantity('1m', 'x')).toEqual({ quota: 1000, period: 100_000 });
    expect(() => parseQuantity('12 apples', 'limits.memory')).toThrow('limits.memory: invalid quantity "12 apples"');
  });

  it('expands $(VAR) as Kubernetes does', () => {
    const env = new Map([['A', 'x']]);
    expect(expandReferences('$(A)-$(B)-$$(A)-$', env)).toBe('x-$(B)-$(A)-$');
  });
});
