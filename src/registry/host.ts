/** Registry host names: `host[:port]`, `[v6]:port`. */

/** The host without brackets and port: `[::1]:5000` → `::1`, `localhost:5000` → `localhost`. */
export function hostnameOf(host: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (m) return m[1] as string;
  const colon = host.lastIndexOf(':');
  return colon >= 0 && /^\d+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
}

/** localhost, *.localhost, 127.0.0.0/8 and [::1], with or without a port. */
export function isLoopback(host: string): boolean {
  const name = hostnameOf(host).toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}
