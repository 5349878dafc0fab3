/**
 * Durable subscription that resumes where it left off (what NATS Streaming called a durable name):
 * a named pull consumer keeps its position on the server, so a worker that goes away and comes back
 * (here: closes its connection and opens a new one) continues with the first message it did not
 * acknowledge.
 *
 *   npm run build && ./bin/tsnats -js &
 *   node dist/examples/durable.js            # NATS_URL=nats://host:port to point it elsewhere
 */
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Process up to `max` messages of the durable consumer "audit" on a fresh connection. */
async function session(name: string, max: number): Promise<void> {
  const nc = await connect({ servers: url });
  const js = jetstream(nc);
  const consumer = await js.consumers.get('ORDERS', 'audit');
  const batch = await consumer.fetch({ max_messages: max, expires: 1000 });
  for await (const m of batch) {
    console.log(`[${name}] #${m.seq} ${m.string()}`);
    await m.ackAck();
  }
  await nc.close();
}

async function main(): Promise<void> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete('ORDERS').catch(() => false);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  const js = jetstream(nc);
  for (let i = 1; i <= 5; i++) await js.publish('orders.new', `order ${i}`);
  await jsm.consumers.add('ORDERS', { durable_name: 'audit', ack_policy: AckPolicy.Explicit });

  await session('first run', 3);
  console.log('worker gone; 2 more orders arrive');
  for (let i = 6; i <= 7; i++) await js.publish('orders.new', `order ${i}`);
  await session('second run', 10);

  const info = await jsm.consumers.info('ORDERS', 'audit');
  console.log(`acknowledged up to #${info.ack_floor.stream_seq}, ${info.num_pending} left`);
  await jsm.streams.delete('ORDERS');
  await nc.close();
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
