/**
 * How JavaScript values stand for Go values in templates. Data is JSON-shaped, as a Docker client
 * that decoded the API's JSON sees it:
 *
 * - `undefined` is Go's invalid value (a missing map key: prints `<no value>`), `null` is nil (`<nil>`);
 * - a number with an integral value below 2^63 is an `int`, any other number a `float64` (JSON does
 *   not say which; Docker's own structs hold integers where JSON shows integral numbers);
 * - arrays are `[]interface {}`, plain objects `map[string]interface {}` (printed `map[k:v]`, keys
 *   sorted; a missing key is `<no value>`), functions are methods (`{{.Label "x"}}`);
 * - an object made with goStruct() is a Go struct: its fields print in order as `{a b}` and a field it
 *   lacks is an error (`can't evaluate field X in type T`), as on the rows of Docker's lists;
 * - an object with a GO_JSON method gives its own JSON text (json.ts).
 */

const STRUCT_TYPE = Symbol('hull.template.struct');
/** A method returning the object's JSON text, used in place of its fields. */
export const GO_JSON = Symbol('hull.template.json');

export type GoKind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'struct' | 'func';

/** Marks `fields` as a Go struct of type `typeName` (the name Go shows in errors, e.g. `*formatter.ContainerContext`). */
export function goStruct<T extends object>(typeName: string, fields: T, marshalJSON?: () => string): T {
  Object.defineProperty(fields, STRUCT_TYPE, { value: typeName, enumerable: false });
  if (marshalJSON) Object.defineProperty(fields, GO_JSON, { value: marshalJSON, enumerable: false });
  return fields;
}

export function structType(v: object): string | undefined {
  return (v as { [STRUCT_TYPE]?: string })[STRUCT_TYPE];
}

export function goKind(v: unknown): GoKind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? 'int' : 'float';
    case 'function':
      return 'func';
    case 'object':
      if (Array.isArray(v)) return 'slice';
      return structType(v) !== undefined ? 'struct' : 'map';
    default:
      return 'string'; // symbols do not occur in template data
  }
}

/** The Go type a value stands for, as Go's errors and %T write it. */
export function goTypeName(v: unknown): string {
  switch (goKind(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'string':
      return 'string';
    case 'slice':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    case 'struct':
      return structType(v as object)!;
    case 'func':
      return `func(${Array.from({ length: (v as (...a: unknown[]) => unknown).length }, () => 'interface {}').join(', ')}) interface {}`;
  }
}

/** The data fields of an object: its own enumerable properties that are not methods. */
export function fieldsOf(v: object): [string, unknown][] {
  return Object.entries(v).filter(([, x]) => typeof x !== 'function');
}

/** Go's template truth: false, 0, nil, and empty strings, slices and maps are false. */
export function isTrue(v: unknown): boolean {
  switch (goKind(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return Number(v) !== 0;
    case 'string':
      return (v as string).length > 0;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return fieldsOf(v as object).length > 0;
    case 'struct':
    case 'func':
      return true;
  }
}

/** A Go string's length: its UTF-8 bytes. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
