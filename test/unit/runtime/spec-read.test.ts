import { describe, expect, it } from 'vitest';
import { defaultOciSpec } from '../../../src/oci/default-spec.js';
import { parseSpec, validateProcess } from '../../../src/runtime/spec-read.js';

const process = (patch: Record<string, unknown>) => ({ args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, ...patch });

describe('spec-read: a config.json checked once, each error naming its field', () => {
  it('reads the default spec as it is', () => {
    const spec = defaultOciSpec({ terminal: false, args: ['true'] });
    expect(parseSpec(JSON.stringify(spec))).toEqual(spec);
  });

  it('names the field of a bad value, and the file', () => {
    expect(() => parseSpec('{"ociVersion": "1.0.2"')).toThrow(/config\.json/);
    expect(() => validateProcess(process({ user: { uid: 'root', gid: 0 } }))).toThrow(/process\.json: .*user\.uid: expected an integer >= 0, found "root"/);
  });

  it('oomScoreAdj: -1000..1000', () => {
    expect(validateProcess(process({ oomScoreAdj: -1000 })).oomScoreAdj).toBe(-1000);
    expect(validateProcess(process({ oomScoreAdj: 1000 })).oomScoreAdj).toBe(1000);
    expect(() => validateProcess(process({ oomScoreAdj: 1001 }))).toThrow(/oomScoreAdj: expected an integer -1000\.\.1000, found 1001/);
    expect(() => validateProcess(process({ oomScoreAdj: -1001 }))).toThrow(/oomScoreAdj: expected an integer -1000\.\.1000/);
  });
});
