/**
 * The errors of NATS Streaming: the texts nats-streaming-server answers with (clients show them as they
 * are), and the setup error a user can fix.
 */

/** A streaming setting that cannot work (no JetStream, clustered JetStream): the user can fix it. */
export class StreamingSetupError extends Error {}

/** nats-streaming-server's error texts (server.go), which clients show as they are. */
export const StanError = {
  InvalidSubject: 'stan: invalid subject',
  InvalidStart: 'stan: invalid start position',
  InvalidSub: 'stan: invalid subscription',
  InvalidClient: 'stan: clientID already registered',
  MissingClient: 'stan: clientID missing',
  InvalidClientID: 'stan: invalid clientID: only alphanumeric and `-` or `_` characters allowed',
  InvalidAckWait: 'stan: invalid ack wait time, should be >= 1s',
  InvalidMaxInflight: 'stan: invalid MaxInflight, should be >= 1',
  InvalidConnReq: 'stan: invalid connection request',
  InvalidPubReq: 'stan: invalid publish request',
  InvalidSubReq: 'stan: invalid subscription request',
  InvalidUnsubReq: 'stan: invalid unsubscribe request',
  InvalidCloseReq: 'stan: invalid close request',
  DupDurable: 'stan: duplicate durable registration',
  InvalidDurName: "stan: durable name of a durable queue subscriber can't contain the character ':'",
  UnknownClient: 'stan: unknown clientID',
  UnknownChannel: 'stan: unknown channel',
  TooManyChannels: 'too many channels',
  TooManySubs: 'too many subscriptions per channel',
  PingUnknownClient: 'client has been replaced or is no longer registered',
} as const;
