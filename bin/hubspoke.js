#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds dist/ in `prepare`, so start-up never pays for a transpiler.
import '../dist/cli/main.js';
