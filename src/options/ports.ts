/** `-p [IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/tcp|udp]` and `--expose PORT[-END][/tcp|udp]` → typed ports. */
import { UsageError } from '../errors.js';
import { parseIp } from '../network/ipv4.js';
import type { ExposedPort, PortProtocol, PortSpec } from '../network/ports.js';

function port(text: string, what: string, allowZero = false): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535 || (n === 0 && !allowZero)) throw new UsageError(`invalid ${what} port: ${text}`);
  return n;
}

function range(text: string, what: string): [number, number] {
  const [a, b] = text.split('-');
  const start = port(a ?? '', what);
  const end = b === undefined ? start : port(b, what);
  if (end < start) throw new UsageError(`invalid ${what} port range: ${text}`);
  return [start, end];
}

/** `tcp` (also when absent) or `udp`. */
export function parseProto(text: string | undefined): PortProtocol {
  if (text === undefined || text === 'tcp') return 'tcp';
  if (text === 'udp') return 'udp';
  throw new UsageError(`invalid protocol: ${text} (tcp or udp)`);
}

/** One `-p` value: one PortSpec per port of its range. */
export function parsePublish(spec: string): PortSpec[] {
  const [addr, protoText, extra] = spec.split('/');
  if (extra !== undefined || addr === undefined || addr === '') throw new UsageError(`invalid publish spec: ${spec}`);
  const proto = parseProto(protoText);
  const parts = addr.split(':');
  if (parts.length > 3) throw new UsageError(`invalid publish spec: ${spec} (IPv6 addresses are not supported)`);
  const containerText = parts[parts.length - 1]!;
  const hostText = parts.length >= 2 ? parts[parts.length - 2]! : '';
  let hostIp = parts.length === 3 ? parts[0]! : '';
  if (hostIp === '0.0.0.0') hostIp = '';
  if (hostIp !== '') parseIp(hostIp);
  const [cStart, cEnd] = range(containerText, 'container');
  if (hostText === '') {
    const out: PortSpec[] = [];
    for (let p = cStart; p <= cEnd; p++) out.push({ proto, hostIp, hostPort: 0, containerPort: p });
    return out;
  }
  const [hStart, hEnd] = range(hostText, 'host');
  if (hEnd - hStart !== cEnd - cStart) throw new UsageError(`invalid publish spec: ${spec}: the host and container port ranges differ in size`);
  const out: PortSpec[] = [];
  for (let i = 0; i <= cEnd - cStart; i++) out.push({ proto, hostIp, hostPort: hStart + i, containerPort: cStart + i });
  return out;
}

/** One `--expose` value (or an ExposedPorts key): `80`, `80/udp`, `8000-8002/tcp`. */
export function parseExpose(spec: string): ExposedPort[] {
  const [portText, protoText] = spec.split('/');
  const proto = parseProto(protoText);
  const [start, end] = range(portText ?? '', 'exposed');
  const out: ExposedPort[] = [];
  for (let p = start; p <= end; p++) out.push({ port: p, proto });
  return out;
}
