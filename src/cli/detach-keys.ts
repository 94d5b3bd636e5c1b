/**
 * Which detach sequence an attached terminal uses, as Docker's CLI decides it: `--detach-keys`, else
 * the container's own (`run`/`create --detach-keys`: hull keeps it), else `detachKeys` of Docker's
 * config.json (`$DOCKER_CONFIG` or ~/.docker; an invalid one is passed over, as Docker's CLI does),
 * else ctrl-p,ctrl-q (undefined: attach-io's default).
 */
import { homedir } from 'node:os';
import path from 'node:path';
import { parseDetachKeys } from '../options/attach.js';
import { readDockerConfig } from '../registry/credentials.js';

export function detachKeysFor(flag: string | undefined, container: readonly number[] | undefined): readonly number[] | undefined {
  if (flag) return parseDetachKeys(flag);
  if (container && container.length > 0) return container;
  const configured = configuredDetachKeys();
  if (!configured) return undefined;
  try {
    return parseDetachKeys(configured);
  } catch {
    return undefined; // Docker's CLI: "invalid detach escape keys, using default"
  }
}

function configuredDetachKeys(): string | undefined {
  const dir = process.env.DOCKER_CONFIG || path.join(process.env.HOME || homedir(), '.docker');
  try {
    const value = readDockerConfig(dir).detachKeys;
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined; // an unreadable config.json: Docker's CLI goes on with its defaults too
  }
}
