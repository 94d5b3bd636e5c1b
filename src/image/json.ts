/**
 * Small checkers that turn untrusted JSON (`unknown`) into typed values, throwing
 * InvalidImageError with the path of the offending field (`manifest.layers[2].digest`).
 */

import { InvalidImageError } from '../errors.js';

export type JsonObject = { readonly [key: string]: unknown };

/** JSON.parse that throws InvalidImageError instead of SyntaxError. */
export function parseJson(text: string | Buffer, what: string): unknown {
  try {
    return JSON.parse(typeof text === 'string' ? text : text.toString('utf8')) as unknown;
  } catch (err) {
    throw new InvalidImageError(`${what}: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectObject(v: unknown, where: string): JsonObject {
  if (!isObject(v)) throw new InvalidImageError(`${where}: expected an object`);
  return v;
}

export function expectArray(v: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new InvalidImageError(`${where}: expected an array`);
  return v;
}

export function expectString(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new InvalidImageError(`${where}: expected a string`);
  return v;
}

export function expectNumber(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidImageError(`${where}: expected a number`);
  return v;
}

export function expectInteger(v: unknown, where: string): number {
  const n = expectNumber(v, where);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidImageError(`${where}: expected a non-negative integer`);
  return n;
}

/** `null` and a missing field are both "absent" (Docker writes `"Cmd": null`). */
export function optional<T>(v: unknown, where: string, check: (v: unknown, where: string) => T): T | undefined {
  return v === undefined || v === null ? undefined : check(v, where);
}

export function expectStringArray(v: unknown, where: string): string[] {
  return expectArray(v, where).map((item, i) => expectString(item, `${where}[${i}]`));
}

export function expectStringMap(v: unknown, where: string): Record<string, string> {
  const obj = expectObject(v, where);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj)) out[k] = expectString(val, `${where}.${k}`);
  return out;
}

/** A JSON "set" such as ExposedPorts `{"80/tcp": {}}`: the keys, values must be objects. */
export function expectKeySet(v: unknown, where: string): Record<string, Record<string, never>> {
  const obj = expectObject(v, where);
  const out: Record<string, Record<string, never>> = {};
  for (const [k, val] of Object.entries(obj)) {
    if (val !== null) expectObject(val, `${where}.${k}`);
    out[k] = {};
  }
  return out;
}
