/**
 * The classic NATS client walkthrough (as in the nats.js README), run against tsnats:
 * connect, auto-unsubscribe after two messages, a queue-group responder, a request with a timeout,
 * unsubscribe, then drain and close.
 *
 *   npm run build && ./bin/tsnats &
 *   node dist/examples/classic.js            # NATS_URL=nats://host:port to point it elsewhere
 */
import { connect, type Msg, RequestError } from '@nats-io/transport-node';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

async function main(): Promise<void> {
  const nc = await connect({ servers: url });
  console.log(`connected to ${nc.getServer()}`);

  // A subscription that unsubscribes itself after two messages: the third is never delivered.
  const greetings = nc.subscribe('greeting', { max: 2 });
  const done = (async () => {
    for await (const m of greetings) {
      console.log(`[greeting #${greetings.getProcessed()}] ${m.string()}`);
    }
  })();
  for (let i = 1; i <= 3; i++) nc.publish('greeting', `hello ${i}`);
  await done; // the iterator ends once the subscription reached its max
  console.log(`greeting subscription closed after ${greetings.getProcessed()} of 3 messages`);

  // A responder in queue group "workers": each request is handled by one member of the group.
  const responder = nc.subscribe('help', {
    queue: 'workers',
    callback: (err: Error | null, m: Msg) => {
      if (err) {
        console.error(`responder error: ${err.message}`);
        return;
      }
      console.log(`[workers] got request: ${m.string()}`);
      m.respond('I can help!');
    },
  });

  // A request that must be answered within 200 ms.
  const reply = await nc.request('help', 'need help', { timeout: 200 });
  console.log(`reply: ${reply.string()}`);

  // Without the responder nobody is listening: the server says so at once.
  responder.unsubscribe();
  try {
    await nc.request('help', 'anyone?', { timeout: 200 });
    console.log('unexpected reply after unsubscribe');
  } catch (err) {
    const noResponders = err instanceof RequestError && err.isNoResponders();
    console.log(`after unsubscribe: ${noResponders ? 'no responders' : `error ${(err as Error).message}`}`);
  }

  // Drain: let everything in flight finish, then close.
  await nc.drain();
  console.log('drained and closed');
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
