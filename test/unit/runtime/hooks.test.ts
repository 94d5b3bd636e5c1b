// hookKinds: what OciRuntime records in state.json so that hull-runc's native front knows which verbs run hooks.
import { describe, expect, it } from 'vitest';
import { hookKinds } from '../../../src/runtime/hooks.js';

describe('hookKinds', () => {
  const hook = { path: '/bin/true' };

  it('names each kind with at least one hook, in the order they run', () => {
    expect(hookKinds({ poststop: [hook], prestart: [hook], startContainer: [hook, hook] })).toEqual(['prestart', 'startContainer', 'poststop']);
  });

  it('leaves out empty lists, and has nothing for a spec without hooks', () => {
    expect(hookKinds({ poststart: [], createRuntime: [hook] })).toEqual(['createRuntime']);
    expect(hookKinds(undefined)).toEqual([]);
    expect(hookKinds({})).toEqual([]);
  });
});
