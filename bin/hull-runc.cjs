#!/usr/bin/env node
// hull-runc: runc's command line over hull's OCI runtime (dist/hull-runc.cjs), loaded with a V8 code cache (load-bundle.cjs).
'use strict';
require('./load-bundle.cjs').runBundle('hull-runc', 'runc-');
