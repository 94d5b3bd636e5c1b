/**
 * Docker's human-readable figures, as its CLI and its Engine API write them: sizes in decimal
 * units ("4.2MB"), durations ("3 minutes ago", and "Up 3 minutes" in a container's status),
 * short ids, and the time format of its list rows.
 */

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toPrecision(3).replace(/\.?0+$/, '')}${units[u]}`;
}

export function timeAgo(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(s)) return 'N/A';
  if (s < 1) return 'Less than a second ago';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'} ago`;
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? 'About a minute ago' : `${m} minutes ago`;
  const h = Math.round(m / 60);
  if (h < 48) return h === 1 ? 'About an hour ago' : `${h} hours ago`;
  const d = Math.round(h / 24);
  if (d < 14) return `${d} days ago`;
  if (d < 60) return `${Math.round(d / 7)} weeks ago`;
  if (d < 730) return `${Math.round(d / 30)} months ago`;
  return `${Math.round(d / 365)} years ago`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Go's time.String() in UTC, as `docker images --format json` prints CreatedAt. */
export function dockerTime(iso: string | undefined): string {
  const t = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}

/** Docker's column cut: at most `max` characters, the last one '…'. */
export function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * sortorder.NaturalLess, the order Docker's CLI lists volumes and networks in: runs of digits
 * compare as numbers (fewer leading zeros first on a tie), the rest byte by byte.
 */
export function naturalCompare(a: string, b: string): number {
  const x = a.match(/\d+|\D+/g) ?? [];
  const y = b.match(/\d+|\D+/g) ?? [];
  const bytes = (p: string, q: string) => (p < q ? -1 : p > q ? 1 : 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (!/^\d/.test(p) || !/^\d/.test(q)) return bytes(p, q);
    const [pv, qv] = [p.replace(/^0+/, ''), q.replace(/^0+/, '')];
    return pv.length - qv.length || bytes(pv, qv) || p.length - q.length;
  }
  return x.length - y.length;
}
