/**
 * An at-least-once worker pool: jobs go to a work-queue stream, three workers pull from one durable
 * consumer, and a job is removed from the stream when a worker acknowledges it. A worker that takes a
 * job and dies without acknowledging it does not lose the job: after ack_wait the server redelivers it
 * to another worker.
 *
 *   npm run build && ./bin/tsnats -js &
 *   node dist/examples/worker-pool.js        # NATS_URL=nats://host:port to point it elsewhere
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const JOBS = 9;

async function main(): Promise<void> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete('JOBS').catch(() => false);
  await jsm.streams.add({ name: 'JOBS', subjects: ['jobs.>'], retention: RetentionPolicy.Workqueue });
  await jsm.consumers.add('JOBS', {
    durable_name: 'workers',
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(500),
  });
  const js = jetstream(nc);
  for (let i = 1; i <= JOBS; i++) await js.publish('jobs.resize', `image-${i}.png`);
  console.log(`queued ${JOBS} jobs`);

  const done = new Map<string, string>();
  let crashed = false;
  const worker = async (name: string): Promise<void> => {
    // Each worker has its own connection, as separate processes would.
    const wc = await connect({ servers: url });
    const consumer = await jetstream(wc).consumers.get('JOBS', 'workers');
    while (done.size < JOBS) {
      const m = await consumer.next({ expires: 1000 });
      if (m === null) continue;
      const job = m.string();
      if (name === 'w2' && !crashed) {
        // w2 dies holding its first job: no ack, so the server will hand it out again.
        crashed = true;
        console.log(`w2 crashed while working (job redelivered later)`);
        await wc.close();
        return;
      }
      await m.ackAck();
      if (m.redelivered) console.log(`redelivered job finished by a surviving worker`);
      if (done.has(job)) console.log(`${job} was done twice!`);
      done.set(job, name);
    }
    await wc.close();
  };
  // w2 starts first (and crashes on its first job), then the two others share the rest.
  await worker('w2');
  await Promise.all([worker('w1'), worker('w3')]);

  const counts = new Map<string, number>();
  for (const w of done.values()) counts.set(w, (counts.get(w) ?? 0) + 1);
  console.log(`all ${done.size} jobs done exactly once`);
  console.log(`w2 finished ${counts.get('w2') ?? 0} jobs`);
  const si = await jsm.streams.info('JOBS');
  console.log(`jobs left in the queue: ${si.state.messages}`);
  await jsm.streams.delete('JOBS');
  await nc.close();
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
