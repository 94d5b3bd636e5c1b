/**
 * A container's ports, typed: published (`-p`, Docker's PortBindings) and exposed (`--expose`,
 * ExposedPorts). Docker's flag syntax is parsed at the edge (src/options/ports.ts); the record
 * keeps exposed ports as Docker's "80/tcp" keys, the form images and inspect use.
 */
import { UsageError } from '../errors.js';

export type PortProtocol = 'tcp' | 'udp';

/** One published port: a container port on a host port (0: an ephemeral one chosen at start). */
export interface PortSpec {
  proto: PortProtocol;
  /** '' for every host address; else an IPv4 address of the host. */
  hostIp: string;
  /** 0: an ephemeral host port chosen at start. */
  hostPort: number;
  containerPort: number;
}

/** One exposed port (`--expose 80/udp`: documentation, and what `-P` publishes). */
export interface ExposedPort {
  port: number;
  proto: PortProtocol;
}

/** Docker's key of a port: "80/tcp". */
export function portKey(p: ExposedPort): string {
  return `${p.port}/${p.proto}`;
}

/** `-P`: every exposed port (the record's "80/tcp" keys) on an ephemeral host port, on every host address. */
export function publishAllSpecs(exposed: readonly string[]): PortSpec[] {
  return exposed.map((key) => {
    const [p = '', proto = 'tcp'] = key.split('/');
    const containerPort = Number(p);
    if (!/^\d+$/.test(p) || containerPort < 1 || containerPort > 65535 || (proto !== 'tcp' && proto !== 'udp'))
      throw new UsageError(`invalid exposed port: ${key}`);
    return { proto, hostIp: '', hostPort: 0, containerPort };
  });
}
