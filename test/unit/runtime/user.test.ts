import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { resolveUser } from '../../../src/runtime/user.js';

const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n';
const group = 'root:x:0:\nstaff:x:50:app\napp:x:1000:\nwheel:x:10:root,app\nnogroup:x:65534:\n';

describe('resolveUser', () => {
  it('defaults to root', () => expect(resolveUser('', passwd, group)).toEqual({ uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' }));
  it('looks a name up, with its supplementary groups', () =>
    expect(resolveUser('app', passwd, group)).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 50, 10], home: '/home/app' }));
  it('takes a numeric uid with no entry as is', () =>
    expect(resolveUser('4242', passwd, group)).toEqual({ uid: 4242, gid: 0, additionalGids: [0], home: '/' }));
  it('a numeric uid with an entry takes its gid and home', () => expect(resolveUser('1000', passwd, group).home).toBe('/home/app'));
  it('uid:gid and name:group force the group and drop the memberships', () => {
    expect(resolveUser('1000:65534', passwd, group)).toMatchObject({ uid: 1000, gid: 65534, additionalGids: [65534] });
    expect(resolveUser('app:staff', passwd, group)).toMatchObject({ uid: 1000, gid: 50, additionalGids: [50] });
  });
  it('adds --group-add groups by name or id', () => expect(resolveUser('nobody', passwd, group, ['staff', '777']).additionalGids).toEqual([65534, 50, 777]));
  it("refuses unknown names with Docker's message", () => {
    expect(() => resolveUser('ghost', passwd, group)).toThrow(/unable to find user ghost/);
    expect(() => resolveUser('app:ghosts', passwd, group)).toThrow(/unable to find group ghosts/);
    expect(() => resolveUser('ghost', undefined, undefined)).toThrow(UsageError);
  });
  it('refuses malformed specs', () => expect(() => resolveUser('a:b:c', passwd, group)).toThrow(UsageError));
});
