/**
 * Platforms (os/architecture/variant) and choosing one manifest out of an index, as
 * containerd's `platforms.Default()` matcher does for the host.
 */

import { HullError, InvalidImageError } from '../errors.js';
import { Annotation, type Descriptor, type Platform } from './types.js';

/** Node's `process.arch` → the GOARCH names OCI uses. */
const NODE_ARCH_TO_OCI: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** `os/arch[/variant]` (a --platform flag) → Platform; Docker's x86_64 and aarch64 are amd64 and arm64. */
export function platformFromText(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new HullError(`invalid platform "${text}": expected os/arch[/variant], e.g. linux/amd64`, { code: 'USAGE' });
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return { os, architecture: architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture, ...(variant ? { variant } : {}) };
}

/** The platform of this host, e.g. `{ os: 'linux', architecture: 'amd64' }`. */
export function hostPlatform(): Platform {
  const architecture = NODE_ARCH_TO_OCI[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm') p.variant = `v${(process.config.variables as { arm_version?: string }).arm_version ?? '7'}`;
  return p;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** arm64 images without a variant are v8; everything else compares variants literally. */
function normalizedVariant(p: Platform): string | undefined {
  if (p.architecture === 'arm64' && (p.variant === undefined || p.variant === '')) return 'v8';
  return p.variant === '' ? undefined : p.variant;
}

export function platformMatches(want: Platform, have: Platform): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  const w = normalizedVariant(want);
  const h = normalizedVariant(have);
  return w === undefined || h === undefined || w === h;
}

/** BuildKit attestation manifests sit in indexes next to the images; they are not images. */
export function isAttestation(d: Descriptor): boolean {
  return d.annotations?.[Annotation.DockerReferenceType] === 'attestation-manifest';
}

/**
 * The manifest descriptor in an index for `want`: the first exact platform match; a lone
 * descriptor without a platform is taken as is.
 */
export function selectManifest(manifests: readonly Descriptor[], want: Platform, where: string): Descriptor {
  const images = manifests.filter((d) => !isAttestation(d));
  const match = images.find((d) => d.platform !== undefined && platformMatches(want, d.platform));
  if (match) return match;
  const unlabelled = images.filter((d) => d.platform === undefined);
  if (unlabelled.length === 1 && unlabelled[0]) return unlabelled[0];
  const offered = images.map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ');
  throw new InvalidImageError(`${where}: no image for ${formatPlatform(want)} (has: ${offered || 'nothing'})`);
}
