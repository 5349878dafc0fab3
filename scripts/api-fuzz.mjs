#!/usr/bin/env node
// Differential fuzzing of the JetStream API against nats-server (on PATH), longer than the test's run:
//   node scripts/api-fuzz.mjs [--seed N] [--count N] [--max N]   (after npm run build)
// A random seed unless given; prints it so a failure can be replayed with --seed.
import { parseArgs } from 'node:util';
import {
  compareRuns,
  formatReport,
  fuzzRequests,
  runOnReferenceAndTsnats,
} from '../dist/test/helpers/api-fuzz.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    count: { type: 'string', default: '3000' },
    max: { type: 'string', default: '60' },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const reqs = fuzzRequests(seed, Number(values.count));
console.log(`seed ${seed}`);
const [ref, ours] = await runOnReferenceAndTsnats(reqs);
const rep = compareRuns(reqs, ref, ours);
console.log(formatReport(rep, Number(values.max)));
const ok = rep.agreement >= 0.98 && rep.acceptedByTsnatsOnly.length === 0;
process.exit(ok ? 0 : 1);
