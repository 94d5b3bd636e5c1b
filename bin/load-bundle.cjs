// Loads a bundled command (dist/<name>.cjs) through V8's code cache, as Node 22's
// module.enableCompileCache() would: one cache per verb (`run`, `images`, …), written after the
// first use of that verb, so later start-ups skip compiling what that verb runs. Node 20 has no
// built-in compile cache; a missing, stale or unwritable cache only means compiling as usual.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { Module } = require('node:module');

/** Run dist/<bundle>.cjs as the main module; `prefix` names its caches. */
exports.runBundle = function runBundle(bundle, prefix) {
  const file = path.join(__dirname, '..', 'dist', `${bundle}.cjs`);
  const verb = process.argv.slice(2).find((a) => /^[a-z][a-z-]*$/.test(a)) ?? 'none';
  const cacheFile = path.join(path.dirname(file), '.v8-cache', `${prefix}${verb}-${process.version}.bin`);
  // The bundle is ASCII (scripts/bundle-cli.mjs checks): read as latin1, V8 makes a one-byte
  // string without decoding UTF-8, ~2 ms less than 'utf8' on every start-up.
  const source = fs.readFileSync(file, 'latin1');
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined; // first use of this verb: compile as usual
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {
        // a read-only installation: it works the same, only without the cache
      }
    });
  }
  const module_ = { exports: {}, filename: file, id: file };
  script.runInThisContext().call(module_.exports, module_.exports, Module.createRequire(file), module_, file, path.dirname(file));
};
