/**
 * The "Basic Usage" program of the node-nats-streaming README, unchanged in what it does, run against
 * tsnats: connect to the streaming cluster `test-cluster` as client `test`, publish "Hello
 * node-nats-streaming!" on channel `foo`, subscribe starting with the last received message, print it,
 * unsubscribe and close. (The README unsubscribes after one second; here it does so once the message is
 * in, so the output is the same every run.)
 *
 *   npm run build && ./bin/tsnats -cid test-cluster -st file --dir /tmp/stan &
 *   node dist/examples/streaming.js          # NATS_URL=nats://host:port, STAN_CLUSTER=<id> to change
 */
import * as stan from 'node-nats-streaming';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const clusterId = process.env.STAN_CLUSTER ?? 'test-cluster';

const sc = stan.connect(clusterId, 'test', { url, reconnect: false });

sc.on('connect', () => {
  // Simple Publisher (all publishes are async in the node version of the client)
  sc.publish('foo', 'Hello node-nats-streaming!', (err, guid) => {
    if (err) {
      console.log(`publish failed: ${String(err)}`);
    } else {
      console.log(`published message with guid: ${guid}`);
    }
  });

  // Subscriber can specify how many existing messages to get.
  const opts = sc.subscriptionOptions().setStartWithLastReceived();
  const subscription = sc.subscribe('foo', opts);
  subscription.on('message', (msg: stan.Message) => {
    console.log(`Received a message [${msg.getSequence()}] ${String(msg.getData())}`);
    // Unsubscribe, when that is done, close the connection.
    subscription.unsubscribe();
    subscription.on('unsubscribed', () => {
      sc.close();
    });
  });
});

sc.on('error', (err: unknown) => {
  process.stderr.write(`error: ${String(err)}\n`);
  process.exit(1);
});

sc.on('close', () => {
  process.exit();
});
