// Bundles the CLI (dist/cli/main.js, built by tsc) into one CommonJS file, dist/hull-cli.cjs:
// one file to compile instead of dozens of ES modules to resolve, and a file V8's code cache can
// cover (bin/hull.cjs). The library itself is published unbundled from dist/.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/.v8-cache', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: [new URL('../dist/cli/main.js', import.meta.url).pathname],
  outfile: new URL('../dist/hull-cli.cjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
  // src/native/index.ts finds the addon relative to import.meta.url.
  define: { 'import.meta.url': '__hull_import_meta_url' },
  banner: { js: "const __hull_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
});
