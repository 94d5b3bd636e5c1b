/**
 * Reading one YAML mapping of a Kubernetes object field by field: each reader marks its key as
 * understood, and `done()` warns once for every key nobody read — an unsupported field is named,
 * never silently dropped. Type errors are UsageErrors naming the object and the field's path.
 */
import { UsageError } from '../errors.js';

/** Where warnings go and how the object is named in messages (`Pod "web"`, line 3). */
export interface ReadContext {
  /** `Pod "web" (line 3)`. */
  object: string;
  warnings: string[];
}

export type Plain = Record<string, unknown>;

export function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

export class Fields {
  private readonly read = new Set<string>();

  constructor(
    readonly value: Plain,
    readonly path: string,
    readonly ctx: ReadContext,
  ) {}

  static of(value: unknown, path: string, ctx: ReadContext): Fields {
    if (!isPlain(value)) throw new UsageError(`${ctx.object}: ${path || 'the document'} must be a mapping`);
    return new Fields(value, path, ctx);
  }

  private at(key: string): string {
    if (key === '') return this.path || 'the document';
    return this.path ? `${this.path}.${key}` : key;
  }

  fail(key: string, what: string): never {
    throw new UsageError(`${this.ctx.object}: ${this.at(key)} ${what}`);
  }

  /** The raw value (null counts as absent, as in Kubernetes' decoding). */
  raw(key: string): unknown {
    this.read.add(key);
    const v = this.value[key];
    return v === null ? undefined : v;
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  /** Mark keys as understood without reading them (fields with no effect on one host, by design). */
  accept(...keys: string[]): void {
    for (const k of keys) this.read.add(k);
  }

  string(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    // YAML turns `value: 8080` or `value: true` into a number or boolean where Kubernetes expects a string.
    if (typeof v === 'number' || typeof v === 'boolean') this.fail(key, `must be a string (quote ${String(v)})`);
    this.fail(key, 'must be a string');
  }

  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined || v === '') this.fail(key, 'is required');
    return v;
  }

  integer(key: string, min = 0): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(key, `must be an integer >= ${min}`);
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false');
    return v;
  }

  /** An integer or a string (IntOrString: a port number or a port's name). */
  intOrString(key: string): number | string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return v;
    this.fail(key, 'must be an integer or a string');
  }

  stringList(key: string): string[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(key, 'must be a list of strings');
    return v.map((item, i) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'number' || typeof item === 'boolean') return String(item);
      this.fail(`${key}[${i}]`, 'must be a string');
    });
  }

  /** A map of strings (labels, annotations, ConfigMap data). */
  stringMap(key: string): Record<string, string> {
    const v = this.raw(key);
    if (v === undefined) return {};
    if (!isPlain(v)) this.fail(key, 'must be a mapping of strings');
    const out: Record<string, string> = {};
    for (const [k, item] of Object.entries(v)) {
      if (typeof item !== 'string') this.fail(`${key}.${k}`, 'must be a string');
      out[k] = item;
    }
    return out;
  }

  object(key: string): Fields | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    return Fields.of(v, this.at(key), this.ctx);
  }

  list(key: string): Fields[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(key, 'must be a list');
    return v.map((item, i) => Fields.of(item, `${this.at(key)}[${i}]`, this.ctx));
  }

  /** One warning per key that no reader took. */
  done(): void {
    for (const key of Object.keys(this.value)) {
      if (!this.read.has(key) && this.value[key] !== null) this.ctx.warnings.push(`${this.ctx.object}: ${this.at(key)} is not supported by hull, ignored`);
    }
  }
}
