#!/usr/bin/env node
// The `tsnats` command as one CommonJS file (dist/tsnats.cjs), built from tsc's output by esbuild, plus a V8 code
// cache for it (dist/tsnats.cjs.cache). Node loads one file instead of ~150 modules, and with the cache V8 skips
// compiling it: together most of the command's start-up time (BENCHMARKS.md, "Footprint"). CommonJS rather than
// an ES module because Node 20 can only take a code cache through vm.Script (bin/tsnats). npm dependencies stay
// separate requires; the library (`tsnats`, `tsnats/testing`) is still the per-module dist/src.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const bundle = 'dist/tsnats.cjs';
const cache = `${bundle}.cache`;

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  // Whitespace and comments out (identifiers kept, so stack traces still name functions), and ASCII only, so
  // that Node reads the source into a one-byte string: 0.87 MB instead of 1.26 MB with 7 non-ASCII
  // characters. Start-up: 0.81-0.93 of the time in three runs of 21 alternating starts (BENCHMARKS.md,
  // issue 12, third round).
  minifyWhitespace: true,
  legalComments: 'none',
  charset: 'ascii',
  // The sources are ES modules that find their lazily loaded dependencies with createRequire(import.meta.url).
  define: { 'import.meta.url': 'bundleUrl' },
  banner: { js: 'const bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
});

// The cache V8 made for the previous bundle would be rejected; warm a new one by starting the command once on a
// random port. bin/tsnats writes the cache shortly after start-up, so it holds the functions start-up compiles.
rmSync(cache, { force: true });
rmSync('dist/tsnats.mjs', { force: true });
const child = spawn(process.execPath, ['bin/tsnats', '-a', '127.0.0.1', '-p', '-1'], { stdio: 'ignore' });
const deadline = Date.now() + 10_000;
while (!existsSync(cache) && Date.now() < deadline && child.exitCode === null) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
child.kill('SIGKILL');
if (!existsSync(cache))
  console.warn('bundle: no code cache was written; the command will write it on its first start');
