/**
 * Docker-style image references, parsed and normalised the way Docker does
 * (github.com/distribution/reference: `ParseNormalizedNamed`, `FamiliarString`):
 *
 *   busybox                      → docker.io/library/busybox:latest
 *   foo/bar:1                    → docker.io/foo/bar:1
 *   localhost:5000/x             → localhost:5000/x:latest
 *   registry.example.com/a/b@sha256:…
 *
 * Grammar (distribution's reference.go):
 *   reference      := name [ ":" tag ] [ "@" digest ]
 *   name           := [domain "/"] path-component ["/" path-component]*
 *   domain         := host [":" port]
 *   host           := domain-name | IPv4 | "[" IPv6 "]"
 *   path-component := [a-z0-9]+ (separator [a-z0-9]+)*      separator := [_.] | "__" | "-"+
 *   tag            := [\w][\w.-]{0,127}
 */

import { UsageError } from '../errors.js';
import { digestProblem } from './digest.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

export interface Reference {
  /** Registry host, with port if any: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly domain: string;
  /** Repository path inside the registry: `library/busybox`, `a/b`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const ID_RE = /^[a-f0-9]{64}$/;

function bad(input: string, why: string): UsageError {
  return new UsageError(`invalid reference format "${input}": ${why}`);
}

/**
 * Splits a name (possibly with `:tag`) into domain and the rest, the way Docker decides whether
 * the first component is a registry: it is one if it is `localhost`, contains `.` or `:`, or has
 * uppercase letters; otherwise the name is on Docker Hub.
 */
function splitDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (slash < 0) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    const first = name.slice(0, slash);
    const rest = name.slice(slash + 1);
    if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
      domain = first === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : first;
      remainder = rest;
    } else {
      domain = DEFAULT_DOMAIN;
      remainder = name;
    }
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses and normalises a reference (domain and `library/` filled in, no default tag added).
 * Throws UsageError saying what is wrong.
 */
export function parseReference(input: string): Reference {
  if (input === '') throw bad(input, 'empty reference');
  if (ID_RE.test(input)) throw bad(input, 'a repository name cannot be a 64-character hexadecimal string (an image id)');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem !== undefined) throw bad(input, problem);
  }

  const { domain, remainder } = splitDomain(rest);
  let path = remainder;
  let tag: string | undefined;
  const colon = remainder.indexOf(':');
  if (colon >= 0) {
    path = remainder.slice(0, colon);
    tag = remainder.slice(colon + 1);
    if (!TAG_RE.test(tag)) {
      throw bad(input, `invalid tag "${tag}" (up to 128 characters of letters, digits, '_', '.', '-', not starting with '.' or '-')`);
    }
  }

  if (!DOMAIN_RE.test(domain)) throw bad(input, `invalid registry host "${domain}"`);
  if (path.toLowerCase() !== path) throw bad(input, `repository name "${path}" must be lowercase`);
  if (path === '') throw bad(input, 'missing repository name');
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      throw bad(input, `invalid repository name component "${component}" (lowercase letters and digits, separated by '.', '_', '__' or '-')`);
    }
  }
  if (domain.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    throw bad(input, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }

  return {
    domain,
    path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** `domain/path` without tag or digest. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The reference with the default tag added when it has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** What a registry's `/manifests/<ref>` names for the reference: its digest, else its tag (the default with neither). */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** `domain/path[:tag][@digest]`, exactly as the fields say. */
export function formatReference(ref: Reference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The fully qualified form used as the store key: `docker.io/library/busybox:latest`. */
export function normalize(input: string): string {
  return formatReference(withDefaultTag(parseReference(input)));
}

/** The short form Docker prints: `busybox:latest`, `foo/bar:1`, `localhost:5000/x:latest`. */
export function familiar(input: string): string {
  const ref = withDefaultTag(parseReference(input));
  let name = repositoryName(ref);
  if (ref.domain === DEFAULT_DOMAIN) {
    name =
      ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.indexOf('/', OFFICIAL_REPO_PREFIX.length) < 0
        ? ref.path.slice(OFFICIAL_REPO_PREFIX.length)
        : ref.path;
  }
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
