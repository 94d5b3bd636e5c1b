/**
 * `--user` / the image's User: "uid", "name", "uid:gid", "name:group" … resolved against the
 * image's /etc/passwd and /etc/group the way Docker does (numeric ids need no entry; names must exist;
 * supplementary groups are the primary group and the /etc/group memberships).
 */
import { UsageError } from '../errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** From /etc/passwd, else '/'. */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] ?? '/' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0] ?? '', gid, members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

const NUMERIC = /^\d+$/;
const MAX_ID = 2 ** 32 - 2;

function numericId(s: string, what: string): number {
  const n = Number(s);
  if (n > MAX_ID) throw new UsageError(`${what} ${s} is out of range`);
  return n;
}

/**
 * Resolve `spec` ("" means root) with the image's passwd/group contents (undefined when absent).
 * `extraGroups` are `--group-add` names or ids.
 */
export function resolveUser(spec: string, passwd: string | undefined, group: string | undefined, extraGroups: readonly string[] = []): ResolvedUser {
  const users = parsePasswd(passwd ?? '');
  const groups = parseGroup(group ?? '');
  const [userPart = '', groupPart, ...rest] = spec.split(':');
  if (rest.length > 0) throw new UsageError(`invalid user "${spec}": expected USER[:GROUP]`);
  const user = userPart === '' ? '0' : userPart;

  let uid: number;
  let gid: number;
  let name: string | undefined;
  let home = '/';
  const byId = NUMERIC.test(user) ? users.find((u) => u.uid === numericId(user, 'uid')) : undefined;
  const byName = NUMERIC.test(user) ? undefined : users.find((u) => u.name === user);
  if (NUMERIC.test(user)) {
    uid = numericId(user, 'uid');
    gid = byId?.gid ?? 0;
    name = byId?.name;
    home = byId?.home ?? '/';
  } else if (byName) {
    uid = byName.uid;
    gid = byName.gid;
    name = byName.name;
    home = byName.home;
  } else {
    throw new UsageError(`unable to find user ${user}: no matching entries in passwd file`);
  }

  if (groupPart !== undefined && groupPart !== '') {
    if (NUMERIC.test(groupPart)) {
      gid = numericId(groupPart, 'gid');
    } else {
      const g = groups.find((e) => e.name === groupPart);
      if (!g) throw new UsageError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }

  // Supplementary groups, as Docker (runc's GetExecUser) sets them: the primary group, then the
  // user's /etc/group memberships unless a group was forced, then --group-add.
  const additional = new Set<number>([gid]);
  if ((groupPart === undefined || groupPart === '') && name !== undefined) {
    for (const g of groups) if (g.members.includes(name) && g.gid !== gid) additional.add(g.gid);
  }
  for (const extra of extraGroups) {
    if (NUMERIC.test(extra)) {
      additional.add(numericId(extra, 'gid'));
    } else {
      const g = groups.find((e) => e.name === extra);
      if (!g) throw new UsageError(`unable to find group ${extra}: no matching entries in group file`);
      additional.add(g.gid);
    }
  }
  return { uid, gid, additionalGids: [...additional], home };
}
