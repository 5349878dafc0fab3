/**
 * Stream catch-up outside Raft (docs/design/jetstream-replication.md §3.4-3.7): a replica that lacks
 * messages the leader's snapshot covers asks for them on the assignment's `$JSC.SYNC.<x>` subject with
 * `{"peer","first_seq","last_seq"}` and a `$JSC.R.<x>` reply inbox. The leader sends each message as a
 * streamMsgOp record whose lseq is the message's own sequence (a missing sequence as a skip record), each
 * with a reply `$JSC.ACK.<x>.<bytes>` the replica answers with an empty message (flow control), and an
 * empty message at the end (EOF). A non-empty answer aborts.
 */
import { randomToken8 } from '../../raft/ids.js';
import type { Subscription } from '../../server/subscription.js';
import type { Stream } from '../stream.js';
import type { ClusterContext } from './context.js';
import { decodeStreamMsg, encodeStreamMsg } from './entries.js';

/** nats-server's catch-up window: bytes and messages in flight per catch-up. */
const MAX_OUT_BYTES = 8 * 1024 * 1024;
const MAX_OUT_MSGS = 32_768;
/** The leader gives up on a catch-up that has not been acknowledged for this long. */
const SERVER_IDLE = 5000;
/** The replica asks again when nothing arrived for this long. */
const FOLLOWER_STALL = 10_000;

const EMPTY = Buffer.alloc(0);

interface Session {
  reply: string;
  next: number;
  last: number;
  outBytes: number;
  outMsgs: number;
  ackSub: Subscription;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

/** The leader's side: answers sync requests while this server leads the stream. */
export class CatchupServer {
  private readonly sub: Subscription | undefined;
  private readonly sessions = new Set<Session>();

  constructor(
    private readonly ctx: ClusterContext,
    private readonly stream: Stream,
    syncSubject: string,
  ) {
    if (syncSubject === '') return;
    this.sub = ctx.core.subscribeInternal(ctx.sys, syncSubject, (_s, reply, hdr, buf, start, size) => {
      if (reply === '') return;
      const body = buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size);
      let req: { first_seq?: number; last_seq?: number };
      try {
        req = JSON.parse(body) as typeof req;
      } catch {
        return;
      }
      this.start(reply, req.first_seq ?? 0, req.last_seq ?? 0);
    });
  }

  private start(reply: string, first: number, last: number): void {
    const st = this.stream.state();
    if (first < st.firstSeq && st.firstSeq > last) first = st.firstSeq;
    if (first < st.firstSeq) first = Math.max(first, 1);
    const token = randomToken8();
    const session: Session = {
      reply,
      next: first,
      last: Math.min(last, st.lastSeq),
      outBytes: 0,
      outMsgs: 0,
      ackSub: undefined as unknown as Subscription,
      timer: undefined,
      done: false,
    };
    session.ackSub = this.ctx.core.subscribeInternal(
      this.ctx.sys,
      `$JSC.ACK.${token}.*`,
      (subject, _r, hdr, _b, _st, size) => {
        const payload = hdr > 0 ? size - hdr : size;
        if (payload > 0) {
          this.ctx.log('warn', `Catchup for stream '${this.stream.name}' aborted on the remote`);
          this.finish(session);
          return;
        }
        const n = Number(subject.slice(subject.lastIndexOf('.') + 1));
        session.outBytes -= Number.isFinite(n) ? n : 0;
        session.outMsgs--;
        this.pump(session, token);
      },
    );
    this.sessions.add(session);
    // The ack subscription's interest must reach the routes before the first message goes out.
    queueMicrotask(() => this.pump(session, token));
  }

  private pump(s: Session, token: string): void {
    if (s.done) return;
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = setTimeout(() => this.finish(s), SERVER_IDLE);
    s.timer.unref();
    const store = this.stream.store;
    const d = this.ctx.core.delivery;
    while (s.next <= s.last && s.outBytes <= MAX_OUT_BYTES && s.outMsgs <= MAX_OUT_MSGS) {
      const seq = s.next++;
      const m = store.loadMsg(seq);
      const rec =
        m === undefined
          ? encodeStreamMsg({ subject: '', reply: '', hdr: EMPTY, msg: EMPTY, lseq: seq, ts: 0n })
          : encodeStreamMsg({ subject: m.subject, reply: '', hdr: m.hdr, msg: m.data, lseq: seq, ts: m.ts });
      s.outBytes += rec.length;
      s.outMsgs++;
      d.deferToOthers(this.ctx.sys, s.reply, `$JSC.ACK.${token}.${rec.length}`, rec);
    }
    if (s.next > s.last) {
      // Everything is on its way: the end marker follows the last message.
      d.deferToOthers(this.ctx.sys, s.reply, '', EMPTY);
      this.finish(s);
    }
  }

  private finish(s: Session): void {
    if (s.done) return;
    s.done = true;
    if (s.timer !== undefined) clearTimeout(s.timer);
    // Acks still in flight find no subscription: harmless.
    this.ctx.core.unsubscribeInternal(this.ctx.sys, s.ackSub);
    this.sessions.delete(s);
  }

  stop(): void {
    if (this.sub !== undefined) this.ctx.core.unsubscribeInternal(this.ctx.sys, this.sub);
    for (const s of [...this.sessions]) this.finish(s);
  }
}

/** The replica's side: ask, store what arrives, acknowledge, finish on EOF or the last sequence. */
export class CatchupFollower {
  private sub: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    private readonly stream: Stream,
    private readonly syncSubject: string,
    first: number,
    private readonly last: number,
    private readonly done: (ok: boolean) => void,
  ) {
    if (syncSubject === '') {
      queueMicrotask(() => this.finish(false));
      return;
    }
    this.request(first);
  }

  private request(first: number): void {
    if (this.sub !== undefined) this.ctx.core.unsubscribeInternal(this.ctx.sys, this.sub);
    const inbox = `$JSC.R.${randomToken8()}`;
    this.sub = this.ctx.core.subscribeInternal(this.ctx.sys, inbox, (_s, reply, hdr, buf, start, size) =>
      this.onMsg(reply, Buffer.from(buf.subarray(hdr > 0 ? start + hdr : start, start + size))),
    );
    const req = { peer: this.ctx.selfId, first_seq: first, last_seq: this.last };
    this.ctx.core.delivery.deferToOthers(
      this.ctx.sys,
      this.syncSubject,
      inbox,
      Buffer.from(JSON.stringify(req)),
    );
    this.armStall();
  }

  private armStall(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.request(this.stream.lastSeq + 1);
    }, FOLLOWER_STALL);
    this.timer.unref();
  }

  private onMsg(reply: string, data: Buffer): void {
    if (this.stopped) return;
    if (data.length === 0) {
      this.finish(true);
      return;
    }
    let seq = 0;
    try {
      const m = decodeStreamMsg(data);
      seq = m.lseq;
      this.stream.storeCatchupMsg(m.lseq, m.subject, m.hdr, m.msg, m.ts);
    } catch (e) {
      if (reply !== '') {
        this.ctx.core.delivery.deferToOthers(this.ctx.sys, reply, '', Buffer.from((e as Error).message));
      }
      this.armStall();
      return;
    }
    if (reply !== '') this.ctx.core.delivery.deferToOthers(this.ctx.sys, reply, '', EMPTY);
    this.armStall();
    if (seq >= this.last) this.finish(true);
  }

  private finish(ok: boolean): void {
    if (this.stopped) return;
    this.stop();
    this.done(ok);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.sub !== undefined) this.ctx.core.unsubscribeInternal(this.ctx.sys, this.sub);
  }
}
