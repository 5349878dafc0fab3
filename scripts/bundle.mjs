#!/usr/bin/env node
// The `tsnats` command as one ES module (dist/tsnats.mjs), built from tsc's output by esbuild: Node loads
// one file instead of ~150 modules, which is most of the command's start-up time (BENCHMARKS.md,
// "Footprint"). npm dependencies stay separate imports; the library (`tsnats`, `tsnats/testing`) is
// still the per-module dist/src.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: 'dist/tsnats.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
