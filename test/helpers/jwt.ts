/**
 * NATS JWTs for tests, generated at run time: an operator, accounts and users signed with fresh NKeys
 * (nats-io/jwt v2 encoding: base64url header and claims, ed25519 signature over `header.claims`), their
 * `.creds` text, and an operator-mode config that both tsnats and nats-server take.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';

const HEADER = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' })).toString('base64url');

/** Sign `claims` (iss, iat and jti filled in) with `signer`, as jwt.ClaimsData.doEncode does. */
export function signJwt(claims: Record<string, unknown>, signer: KeyPair): string {
  const full = {
    jti: '',
    iat: Math.floor(Date.now() / 1000),
    iss: signer.getPublicKey(),
    ...claims,
  };
  // jwt derives jti from a hash of the claims; any unique value does.
  full.jti = createHash('sha256').update(randomBytes(16)).digest('base64url').slice(0, 52).toUpperCase();
  const body = Buffer.from(JSON.stringify(full)).toString('base64url');
  const sig = Buffer.from(signer.sign(new TextEncoder().encode(`${HEADER}.${body}`))).toString('base64url');
  return `${HEADER}.${body}.${sig}`;
}

export function operatorJwt(op: KeyPair, nats: Record<string, unknown> = {}): string {
  const sub = op.getPublicKey();
  return signJwt({ sub, name: 'OP', nats: { type: 'operator', version: 2, ...nats } }, op);
}

/** The account limits nsc writes (everything unlimited), with some changed. */
export function accountLimits(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subs: -1,
    data: -1,
    payload: -1,
    imports: -1,
    exports: -1,
    wildcards: true,
    conn: -1,
    leaf: -1,
    ...over,
  };
}

export function accountJwt(
  acc: KeyPair,
  signer: KeyPair,
  nats: Record<string, unknown> = {},
  extra = {},
): string {
  const sub = acc.getPublicKey();
  return signJwt(
    {
      sub,
      name: sub.slice(0, 8),
      ...extra,
      nats: {
        limits: accountLimits(),
        default_permissions: { pub: {}, sub: {} },
        type: 'account',
        version: 2,
        ...nats,
      },
    },
    signer,
  );
}

export function userJwt(
  user: KeyPair,
  signer: KeyPair,
  nats: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): string {
  return signJwt(
    {
      sub: user.getPublicKey(),
      name: 'u',
      ...extra,
      nats: { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: 'user', version: 2, ...nats },
    },
    signer,
  );
}

/** The `.creds` file text (nsc's format): the user JWT and the user's seed. */
export function credsText(jwt: string, user: KeyPair): string {
  const seed = new TextDecoder().decode(user.getSeed());
  return `-----BEGIN NATS USER JWT-----
${jwt}
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
${seed}
------END USER NKEY SEED------

*************************************************************
`;
}

/** A user of an account, with its creds. */
export interface TestUser {
  key: KeyPair;
  jwt: string;
  creds: string;
}

export function makeUser(
  signer: KeyPair,
  nats: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): TestUser {
  const key = createUser();
  const jwt = userJwt(key, signer, nats, extra);
  return { key, jwt, creds: credsText(jwt, key) };
}

/** An operator, its system account, accounts A and B (A with a signing key and a revoked user). */
export interface OperatorSetup {
  operator: KeyPair;
  sys: KeyPair;
  a: KeyPair;
  aSigning: KeyPair;
  b: KeyPair;
  revoked: TestUser;
  config: string;
}

export function operatorSetup(): OperatorSetup {
  const operator = createOperator();
  const sys = createAccount();
  const a = createAccount();
  const aSigning = createAccount();
  const b = createAccount();
  const revokedKey = createUser();
  // Issued a minute ago, revoked now: a JWT issued at or before the revocation is refused.
  const revokedJwt = userJwt(revokedKey, a, {}, { iat: Math.floor(Date.now() / 1000) - 60 });
  const revoked = { key: revokedKey, jwt: revokedJwt, creds: credsText(revokedJwt, revokedKey) };
  const opJwt = operatorJwt(operator, { system_account: sys.getPublicKey() });
  const preload: Record<string, string> = {
    [sys.getPublicKey()]: accountJwt(sys, operator),
    [a.getPublicKey()]: accountJwt(a, operator, {
      signing_keys: [aSigning.getPublicKey()],
      revocations: { [revokedKey.getPublicKey()]: Math.floor(Date.now() / 1000) },
    }),
    [b.getPublicKey()]: accountJwt(b, operator),
  };
  const config = `operator: ${opJwt}
system_account: ${sys.getPublicKey()}
resolver: MEMORY
resolver_preload: {
${Object.entries(preload)
  .map(([k, v]) => `  ${k}: ${v}`)
  .join('\n')}
}
`;
  return { operator, sys, a, aSigning, b, revoked, config };
}
