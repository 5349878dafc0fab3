/**
 * A consumer's advisories and metrics (nats-server's sendAdvisory and friends): created/deleted, NAK,
 * TERM, max deliveries, sampled ack latency. Published only when someone listens on the subject.
 */

import { textToWire } from '../../routing/subject-text.js';
import { goJson } from '../api/json.js';
import { nowNanos } from '../store/store.js';
import { rfc3339Nano } from '../time.js';
import { sampleFrequency } from './config.js';
import type { Consumer } from './consumer.js';
import type { PendingDelivery } from './store.js';
import { randomToken } from './token.js';

export class Advisories {
  /** sample_freq as a percentage (0 = no ack metrics). */
  sfreq: number;

  constructor(private readonly c: Consumer) {
    this.sfreq = sampleFrequency(c.cfg);
  }

  private event(type: string): { type: string; id: string; timestamp: string } {
    return { type, id: randomToken(22), timestamp: rfc3339Nano(nowNanos()) };
  }

  private domain(): { domain?: string } {
    return this.c.jsa.domain !== '' ? { domain: this.c.jsa.domain } : {};
  }

  private send(subject: string, body: object): void {
    const c = this.c;
    if (!c.acc.sublist.hasInterest(subject)) return;
    c.hub.publish(c.acc, textToWire(subject), null, Buffer.from(goJson(body), 'utf8'));
  }

  /** The consumer was created or deleted (not for internal "direct" consumers). */
  action(action: 'create' | 'delete'): void {
    const c = this.c;
    if (c.cfg.direct) return;
    const pre = action === 'create' ? 'CREATED' : 'DELETED';
    this.send(`$JS.EVENT.ADVISORY.CONSUMER.${pre}.${c.stream.name}.${c.name}`, {
      ...this.event('io.nats.jetstream.advisory.v1.consumer_action'),
      stream: c.stream.name,
      consumer: c.name,
      action,
      ...this.domain(),
    });
  }

  /** A delivery was NAKed. */
  nak(sseq: number, dseq: number, dc: number): void {
    const c = this.c;
    this.send(`$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.${c.stream.name}.${c.name}`, {
      ...this.event('io.nats.jetstream.advisory.v1.nak'),
      stream: c.stream.name,
      consumer: c.name,
      consumer_seq: dseq,
      stream_seq: sseq,
      deliveries: dc,
      ...this.domain(),
    });
  }

  /** A delivery was terminated (+TERM, or its message left the stream). */
  terminated(sseq: number, dseq: number, dc: number): void {
    const c = this.c;
    this.send(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${c.stream.name}.${c.name}`, {
      ...this.event('io.nats.jetstream.advisory.v1.terminated'),
      stream: c.stream.name,
      consumer: c.name,
      consumer_seq: dseq,
      stream_seq: sseq,
      deliveries: dc,
      ...this.domain(),
    });
  }

  /** nats-server's notifyDeliveryExceeded: message `sseq` reached max_deliver. */
  deliveryExceeded(sseq: number, dc: number): void {
    const c = this.c;
    this.send(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${c.stream.name}.${c.name}`, {
      ...this.event('io.nats.jetstream.advisory.v1.max_deliver'),
      stream: c.stream.name,
      consumer: c.name,
      stream_seq: sseq,
      deliveries: dc,
      ...this.domain(),
    });
  }

  /** nats-server's sampleAck: the ack latency metric, for `sfreq` percent of the acks. */
  sampleAck(sseq: number, dseq: number, dc: number, p: PendingDelivery): void {
    if (this.sfreq <= 0) return;
    if (this.sfreq < 100 && Math.floor(Math.random() * 100) > this.sfreq) return;
    const c = this.c;
    this.send(`$JS.EVENT.METRIC.CONSUMER.ACK.${c.stream.name}.${c.name}`, {
      ...this.event('io.nats.jetstream.metric.v1.consumer_ack'),
      stream: c.stream.name,
      consumer: c.name,
      consumer_seq: dseq,
      stream_seq: sseq,
      ack_time: (Date.now() - p.ts) * 1e6,
      deliveries: dc,
      ...this.domain(),
    });
  }
}
