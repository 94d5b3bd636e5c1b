#!/usr/bin/env node
// hull's command: the bundled CLI (dist/hull-cli.cjs), loaded with a V8 code cache (load-bundle.cjs).
'use strict';
require('./load-bundle.cjs').runBundle('hull-cli', '');
