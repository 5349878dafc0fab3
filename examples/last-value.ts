/**
 * Last value (NATS Streaming's StartWithLastReceived): a late subscriber first wants the current state.
 * deliver_policy "last" starts with the newest message of the stream (or of its filter subject);
 * "last_per_subject" starts with the newest message of every subject, then follows new ones.
 *
 *   npm run build && ./bin/tsnats -js &
 *   node dist/examples/last-value.js         # NATS_URL=nats://host:port to point it elsewhere
 */
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

async function main(): Promise<void> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete('PRICES').catch(() => false);
  await jsm.streams.add({ name: 'PRICES', subjects: ['prices.>'] });
  const js = jetstream(nc);
  const ticks: [string, string][] = [
    ['prices.btc', '61000'],
    ['prices.eth', '3100'],
    ['prices.btc', '61250'],
    ['prices.sol', '140'],
    ['prices.eth', '3080'],
  ];
  for (const [subject, price] of ticks) await js.publish(subject, price);

  const last = await js.consumers.get('PRICES', { deliver_policy: DeliverPolicy.Last });
  const m = await last.next({ expires: 1000 });
  console.log(`last of the stream: ${m?.subject} ${m?.string()}`);

  const lastBtc = await js.consumers.get('PRICES', {
    deliver_policy: DeliverPolicy.Last,
    filter_subjects: 'prices.btc',
  });
  const b = await lastBtc.next({ expires: 1000 });
  console.log(`last btc: ${b?.string()}`);

  const perSubject = await js.consumers.get('PRICES', { deliver_policy: DeliverPolicy.LastPerSubject });
  const msgs = await perSubject.consume();
  let n = 0;
  for await (const p of msgs) {
    console.log(`current ${p.subject.slice('prices.'.length)}: ${p.string()}`);
    if (++n === 3) await js.publish('prices.sol', '142');
    if (n === 4) break;
  }
  await jsm.streams.delete('PRICES');
  await nc.close();
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
