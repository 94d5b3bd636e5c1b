/**
 * `WWW-Authenticate` challenges (RFC 7235): `Bearer realm="https://auth.example/token",
 * service="registry.example",scope="repository:a/b:pull"`, `Basic realm="Registry"`, or several
 * in one header. Parameter names are case-insensitive; values are tokens or quoted strings.
 */

export interface Challenge {
  /** Lower-case: `bearer`, `basic`. */
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let s = header;
  let current: Challenge | undefined;
  const skipSpaces = (): void => {
    s = s.replace(/^[\s]+/, '');
  };
  for (;;) {
    skipSpaces();
    while (s.startsWith(',')) {
      s = s.slice(1);
      skipSpaces();
    }
    if (s === '') break;
    const tok = TOKEN_RE.exec(s);
    if (!tok) break; // malformed: keep what was parsed
    const name = tok[0];
    const after = s.slice(name.length).replace(/^\s+/, '');
    if (after.startsWith('=') && current && !/^=+\s*(?:,|$)/.test(after)) {
      // name=value (a parameter of the current challenge)
      s = after.slice(1).replace(/^\s+/, '');
      let value: string;
      if (s.startsWith('"')) {
        let i = 1;
        value = '';
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s.charAt(i);
          i++;
        }
        s = s.slice(i + 1);
      } else {
        const v = TOKEN_RE.exec(s);
        value = v ? v[0] : '';
        s = s.slice(value.length);
      }
      current.params[name.toLowerCase()] = value;
    } else {
      // a new challenge: scheme [token68]
      current = { scheme: name.toLowerCase(), params: {} };
      out.push(current);
      s = after;
      const t68 = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(?:,|$))/.exec(s);
      if (t68 && !/^[A-Za-z0-9\-._~+/]+\s*=[^=]/.test(s)) s = s.slice(t68[0].length);
    }
  }
  return out;
}
