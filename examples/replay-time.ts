/**
 * Replay from a point in time (NATS Streaming's StartAtTime): the stream keeps every message, and a
 * consumer created with deliver_policy "by_start_time" starts at the first message stored at or after
 * that time. With replay_policy "original" the messages also come with the gaps they were published
 * with.
 *
 *   npm run build && ./bin/tsnats -js &
 *   node dist/examples/replay-time.js        # NATS_URL=nats://host:port to point it elsewhere
 */
import { DeliverPolicy, jetstream, jetstreamManager, ReplayPolicy } from '@nats-io/jetstream';
import { connect, createInbox } from '@nats-io/transport-node';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete('SENSORS').catch(() => false);
  await jsm.streams.add({ name: 'SENSORS', subjects: ['sensors.>'] });
  const js = jetstream(nc);

  await js.publish('sensors.temp', '18.5');
  await js.publish('sensors.temp', '18.7');
  await sleep(50);
  const since = new Date();
  console.log('-- checkpoint --');
  await sleep(50);
  for (const v of ['19.1', '19.4', '20.0']) {
    await js.publish('sensors.temp', v);
    await sleep(200);
  }

  // An ordered consumer starting at the checkpoint.
  const oc = await js.consumers.get('SENSORS', { opt_start_time: since.toISOString() });
  for await (const m of await oc.fetch({ max_messages: 3, expires: 2000 })) {
    console.log(`since checkpoint: #${m.seq} ${m.string()}`);
  }

  // A push consumer replaying at the original pace: about 200 ms between readings.
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, { max: 3 });
  await jsm.consumers.add('SENSORS', {
    deliver_subject: inbox,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: since.toISOString(),
    replay_policy: ReplayPolicy.Original,
  });
  let last = 0;
  for await (const m of sub) {
    const now = Date.now();
    const paced = last === 0 || now - last >= 150;
    console.log(`replayed ${m.string()}${paced ? '' : ' (too early!)'}`);
    last = now;
  }
  await jsm.streams.delete('SENSORS');
  await nc.close();
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
