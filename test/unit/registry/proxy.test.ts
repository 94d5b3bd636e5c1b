// Which registry URLs go through which proxy: the environment's HTTP(S)_PROXY and NO_PROXY read
// with the rules of Go's httpproxy package (Docker's), see src/registry/proxy.ts.
import { describe, expect, it } from 'vitest';
import { proxyFor, proxySettings } from '../../../src/registry/proxy.js';

const via = (url: string, env: NodeJS.ProcessEnv): string | undefined => proxyFor(new URL(url), proxySettings(env))?.href;

describe('registry proxies from the environment', () => {
  const env = { HTTPS_PROXY: 'http://proxy.corp:3128', HTTP_PROXY: 'proxy.corp:8080' };

  it("picks the proxy by the URL's scheme; a proxy without a scheme is http://; upper case first", () => {
    expect(via('https://registry-1.docker.io/v2/', env)).toBe('http://proxy.corp:3128/');
    expect(via('http://registry.lan:5000/v2/', env)).toBe('http://proxy.corp:8080/');
    expect(via('https://ghcr.io/v2/', { https_proxy: 'http://lower:1' })).toBe('http://lower:1/');
    expect(via('https://ghcr.io/v2/', { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:1' })).toBe('http://upper:1/');
    expect(via('https://ghcr.io/v2/', { HTTP_PROXY: 'http://only-http:1' })).toBeUndefined();
    expect(via('https://ghcr.io/v2/', {})).toBeUndefined();
  });

  it('never proxies loopback', () => {
    for (const url of [
      'https://localhost:5000/v2/',
      'http://127.0.0.1:5000/v2/',
      'http://127.3.2.1/v2/',
      'https://[::1]:5000/v2/',
      'http://reg.localhost/v2/',
    ]) {
      expect(via(url, env), url).toBeUndefined();
    }
  });

  it('NO_PROXY: *, names (with and without subdomains), ports, IPs and CIDR blocks', () => {
    const no = (noProxy: string, url: string) => via(url, { ...env, NO_PROXY: noProxy });
    expect(no('*', 'https://ghcr.io/v2/')).toBeUndefined();
    expect(no('example.com', 'https://example.com/v2/')).toBeUndefined();
    expect(no('example.com', 'https://reg.example.com/v2/')).toBeUndefined();
    expect(no('example.com', 'https://notexample.com/v2/')).toBe('http://proxy.corp:3128/');
    expect(no('.example.com', 'https://example.com/v2/')).toBe('http://proxy.corp:3128/');
    expect(no('.example.com', 'https://reg.example.com/v2/')).toBeUndefined();
    expect(no('*.example.com', 'https://reg.example.com/v2/')).toBeUndefined();
    expect(no('reg.lan:5000', 'http://reg.lan:5000/v2/')).toBeUndefined();
    expect(no('reg.lan:5000', 'http://reg.lan:5001/v2/')).toBe('http://proxy.corp:8080/');
    expect(no('reg.lan:443', 'https://reg.lan/v2/')).toBeUndefined(); // the scheme's default port
    expect(no('10.1.2.3', 'http://10.1.2.3:5000/v2/')).toBeUndefined();
    expect(no('10.0.0.0/8', 'http://10.200.1.1:5000/v2/')).toBeUndefined();
    expect(no('10.0.0.0/8', 'http://11.0.0.1:5000/v2/')).toBe('http://proxy.corp:8080/');
    expect(no('fd00::/8', 'https://[fd00::5]/v2/')).toBeUndefined();
    expect(no('10.0.0.0/99, EXAMPLE.com', 'https://example.com/v2/')).toBeUndefined(); // a bad block is skipped; case does not matter
    expect(no(' , ', 'https://ghcr.io/v2/')).toBe('http://proxy.corp:3128/');
  });

  it('refuses proxies it cannot use, naming the variable', () => {
    expect(() => proxySettings({ HTTPS_PROXY: 'socks5://127.0.0.1:1080' })).toThrow(
      /HTTPS_PROXY=socks5:\/\/127\.0\.0\.1:1080: only http:\/\/ and https:\/\/ proxies/,
    );
    expect(() => proxySettings({ http_proxy: 'http://[bad' })).toThrow(/http_proxy=http:\/\/\[bad: not a proxy URL/);
  });
});
