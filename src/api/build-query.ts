/**
 * `POST /build`'s query, parsed at the edge into the library's BuildRequest (less its context).
 * Docker's CLI sends every option, most at their zero value (`memory=0`, `ulimits=null`,
 * `cpusetcpus=`): a zero value is nothing asked; any other value of an option hull's builder
 * cannot honour is refused naming it, never dropped.
 */
import { UsageError } from '../errors.js';
import type { BuildRequest } from '../build/index.js';
import { formatPlatform, hostPlatform, platformFromText, platformMatches } from '../image/platform.js';
import { parseReference } from '../image/reference.js';
import { queryBool } from './exchange.js';

export interface BuildQuery {
  request: Omit<BuildRequest, 'context'>;
  /** `q`: only the image id is streamed. */
  quiet: boolean;
}

/** Options hull's builder has no counterpart for, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  remote: 'a remote context (URL or git repository) is not fetched by hull: send the context as the body',
  cpusetcpus: "build resource limits are not honoured by hull's builder",
  cpusetmems: "build resource limits are not honoured by hull's builder",
  cpushares: "build resource limits are not honoured by hull's builder",
  cpuquota: "build resource limits are not honoured by hull's builder",
  cpuperiod: "build resource limits are not honoured by hull's builder",
  memory: "build resource limits are not honoured by hull's builder",
  memswap: "build resource limits are not honoured by hull's builder",
  shmsize: "a build's /dev/shm size is not set by hull's builder",
  ulimits: "build ulimits are not honoured by hull's builder",
  extrahosts: "extra /etc/hosts entries are not added by hull's builder",
  securityopt: "security options are not honoured by hull's builder",
  cachefrom: "cache sources are not used by hull's builder (its cache is local)",
  squash: "squashing is not done by hull's builder",
  isolation: 'isolation modes other than the default are Windows only',
  outputs: "outputs are BuildKit's: hull serves the classic builder",
  session: "sessions are BuildKit's: hull serves the classic builder",
};

/** Whether an option's value is its zero (what the CLI sends when the flag was not given). */
function isZero(name: string, values: string[]): boolean {
  return values.every((v) => {
    const t = v.trim();
    if (['', '0', 'null', '[]', '{}'].includes(t)) return true;
    if (name === 'squash') return !['1', 'true', 'yes'].includes(t.toLowerCase());
    if (name === 'isolation') return t === 'default';
    return false;
  });
}

/** A JSON object of strings (`buildargs`, `labels`); null values (an arg named without a value) are left out. */
function stringMap(query: URLSearchParams, name: string): Record<string, string> {
  const text = query.get(name);
  if (text === null || text.trim() === '' || text.trim() === 'null') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${name}: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`${name}: a JSON object of strings expected`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (v === null) continue;
    if (typeof v !== 'string') throw new UsageError(`${name}: the value of ${k} must be a string`);
    out[k] = v;
  }
  return out;
}

/** The classic builder's network modes: `default` is hull's build default (RUN in a namespace with only lo), as `hull build`. */
function networkMode(text: string | null): 'none' | 'host' {
  if (text === null || text === '' || text === 'default' || text === 'none') return 'none';
  if (text === 'host') return 'host';
  throw new UsageError(`networkmode ${text}: hull's builder runs RUN steps with network none (the default) or host`);
}

export function parseBuildQuery(query: URLSearchParams): BuildQuery {
  for (const [name, why] of Object.entries(REFUSED)) {
    const values = query.getAll(name);
    if (values.length > 0 && !isZero(name, values)) throw new UsageError(`${name}: ${why}`);
  }
  const version = query.get('version');
  if (version !== null && version !== '' && version !== '1')
    throw new UsageError(`version ${version}: BuildKit is not served: hull serves the classic builder (version 1)`);
  const platform = query.get('platform');
  if (platform !== null && platform !== '' && !platformMatches(platformFromText(platform), hostPlatform())) {
    throw new UsageError(`platform ${platform}: hull builds for this host's platform only (${formatPlatform(hostPlatform())})`);
  }
  const tags = query.getAll('t').filter((t) => t !== '');
  for (const t of tags) {
    if (parseReference(t).digest !== undefined) throw new UsageError(`t ${t}: a build's name cannot have a digest`);
  }
  const dockerfile = query.get('dockerfile');
  const target = query.get('target');
  const cgroupParent = query.get('cgroupparent');
  // rm and forcerm are taken as they come: hull's RUN steps are not containers a client could list or keep.
  return {
    quiet: queryBool(query, 'q'),
    request: {
      ...(dockerfile ? { dockerfile } : {}),
      tags,
      buildArgs: stringMap(query, 'buildargs'),
      labels: stringMap(query, 'labels'),
      ...(target ? { target } : {}),
      noCache: queryBool(query, 'nocache'),
      pull: queryBool(query, 'pull'),
      network: networkMode(query.get('networkmode')),
      ...(cgroupParent ? { cgroupParent } : {}),
    },
  };
}
