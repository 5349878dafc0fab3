/**
 * inactive_threshold (nats-server's dtmr and deleteNotActive): a consumer nobody uses for that long is
 * deleted. Push consumers count down while their deliver subject has no interest; pull consumers from
 * their last activity (a request, a delivery, an ack) while no request waits. Acks count as activity.
 */
import { type ConsumerConfig, DELETE_WAIT_DEFAULT, isDurable } from './config.js';
import type { Consumer } from './consumer.js';

export class Inactivity {
  private dtmr: NodeJS.Timeout | undefined;
  private dthresh = 0;

  constructor(private readonly c: Consumer) {}

  /** The inactivity threshold in ms, jitter included (0 = never deleted for inactivity). */
  get threshold(): number {
    return this.dthresh;
  }

  /** nats-server's updateInactiveThreshold: ephemerals always have one (5s by default, plus jitter). */
  configure(cfg: ConsumerConfig): void {
    const pull = cfg.deliver_subject === '';
    if (!isDurable(cfg) && cfg.inactive_threshold <= 0) {
      this.dthresh = DELETE_WAIT_DEFAULT / 1e6 + 100 + Math.floor(Math.random() * 900);
      cfg.inactive_threshold = DELETE_WAIT_DEFAULT;
    } else if (cfg.inactive_threshold > 0) {
      this.dthresh = cfg.inactive_threshold / 1e6 + (pull ? 100 + Math.floor(Math.random() * 900) : 0);
    } else {
      this.dthresh = 0;
    }
  }

  /** An update changed inactive_threshold: start over with the new one. */
  reconfigure(next: ConsumerConfig): void {
    this.configure(next);
    this.clear();
    if (this.dthresh > 0) this.arm(this.dthresh);
  }

  /** The consumer starts: pull consumers, and push consumers without interest, start counting down. */
  start(): void {
    const c = this.c;
    if (this.dthresh > 0 && (!c.isPush || !c.push.active)) this.arm(this.dthresh);
  }

  /** Push: the deliver subject gained or lost interest (the tail of nats-server's updateDeliveryInterest). */
  interestChanged(interest: boolean): void {
    if (this.dtmr !== undefined && this.dthresh > 0 && !interest) return;
    this.clear();
    if (!interest && this.dthresh > 0) this.arm(this.dthresh);
  }

  /** An ack counts as activity (nats-server's suppressDeletion). */
  suppressDeletion(): void {
    const c = this.c;
    if (c.closed) return;
    if (c.isPush) {
      if (this.dtmr !== undefined) this.arm(this.dthresh);
    } else {
      c.pull.last = Date.now();
    }
  }

  /** The consumer stops. */
  stop(): void {
    this.clear();
  }

  private arm(ms: number): void {
    this.clear();
    this.dtmr = setTimeout(
      () => {
        this.dtmr = undefined;
        this.deleteNotActive();
      },
      Math.max(1, ms),
    );
    this.dtmr.unref();
  }

  private clear(): void {
    if (this.dtmr !== undefined) clearTimeout(this.dtmr);
    this.dtmr = undefined;
  }

  /** nats-server's deleteNotActive. */
  private deleteNotActive(): void {
    const c = this.c;
    if (c.closed) return;
    if (c.isPush) {
      if (c.push.active) return;
    } else {
      const elapsed = Date.now() - c.pull.last;
      if (elapsed <= c.cfg.inactive_threshold / 1e6) {
        this.arm(this.dthresh - elapsed);
        return;
      }
      c.pull.processWaiting(true);
      if (c.pull.hasWaiting) {
        this.arm(this.dthresh);
        return;
      }
    }
    c.delete();
  }
}
