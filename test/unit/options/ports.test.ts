// -p and --expose (src/options/ports.ts): Docker's syntax → typed PortSpec / ExposedPort.
import { describe, expect, it } from 'vitest';
import { parseExpose, parseProto, parsePublish } from '../../../src/options/ports.js';
import { refused } from './refused.js';

describe('-p [IP:][HOST[-END]:]CONTAINER[-END][/PROTO]', () => {
  it("parses Docker's publish forms", () => {
    expect(parsePublish('127.0.0.1:8080:80')).toEqual([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 }]);
    expect(parsePublish('8080:80/udp')).toEqual([{ proto: 'udp', hostIp: '', hostPort: 8080, containerPort: 80 }]);
    expect(parsePublish('80')).toEqual([{ proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 80 }]);
    expect(parsePublish('127.0.0.1::80')).toEqual([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 0, containerPort: 80 }]);
    expect(parsePublish('0.0.0.0:9000-9001:5000-5001')).toEqual([
      { proto: 'tcp', hostIp: '', hostPort: 9000, containerPort: 5000 },
      { proto: 'tcp', hostIp: '', hostPort: 9001, containerPort: 5001 },
    ]);
    expect(parsePublish('7000-7001')).toEqual([
      { proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 7000 },
      { proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 7001 },
    ]);
  });

  it('takes the edge values 1 and 65535', () => {
    expect(parsePublish('65535:1')).toEqual([{ proto: 'tcp', hostIp: '', hostPort: 65535, containerPort: 1 }]);
    expect(parsePublish('1:65535/udp')).toEqual([{ proto: 'udp', hostIp: '', hostPort: 1, containerPort: 65535 }]);
  });

  it('refuses malformed specs with a message naming the bad part', () => {
    expect(refused(() => parsePublish(''))).toBe('invalid publish spec: ');
    expect(refused(() => parsePublish('70000:80'))).toBe('invalid host port: 70000');
    expect(refused(() => parsePublish('80:0'))).toBe('invalid container port: 0');
    expect(refused(() => parsePublish('80:65536'))).toBe('invalid container port: 65536');
    expect(refused(() => parsePublish('a:80'))).toBe('invalid host port: a');
    expect(refused(() => parsePublish('1.2.3:80:80'))).toBe('invalid IPv4 address: 1.2.3');
    expect(refused(() => parsePublish('80/sctp'))).toBe('invalid protocol: sctp (tcp or udp)');
    expect(refused(() => parsePublish('9000-9002:80-81'))).toBe('invalid publish spec: 9000-9002:80-81: the host and container port ranges differ in size');
    expect(refused(() => parsePublish('8080:80/tcp/x'))).toBe('invalid publish spec: 8080:80/tcp/x');
    expect(refused(() => parsePublish('::1:80:80'))).toBe('invalid publish spec: ::1:80:80 (IPv6 addresses are not supported)');
    expect(refused(() => parsePublish('81-80'))).toBe('invalid container port range: 81-80');
  });
});

describe('--expose PORT[-END][/PROTO]', () => {
  it('one port, a range, a protocol', () => {
    expect(parseExpose('80')).toEqual([{ port: 80, proto: 'tcp' }]);
    expect(parseExpose('8000-8002/udp')).toEqual([
      { port: 8000, proto: 'udp' },
      { port: 8001, proto: 'udp' },
      { port: 8002, proto: 'udp' },
    ]);
    expect(parseExpose('65535/tcp')).toEqual([{ port: 65535, proto: 'tcp' }]);
  });

  it('refuses port 0, a bad protocol and a reversed range', () => {
    expect(refused(() => parseExpose('0'))).toBe('invalid exposed port: 0');
    expect(refused(() => parseExpose('80/icmp'))).toBe('invalid protocol: icmp (tcp or udp)');
    expect(refused(() => parseExpose('90-80'))).toBe('invalid exposed port range: 90-80');
    expect(refused(() => parseExpose(''))).toBe('invalid exposed port: ');
  });

  it('a protocol: tcp when absent', () => {
    expect(parseProto(undefined)).toBe('tcp');
    expect(parseProto('udp')).toBe('udp');
    expect(refused(() => parseProto('TCP'))).toBe('invalid protocol: TCP (tcp or udp)');
  });
});
