/** The ring of closed connections behind /connz?state=closed: bounded, oldest first, O(1) adds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ClosedClient, ClosedClientRing } from '../../src/server/closed-client.js';

const fake = (cid: number): ClosedClient => ({ cid }) as unknown as ClosedClient;
const cids = (r: ClosedClientRing): number[] => [...r].map((c) => c.cid);

test('keeps the last `capacity` entries, oldest first, across many wraps', () => {
  const r = new ClosedClientRing(3);
  assert.deepEqual(cids(r), []);
  r.push(fake(1));
  r.push(fake(2));
  assert.deepEqual(cids(r), [1, 2]);
  for (let i = 3; i <= 11; i++) {
    r.push(fake(i));
    assert.equal(r.length, Math.min(i, 3));
    assert.deepEqual(
      cids(r),
      [i - 2, i - 1, i].filter((x) => x > 0),
    );
  }
  assert.deepEqual(
    r.filter((c) => c.cid % 2 === 1).map((c) => c.cid),
    [9, 11],
  );
});

test('capacity 0 keeps nothing', () => {
  const r = new ClosedClientRing(0);
  r.push(fake(1));
  assert.equal(r.length, 0);
});
