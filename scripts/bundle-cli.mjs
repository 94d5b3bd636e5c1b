// Bundles each command (dist/cli/main.js and dist/runc/main.js, built by tsc) into one CommonJS
// file, dist/hull-cli.cjs and dist/hull-runc.cjs: one file to compile instead of dozens of ES
// modules to resolve, and a file V8's code cache can cover (bin/load-bundle.cjs). The library
// itself is published unbundled from dist/.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// Built-in modules that are bundled as stand-ins whose exports are getters loading the real
// module on first use. commander requires child_process at start-up (for executable
// subcommands, which hull has none of), and so did every verb, for ~2 ms of loading on each
// `hull run`; with the stand-in only verbs that spawn something load it. net, readline and
// fs/promises are imported by modules `run` evaluates but never called on its path: ~3 ms more
// (net alone 2.4 ms). (Not for modules whose classes are extended at a module's top level, like
// stream's Transform: that is a first use. crypto, zlib and os were measured too: no gain, `run`
// touches them anyway: crypto verifies the image's stored config and makes ids.)
const LAZY_BUILTINS = ['child_process', 'net', 'readline', 'fs/promises'];
// hull-runc's create (what containerd's shim waits on for every pod and container) never touches
// crypto (only a seccomp filter's cache key does), and loading it compiles ~40 of Node's internal
// modules (crypto's and the streams'): ~4 ms of CPU on every create, measured with perf stat.
const LAZY_IN_RUNC = [...LAZY_BUILTINS, 'crypto'];
const lazyBuiltins = (lazy) => ({
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${lazy.map((m) => m.replace('/', '\\/')).join('|')})$`);
    // The stand-in's own require of the real module is left to esbuild: external, as every built-in.
    b.onResolve({ filter }, (args) => (args.namespace === 'lazy-builtin' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const names = Object.keys(require(args.path)).filter((n) => n !== 'default');
      return {
        loader: 'js',
        contents: [
          `let real; const load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}));`,
          ...names.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => load()[${JSON.stringify(n)}] });`),
        ].join('\n'),
      };
    });
  },
});

rmSync(new URL('../dist/.v8-cache', import.meta.url), { recursive: true, force: true });
// hull's CLI, and hull-runc (runc's command line over the OCI runtime): one bundle each.
for (const [entry, bundle, lazy] of [
  ['cli/main.js', 'hull-cli.cjs', LAZY_BUILTINS],
  ['runc/main.js', 'hull-runc.cjs', LAZY_IN_RUNC],
]) {
  const outfile = new URL(`../dist/${bundle}`, import.meta.url).pathname;
  await build({
    entryPoints: [new URL(`../dist/${entry}`, import.meta.url).pathname],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
    plugins: [lazyBuiltins(lazy)],
    // src/native/index.ts finds the addon relative to import.meta.url.
    define: { 'import.meta.url': '__hull_import_meta_url' },
    banner: { js: "const __hull_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  });
  // bin/load-bundle.cjs reads a bundle as latin1 (no UTF-8 decoding): it must be ASCII. esbuild escapes
  // non-ASCII characters in strings; one it could not escape (in a regular expression, say) stops the build.
  const bundled = readFileSync(outfile);
  const nonAscii = bundled.findIndex((byte) => byte > 0x7f);
  if (nonAscii >= 0) {
    const line = bundled.subarray(0, nonAscii).toString('latin1').split('\n').length;
    console.error(`dist/${bundle} is not ASCII (line ${line}): bin/load-bundle.cjs reads it as latin1; write the character as an escape in the source`);
    process.exit(1);
  }
}
