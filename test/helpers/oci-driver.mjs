#!/usr/bin/env node
// A stand-in caller of hull's OCI runtime (src/oci/runtime.ts) for the tests, one operation per
// process as containerd's shim calls runc: `node oci-driver.mjs ROOT VERB ID [ARG]`.
//   create ID BUNDLE   (the container's stdio are this process's own)
//   start ID | state ID | kill ID SIGNAL | delete ID [force]
// The result (a state, warnings) goes as JSON to the file $OCI_RESULT, an error's message there
// too (exit 1): a created container holds this process's stdio open, so they carry nothing else.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js');
const { OciRuntime } = await import(dist);
const [root, verb, id, arg] = process.argv.slice(2);
const oci = new OciRuntime({ root });
try {
  let out;
  if (verb === 'create') out = await oci.create(id, { bundle: arg });
  else if (verb === 'start') out = await oci.start(id);
  else if (verb === 'state') out = oci.state(id);
  else if (verb === 'kill') out = await oci.kill(id, Number(arg));
  else if (verb === 'delete') out = await oci.delete(id, { force: arg === 'force' });
  else throw new Error(`unknown verb ${verb}`);
  writeFileSync(process.env.OCI_RESULT, `${JSON.stringify(out ?? null)}\n`);
} catch (err) {
  writeFileSync(process.env.OCI_RESULT, `error: ${err.message}\n`);
  process.exitCode = 1;
}
