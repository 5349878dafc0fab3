/**
 * `trusted_keys`: operator keys trusted without an operator JWT. Users of accounts signed by one of the
 * keys (preloaded into `resolver: MEMORY`) log in; others, and clients without a user JWT, are refused.
 * Each check runs against tsnats and, when installed, nats-server 2.9.10 with the same config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAccount, createOperator } from '@nats-io/nkeys';
import { accountJwt, makeUser } from '../helpers/jwt.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { credsOpts, mustConnect, refused, roundTrip } from '../helpers/operator-client.js';
import { hasReference } from '../helpers/reference.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

for (const kind of KINDS) {
  describe(`operator mode with trusted_keys (${kind})`, () => {
    const op1 = createOperator();
    const op2 = createOperator();
    const stranger = createOperator();
    const a = createAccount();
    const b = createAccount();
    const alien = createAccount();
    let server: Launched;

    before(async () => {
      const config = `trusted_keys: [${op1.getPublicKey()}, ${op2.getPublicKey()}]
resolver: MEMORY
resolver_preload: {
  ${a.getPublicKey()}: ${accountJwt(a, op1, { exports: [{ name: 's', subject: 's.>', type: 'stream' }] })}
  ${b.getPublicKey()}: ${accountJwt(b, op2, {
    imports: [{ name: 's', subject: 's.>', account: a.getPublicKey(), type: 'stream' }],
  })}
  ${alien.getPublicKey()}: ${accountJwt(alien, stranger)}
}
`;
      server = await launch({ kind, config });
    });
    after(async () => {
      await server.stop();
    });

    test('users of accounts signed by either trusted key log in, and the accounts work together', async () => {
      const ua = await mustConnect(server.url, credsOpts(makeUser(a).creds));
      const ub = await mustConnect(server.url, credsOpts(makeUser(b).creds));
      try {
        assert.equal(await roundTrip(ua, ub, 's.x'), true, 'stream import between the accounts');
        assert.equal(await roundTrip(ua, ub, 'other'), false, 'accounts isolated');
      } finally {
        await ua.close();
        await ub.close();
      }
    });

    test('an account signed by another operator, and clients without a user JWT, are refused', async () => {
      assert.match(await refused(server.url, credsOpts(makeUser(alien).creds)), /Authorization Violation/i);
      assert.match(await refused(server.url, {}), /Authorization Violation/i);
    });
  });
}
