// --uidmap/--gidmap/--userns-remap, --network/--add-host/--link, -e/--env-file (src/options/idmaps.ts, network.ts, env.ts).
import { describe, expect, it } from 'vitest';
import { parseEnvEntries, parseEnvFile } from '../../../src/options/env.js';
import { parseIdMap, parseUsernsRemap } from '../../../src/options/idmaps.js';
import { parseLabels } from '../../../src/options/labels.js';
import { parseExtraHost, parseLink, parseNetworkMode } from '../../../src/options/network.js';
import { refused } from './refused.js';

describe('--uidmap / --gidmap CONTAINER:HOST:SIZE', () => {
  it('parses, with surrounding white space, up to the 32-bit id space', () => {
    expect(parseIdMap('0:100000:65536')).toEqual({ containerID: 0, hostID: 100000, size: 65536 });
    expect(parseIdMap(' 1:2:3 ')).toEqual({ containerID: 1, hostID: 2, size: 3 });
    expect(parseIdMap('0:4294967295:1')).toEqual({ containerID: 0, hostID: 4294967295, size: 1 });
  });

  it('refuses other forms, an empty range and a range past 2^32', () => {
    expect(refused(() => parseIdMap('0:100000'))).toBe("invalid id mapping '0:100000': use CONTAINER_ID:HOST_ID:SIZE");
    expect(refused(() => parseIdMap('-1:0:1'))).toMatch(/use CONTAINER_ID:HOST_ID:SIZE/);
    expect(refused(() => parseIdMap('0:1:0'))).toBe("invalid id mapping '0:1:0'");
    expect(refused(() => parseIdMap('0:4294967295:2'))).toBe("invalid id mapping '0:4294967295:2'");
  });
});

describe('--userns-remap USER[:GROUP]', () => {
  it("a user, a user and group; empty and host keep the host's namespace", () => {
    expect(parseUsernsRemap('remap')).toEqual({ user: 'remap' });
    expect(parseUsernsRemap('remap:staff')).toEqual({ user: 'remap', group: 'staff' });
    expect(parseUsernsRemap(undefined)).toBeUndefined();
    expect(parseUsernsRemap('')).toBeUndefined();
    expect(parseUsernsRemap('host')).toBeUndefined();
  });

  it('refuses an empty user or group and a third field', () => {
    expect(refused(() => parseUsernsRemap(':g'))).toBe("invalid --userns-remap ':g': use USER[:GROUP]");
    expect(refused(() => parseUsernsRemap('u:'))).toBe("invalid --userns-remap 'u:': use USER[:GROUP]");
    expect(refused(() => parseUsernsRemap('u:g:x'))).toBe("invalid --userns-remap 'u:g:x': use USER[:GROUP]");
  });
});

describe('--network MODE', () => {
  it('bridge (default), none, host, container:NAME, a user network', () => {
    expect(parseNetworkMode('bridge')).toEqual({ mode: 'bridge' });
    expect(parseNetworkMode('default')).toEqual({ mode: 'bridge' });
    expect(parseNetworkMode('none')).toEqual({ mode: 'none' });
    expect(parseNetworkMode('host')).toEqual({ mode: 'host' });
    expect(parseNetworkMode('container:db')).toEqual({ mode: 'container', container: 'db' });
    expect(parseNetworkMode('backend')).toEqual({ mode: 'network', network: 'backend' });
  });

  it('refuses container: without a container', () => {
    expect(refused(() => parseNetworkMode('container:'))).toBe("invalid network mode container:: container: needs a container's name or id");
  });
});

describe('--add-host NAME:IP', () => {
  it('the last colon separates them; host-gateway is kept for the library to resolve', () => {
    expect(parseExtraHost('db.local:10.0.0.7')).toEqual({ host: 'db.local', ip: '10.0.0.7' });
    expect(parseExtraHost('gw:host-gateway')).toEqual({ host: 'gw', ip: 'host-gateway' });
    expect(parseExtraHost('a:b:1.2.3.4')).toEqual({ host: 'a:b', ip: '1.2.3.4' });
  });

  it('refuses a missing name or separator and a bad address', () => {
    expect(refused(() => parseExtraHost('db.local'))).toBe('invalid --add-host db.local: want NAME:IP');
    expect(refused(() => parseExtraHost(':1.2.3.4'))).toBe('invalid --add-host :1.2.3.4: want NAME:IP');
    expect(refused(() => parseExtraHost('db:10.0.0.256'))).toBe('invalid IPv4 address: 10.0.0.256');
    expect(refused(() => parseExtraHost('db:'))).toBe('invalid IPv4 address: ');
  });
});

describe('-e and --env-file', () => {
  it("K=V as is; a bare name takes the given environment's value, or is dropped when unset", () => {
    expect(parseEnvEntries(['FOO', 'BAR', 'X=y=z', 'E='], { FOO: 'from-host' })).toEqual(['FOO=from-host', 'X=y=z', 'E=']);
    expect(parseEnvEntries(['  LEAD=1', ''], {})).toEqual(['LEAD=1']);
  });

  it('rejects an empty name and a name with white space', () => {
    expect(refused(() => parseEnvEntries(['=v'], {}))).toBe('invalid environment variable: =v');
    expect(refused(() => parseEnvEntries(['A B=1'], {}))).toBe('invalid environment variable: A B=1 (the name has white space)');
  });

  it('env files skip comments and blank lines', () => {
    expect(parseEnvFile('# comment\nA=1\n\n  B=2\r\nC\n')).toEqual(['A=1', 'B=2', 'C']);
    expect(parseEnvFile('')).toEqual([]);
  });
});

describe('--label KEY=VALUE', () => {
  it("a map; a bare key gets ''; the value may hold =", () => {
    expect(parseLabels(['a=1', 'b', 'c=x=y', 'a=2'])).toEqual({ a: '2', b: '', c: 'x=y' });
    expect(parseLabels([])).toEqual({});
    expect(refused(() => parseLabels(['=v']))).toBe("invalid label '=v': the key is empty");
  });
});

describe('--link', () => {
  it("NAME[:ALIAS] (moby's ParseLink), and inspect's /NAME:/THIS/ALIAS form", () => {
    expect(parseLink('db')).toEqual({ container: 'db', alias: 'db' });
    expect(parseLink('db:database')).toEqual({ container: 'db', alias: 'database' });
    expect(parseLink('/db:/web/database')).toEqual({ container: 'db', alias: 'database' });
  });

  it("refuses an empty one and more than one colon, with Docker's messages", () => {
    expect(refused(() => parseLink(''))).toBe('invalid argument "" for "--link" flag: empty string specified for links');
    expect(refused(() => parseLink('a:b:c'))).toBe('invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c');
  });
});
