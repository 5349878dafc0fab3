/**
 * NATS Streaming (the legacy STAN client protocol, nats-streaming-server's server.go) served in-process
 * on JetStream storage. Clients discover the server on `_STAN.discover.<cluster_id>` and get the
 * subjects of its publish, subscribe, unsubscribe, sub-close, close and ping handlers; every handler is an
 * in-process subscription in the global account, answering through the deferred publish (the re-entrancy
 * rule of delivery.ts).
 *
 * - channels are JetStream streams, one per channel, created on first use with the channel limits
 *   (names.ts); a PubAck goes out once the stream has stored the message;
 * - subscriptions and their delivery rules live in channel.ts / subscription.ts;
 * - clients are heartbeated (hb_interval, hb_timeout, hb_fail_count) and dropped when they stop
 *   answering; a connect with a client ID in use is refused while the first client still answers;
 * - clients, subscriptions and positions are records in a state stream (state.ts), read back at start.
 */
import type { JsAccount } from '../jetstream/account.js';
import { isApiError } from '../jetstream/config.js';
import type { JetStream } from '../jetstream/jetstream.js';
import { nowNanos } from '../jetstream/store/store.js';
import { isValidLiteralSubject } from '../routing/subject.js';
import type { Account } from '../server/account.js';
import type { ServerCore } from '../server/core.js';
import type { StreamingOptions } from '../server/options.js';
import type { Subscription } from '../server/subscription.js';
import { nuid } from '../util/nuid.js';
import { Channel, type ChannelHost } from './channel.js';
import type { ClientRecord, StanClient } from './client.js';
import { StanError, StreamingSetupError } from './errors.js';
import {
  channelStreamName,
  channelSubject,
  channelSubjectPrefix,
  DISCOVER_PREFIX,
  streamConfig,
} from './names.js';
import {
  decodeAck,
  decodeCloseRequest,
  decodeConnectRequest,
  decodePing,
  decodePubMsg,
  decodeSubscriptionRequest,
  decodeUnsubscribeRequest,
  encodeCloseResponse,
  encodeConnectResponse,
  encodePingResponse,
  encodePubAck,
  encodeSubscriptionResponse,
  StartPosition,
  type SubscriptionRequest,
} from './proto.js';
import { Requester } from './requester.js';
import { StateStore } from './state.js';
import { durableKey, type SubRecord, SubState } from './subscription.js';

const CLIENT_ID_RE = /^[a-zA-Z0-9_-]+$/;
const PROTOCOL_ONE = 1;
/** How long a connect with a client ID in use waits for the first client's heartbeat answer. */
const DUP_CID_TIMEOUT = 500;
const EMPTY = Buffer.alloc(0);

/** The subjects this server answers on (persisted: online clients keep using them across restarts). */
export interface ServerInfo {
  clusterId: string;
  discovery: string;
  publish: string;
  subscribe: string;
  unsubscribe: string;
  subClose: string;
  close: string;
  acks: string;
}

/** Counters for /streaming/serverz. */
export interface StreamingStats {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
}

export class Streaming implements ChannelHost {
  readonly clusterId: string;
  readonly serverId = nuid();
  readonly startTime = new Date();
  readonly storeType: 'file' | 'memory';
  readonly clients = new Map<string, StanClient>();
  readonly channels = new Map<string, Channel>();
  readonly stats: StreamingStats = { inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0 };
  info!: ServerInfo;
  private readonly byConnId = new Map<string, StanClient>();
  /** Channel by stream name: two channels may not share a stream (names.ts). */
  private readonly byStream = new Map<string, string>();
  private readonly account: Account;
  private jsa!: JsAccount;
  private state!: StateStore;
  private readonly internalSubs: Subscription[] = [];
  private nextSubId = 1;
  /** Client IDs whose duplicate check is under way. */
  private readonly dupChecks = new Set<string>();
  /** Heartbeats and duplicate checks: requests to clients' heartbeat inboxes. */
  private readonly requester = new Requester((subject, reply) => this.send(subject, EMPTY, reply));
  private stopped = false;

  constructor(
    private readonly core: ServerCore,
    private readonly js: JetStream,
    readonly options: StreamingOptions,
  ) {
    this.clusterId = options.clusterId;
    this.account = core.globalAccount;
    this.storeType = options.store ?? (core.options.jetstream?.storeDir !== '' ? 'file' : 'memory');
  }

  /** Open the state and the channels, recover clients and subscriptions, and start answering. */
  start(): void {
    const log = this.core.logger;
    if (this.js.cluster !== undefined) {
      throw new StreamingSetupError(
        'NATS Streaming is not supported with clustered JetStream (run it on a standalone server)',
      );
    }
    const jsa = this.js.lookupAccount(this.account.name);
    if (jsa === undefined) {
      throw new StreamingSetupError(
        `NATS Streaming needs JetStream enabled in account "${this.account.name}"`,
      );
    }
    this.jsa = jsa;
    log.notice(
      `Starting NATS Streaming, cluster ID "${this.clusterId}" (store: JetStream ${this.storeType})`,
    );
    this.state = new StateStore(jsa, this.clusterId, this.storeType);
    this.recover();
    const i = this.info;
    this.listen(i.discovery, (_s, reply, data) => this.onConnect(reply, data));
    this.listen(`${i.discovery}.pings`, (_s, reply, data) => this.onPing(reply, data));
    this.listen(`${i.publish}.>`, (_s, reply, data) => this.onPublish(reply, data));
    this.listen(i.subscribe, (_s, reply, data) => this.onSubscribe(reply, data));
    this.listen(i.unsubscribe, (_s, reply, data) => this.onUnsubscribe(reply, data, false));
    this.listen(i.subClose, (_s, reply, data) => this.onUnsubscribe(reply, data, true));
    this.listen(i.close, (_s, reply, data) => this.onClose(reply, data));
    this.listen(`${i.acks}.>`, (subject, _r, data) => this.onAck(subject, data));
    this.listen(`${this.requester.prefix}>`, (subject) => this.requester.onReply(subject));
    for (const c of this.clients.values()) this.startHeartbeat(c);
    for (const ch of this.channels.values()) ch.deliverAll();
    log.notice(
      `NATS Streaming ready: ${this.channels.size} channel(s), ${this.clients.size} client(s) recovered; discover on "${i.discovery}"`,
    );
  }

  /** Stop answering; write what is scheduled. The data stays. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.internalSubs) this.core.unsubscribeInternal(this.account, s);
    this.internalSubs.length = 0;
    for (const c of this.clients.values()) if (c.hbTimer !== undefined) clearTimeout(c.hbTimer);
    this.requester.stop();
    for (const ch of this.channels.values()) ch.stop();
    this.state?.flush();
  }

  private listen(subject: string, handler: (subject: string, reply: string, data: Buffer) => void): void {
    const sub = this.core.subscribeInternal(this.account, subject, (subj, reply, hdr, buf, start, size) => {
      const data = Buffer.from(buf.subarray(start + Math.max(hdr, 0), start + size));
      try {
        handler(subj, reply, data);
      } catch (e) {
        this.core.logger.error(`NATS Streaming: error handling a message on "${subj}": ${String(e)}`);
      }
    });
    this.internalSubs.push(sub);
  }

  // ---- ChannelHost -------------------------------------------------------------------------------------

  send(subject: string, data: Buffer, reply = ''): void {
    if (subject === '') return;
    this.core.delivery.defer(this.account, subject, reply, null, data);
  }

  saveSub(sub: SubState): void {
    this.state.schedule(`sub.${sub.id}`, () => sub.record());
  }

  deleteSub(sub: SubState): void {
    this.state.remove(`sub.${sub.id}`);
  }

  clientKnown(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  countOut(bytes: number): void {
    this.stats.outMsgs++;
    this.stats.outBytes += bytes;
  }

  maybeInactive(channel: Channel): void {
    const max = this.options.maxInactivity;
    if (max <= 0 || this.stopped) return;
    if (channel.inactivityTimer !== undefined) clearTimeout(channel.inactivityTimer);
    const check = (): void => {
      channel.inactivityTimer = undefined;
      if (this.stopped || this.channels.get(channel.name) !== channel || channel.hasSubs()) return;
      const idle = Date.now() - channel.lastActivity;
      if (idle < max) {
        channel.inactivityTimer = setTimeout(check, max - idle);
        channel.inactivityTimer.unref();
        return;
      }
      this.deleteChannel(channel);
    };
    channel.inactivityTimer = setTimeout(check, max);
    channel.inactivityTimer.unref();
  }

  private deleteChannel(channel: Channel): void {
    this.core.logger.notice(`NATS Streaming: channel "${channel.name}" has been inactive, deleting it`);
    channel.stop();
    this.channels.delete(channel.name);
    this.byStream.delete(channel.stream.name);
    this.jsa.deleteStream(channel.stream);
  }

  // ---- channels ----------------------------------------------------------------------------------------

  /** The channel, created (with its stream) on first use; an error text when it cannot be. */
  lookupOrCreateChannel(name: string): Channel | string {
    const existing = this.channels.get(name);
    if (existing !== undefined) return existing;
    const o = this.options;
    if (o.maxChannels > 0 && this.channels.size >= o.maxChannels) return StanError.TooManyChannels;
    const streamName = channelStreamName(this.clusterId, name);
    const other = this.byStream.get(streamName);
    if (other !== undefined) {
      return `stan: channel "${name}" would share stream "${streamName}" with channel "${other}"`;
    }
    const stream = this.jsa.addStream(
      streamConfig({
        name: streamName,
        description: `NATS Streaming channel ${name}`,
        subjects: [channelSubject(this.clusterId, name)],
        storage: this.storeType,
        max_msgs: o.maxMsgs > 0 ? o.maxMsgs : -1,
        // Not max_bytes: JetStream reserves a stream's max_bytes against the server's storage, so 100
        // channels of 1 GB would not fit where nats-streaming-server takes them; openChannel applies it.
        max_age: o.maxAge > 0 ? o.maxAge * 1e6 : 0,
        discard: 'old',
      }),
    );
    if (isApiError(stream)) return `stan: cannot create channel "${name}": ${stream.description}`;
    return this.openChannel(name, stream);
  }

  private openChannel(name: string, stream: Channel['stream']): Channel {
    // The channel limits in force are the server's current ones, also for channels created before.
    const o = this.options;
    stream.store.updateLimits({
      maxMsgs: o.maxMsgs > 0 ? o.maxMsgs : -1,
      maxBytes: o.maxBytes > 0 ? o.maxBytes : -1,
      maxAge: o.maxAge > 0 ? o.maxAge : 0,
      maxMsgsPerSubject: -1,
    });
    const ch = new Channel(this, name, stream);
    this.channels.set(name, ch);
    this.byStream.set(stream.name, name);
    this.maybeInactive(ch);
    return ch;
  }

  // ---- recovery ----------------------------------------------------------------------------------------

  private recover(): void {
    const prefix = channelSubjectPrefix(this.clusterId);
    for (const stream of this.jsa.streams.values()) {
      const subject = stream.config.subjects[0] ?? '';
      if (stream.config.subjects.length === 1 && subject.startsWith(prefix)) {
        this.openChannel(subject.slice(prefix.length), stream);
      }
    }
    const subs: SubRecord[] = [];
    for (const [key, value] of this.state.entries()) {
      if (key === 'info') this.info = value as ServerInfo;
      else if (key.startsWith('client.')) this.recoverClient(value as ClientRecord);
      else if (key.startsWith('sub.')) subs.push(value as SubRecord);
    }
    if (this.info === undefined || this.info.clusterId !== this.clusterId) {
      const id = nuid();
      this.info = {
        clusterId: this.clusterId,
        discovery: `${DISCOVER_PREFIX}.${this.clusterId}`,
        publish: `_STAN.pub.${id}`,
        subscribe: `_STAN.sub.${id}`,
        unsubscribe: `_STAN.unsub.${id}`,
        subClose: `_STAN.subclose.${id}`,
        close: `_STAN.close.${id}`,
        acks: `_STAN.ack.${id}`,
      };
      this.state.put('info', this.info);
    }
    for (const r of subs.sort((a, b) => a.id - b.id)) this.recoverSub(r);
  }

  private recoverClient(r: ClientRecord): void {
    const c: StanClient = {
      id: r.id,
      hbInbox: r.hbInbox,
      connId: r.connId,
      protocol: r.protocol,
      pingInterval: r.pingInterval,
      pingMaxOut: r.pingMaxOut,
      subs: new Set(),
      fhb: 0,
      hbTimer: undefined,
    };
    this.clients.set(c.id, c);
    if (c.connId !== '') this.byConnId.set(c.connId, c);
  }

  private recoverSub(r: SubRecord): void {
    if (r.id >= this.nextSubId) this.nextSubId = r.id + 1;
    const ch = this.lookupOrCreateChannel(r.channel);
    if (typeof ch === 'string') {
      this.core.logger.warn(`NATS Streaming: dropping subscription ${r.id} on "${r.channel}": ${ch}`);
      this.state.remove(`sub.${r.id}`);
      return;
    }
    const client = r.offline ? undefined : this.clients.get(r.clientId);
    if (client === undefined && !r.isDurable) {
      // A plain subscription whose client is gone.
      this.state.remove(`sub.${r.id}`);
      return;
    }
    const sub = new SubState(ch, r.id, {
      clientId: client !== undefined ? r.clientId : '',
      qgroup: r.qgroup,
      inbox: r.inbox,
      ackInbox: r.ackInbox,
      durableName: r.durableName,
      isDurable: r.isDurable,
      maxInFlight: r.maxInFlight,
      ackWaitSecs: r.ackWaitSecs,
    });
    if (client === undefined) sub.savedClientId = r.clientId;
    sub.lastSent = r.lastSent;
    sub.isClosed = r.isClosed;
    for (const seq of r.pending) sub.pending.set(seq, 0);
    ch.add(sub);
    if (client !== undefined) {
      client.subs.add(sub);
      sub.initialized = true;
      // Unacknowledged messages are redelivered as soon as the server runs again.
      if (sub.pending.size > 0) ch.setupAckTimer(sub, 1);
    }
  }

  // ---- clients -----------------------------------------------------------------------------------------

  private onConnect(reply: string, data: Buffer): void {
    let req: ReturnType<typeof decodeConnectRequest>;
    try {
      req = decodeConnectRequest(data);
    } catch {
      this.connectError(reply, StanError.InvalidConnReq);
      return;
    }
    if (req.heartbeatInbox === '') {
      this.connectError(reply, StanError.InvalidConnReq);
      return;
    }
    if (!CLIENT_ID_RE.test(req.clientID)) {
      this.connectError(reply, StanError.InvalidClientID);
      return;
    }
    const existing = this.clients.get(req.clientID);
    if (existing === undefined) {
      this.finishConnect(req, reply);
      return;
    }
    // Either the client restarted (the old one does not answer: replace it) or it is a duplicate.
    if (this.dupChecks.has(req.clientID)) {
      this.connectError(reply, StanError.InvalidClient);
      return;
    }
    this.dupChecks.add(req.clientID);
    this.requester.request(existing.hbInbox, DUP_CID_TIMEOUT, (alive) => {
      this.dupChecks.delete(req.clientID);
      if (this.stopped) return;
      if (alive && this.clients.get(req.clientID) === existing) {
        this.connectError(reply, StanError.InvalidClient);
        return;
      }
      this.closeClient(req.clientID);
      this.finishConnect(req, reply);
    });
  }

  private finishConnect(req: ReturnType<typeof decodeConnectRequest>, reply: string): void {
    const c: StanClient = {
      id: req.clientID,
      hbInbox: req.heartbeatInbox,
      connId: req.connID.toString('hex'),
      protocol: req.protocol,
      pingInterval: req.pingInterval,
      pingMaxOut: req.pingMaxOut,
      subs: new Set(),
      fhb: 0,
      hbTimer: undefined,
    };
    this.clients.set(c.id, c);
    if (c.connId !== '') this.byConnId.set(c.connId, c);
    const record: ClientRecord = {
      id: c.id,
      hbInbox: c.hbInbox,
      connId: c.connId,
      protocol: c.protocol,
      pingInterval: c.pingInterval,
      pingMaxOut: c.pingMaxOut,
    };
    this.state.put(`client.${c.id}`, record);
    this.startHeartbeat(c);
    const i = this.info;
    const res: Parameters<typeof encodeConnectResponse>[0] = {
      pubPrefix: i.publish,
      subRequests: i.subscribe,
      unsubRequests: i.unsubscribe,
      subCloseRequests: i.subClose,
      closeRequests: i.close,
      protocol: PROTOCOL_ONE,
    };
    if (req.protocol >= PROTOCOL_ONE) {
      // As nats-streaming-server: the client's own ping settings are accepted as they are.
      res.pingRequests = `${i.discovery}.pings`;
      res.pingInterval = req.pingInterval;
      res.pingMaxOut = req.pingMaxOut;
    }
    this.core.logger.debug(`[STAN Client:${c.id}] Connected (Inbox=${c.hbInbox})`);
    this.send(reply, encodeConnectResponse(res));
  }

  private connectError(reply: string, error: string): void {
    this.send(reply, encodeConnectResponse({ error }));
  }

  /** Unregister a client; its plain subscriptions go, its durables stay offline. */
  closeClient(clientId: string): boolean {
    const c = this.clients.get(clientId);
    if (c === undefined) return false;
    this.clients.delete(clientId);
    if (this.byConnId.get(c.connId) === c) this.byConnId.delete(c.connId);
    if (c.hbTimer !== undefined) clearTimeout(c.hbTimer);
    c.hbTimer = undefined;
    for (const sub of c.subs) sub.channel.remove(sub, false);
    c.subs.clear();
    this.state.remove(`client.${clientId}`);
    this.core.logger.debug(`[STAN Client:${clientId}] Closed`);
    return true;
  }

  private onClose(reply: string, data: Buffer): void {
    let clientId: string;
    try {
      clientId = decodeCloseRequest(data).clientID;
    } catch {
      this.send(reply, encodeCloseResponse({ error: StanError.InvalidCloseReq }));
      return;
    }
    const ok = this.closeClient(clientId);
    this.send(reply, encodeCloseResponse(ok ? {} : { error: StanError.UnknownClient }));
  }

  private onPing(reply: string, data: Buffer): void {
    if (data.length === 0) return;
    let connId: string;
    try {
      connId = decodePing(data).connID.toString('hex');
    } catch {
      return;
    }
    const c = this.byConnId.get(connId);
    if (c === undefined) {
      this.send(reply, encodePingResponse({ error: StanError.PingUnknownClient }));
      return;
    }
    // A client that failed heartbeats but pings us is back: check it again soon.
    if (c.fhb > 0 && c.hbTimer !== undefined) {
      clearTimeout(c.hbTimer);
      c.hbTimer = setTimeout(() => this.heartbeat(c), 1);
      c.hbTimer.unref();
    }
    this.send(reply, encodePingResponse({}));
  }

  // ---- heartbeats --------------------------------------------------------------------------------------

  private startHeartbeat(c: StanClient): void {
    c.hbTimer = setTimeout(() => this.heartbeat(c), this.options.hbInterval);
    c.hbTimer.unref();
  }

  /** nats-streaming-server's checkClientHealth. */
  private heartbeat(c: StanClient): void {
    c.hbTimer = undefined;
    if (this.stopped || this.clients.get(c.id) !== c) return;
    this.requester.request(c.hbInbox, this.options.hbTimeout, (ok) => {
      if (this.stopped || this.clients.get(c.id) !== c) return;
      const hadFailed = c.fhb > 0;
      if (ok) {
        c.fhb = 0;
      } else if (++c.fhb > this.options.hbFailCount) {
        this.core.logger.warn(`[STAN Client:${c.id}] Timed out on heartbeats`);
        this.closeClient(c.id);
        return;
      }
      if (hadFailed !== c.fhb > 0) for (const sub of c.subs) sub.hasFailedHB = c.fhb > 0;
      this.startHeartbeat(c);
    });
  }

  // ---- publish -----------------------------------------------------------------------------------------

  private onPublish(reply: string, data: Buffer): void {
    let pm: ReturnType<typeof decodePubMsg>;
    try {
      pm = decodePubMsg(data);
    } catch {
      this.send(reply, encodePubAck({ guid: '', error: StanError.InvalidPubReq }));
      return;
    }
    this.stats.inMsgs++;
    this.stats.inBytes += data.length;
    const pubAck = (error?: string): void => {
      this.send(reply, encodePubAck(error !== undefined ? { guid: pm.guid, error } : { guid: pm.guid }));
    };
    if (pm.guid === '' || !isValidLiteralSubject(pm.subject)) {
      pubAck(StanError.InvalidPubReq);
      return;
    }
    // nats-streaming-server's clients.isValid: the connection ID when there is one, else the client ID.
    const c =
      pm.connID.length > 0 ? this.byConnId.get(pm.connID.toString('hex')) : this.clients.get(pm.clientID);
    if (c === undefined) {
      pubAck(StanError.InvalidPubReq);
      return;
    }
    const ch = this.lookupOrCreateChannel(pm.subject);
    if (typeof ch === 'string') {
      pubAck(ch);
      return;
    }
    const seq = ch.stream.processMsg(channelSubject(this.clusterId, pm.subject), '', EMPTY, pm.data);
    if (seq === 0) {
      pubAck(`stan: unable to store message on channel "${pm.subject}"`);
      return;
    }
    pubAck();
  }

  // ---- subscriptions -----------------------------------------------------------------------------------

  private onSubscribe(reply: string, data: Buffer): void {
    let sr: SubscriptionRequest;
    try {
      sr = decodeSubscriptionRequest(data);
    } catch {
      this.subResponse(reply, StanError.InvalidSubReq);
      return;
    }
    if (sr.clientID === '') {
      this.subResponse(reply, StanError.MissingClient);
      return;
    }
    if (sr.ackWaitInSecs <= 0) {
      this.subResponse(reply, StanError.InvalidAckWait);
      return;
    }
    if (sr.maxInFlight <= 0) {
      this.subResponse(reply, StanError.InvalidMaxInflight);
      return;
    }
    if (sr.startPosition < StartPosition.NewOnly || sr.startPosition > StartPosition.First) {
      this.subResponse(reply, StanError.InvalidStart);
      return;
    }
    if (!isValidLiteralSubject(sr.subject)) {
      this.subResponse(reply, StanError.InvalidSubject);
      return;
    }
    const client = this.clients.get(sr.clientID);
    if (client === undefined) {
      this.subResponse(reply, StanError.UnknownClient);
      return;
    }
    const ch = this.lookupOrCreateChannel(sr.subject);
    if (typeof ch === 'string') {
      this.subResponse(reply, ch);
      return;
    }
    const sub = this.processSub(ch, sr, client);
    if (typeof sub === 'string') {
      this.subResponse(reply, sub);
      return;
    }
    this.send(reply, encodeSubscriptionResponse({ ackInbox: sub.ackInbox }));
    // Messages only after the response (they are deferred after it, in order).
    sub.initialized = true;
    if (sub.isDurable) ch.redeliverDurable(sub);
    if (sub.qstate !== undefined) ch.sendAvailableToQueue(sub.qstate);
    else ch.sendAvailable(sub);
  }

  private subResponse(reply: string, error: string): void {
    this.send(reply, encodeSubscriptionResponse({ error }));
  }

  /** nats-streaming-server's processSub: a new subscription, or a durable / durable group taken up again. */
  private processSub(ch: Channel, sr: SubscriptionRequest, client: StanClient): SubState | string {
    let isDurable = false;
    let qgroup = sr.qGroup;
    let durableName = sr.durableName;
    let sub: SubState | undefined;
    let setStart = true;
    if (qgroup !== '') {
      if (durableName !== '') {
        if (durableName.includes(':')) return StanError.InvalidDurName;
        isDurable = true;
        // The group's name carries the durable name; members have no durable name of their own.
        qgroup = `${durableName}:${qgroup}`;
        durableName = '';
      }
      const qs = ch.qsubs.get(qgroup);
      if (qs !== undefined) {
        setStart = false;
        if (qs.shadow !== undefined) {
          sub = qs.shadow;
          qs.shadow = undefined;
          qs.subs.push(sub);
        }
      }
    } else if (durableName !== '') {
      sub = ch.durables.get(durableKey(sr.clientID, sr.subject, durableName));
      if (sub !== undefined) {
        if (sub.clientId !== '') return StanError.DupDurable;
        setStart = false;
      }
      isDurable = true;
    }
    const ackInbox = `${this.info.acks}.${nuid()}`;
    if (sub !== undefined) {
      // A durable (or a durable group's shadow) taken up again: its position stays, its options are new.
      sub.clientId = sr.clientID;
      sub.savedClientId = '';
      sub.ackInbox = ackInbox;
      sub.inbox = sr.inbox;
      sub.maxInFlight = sr.maxInFlight;
      sub.ackWaitSecs = sr.ackWaitInSecs;
      sub.stalled = false;
      sub.isClosed = false;
      sub.hasFailedHB = false;
      sub.initialized = false;
      if (sub.pending.size > 0) sub.newOnHold = true;
      if (sub.qgroup === '') ch.psubs.push(sub);
      ch.acks.set(ackInbox, sub);
      for (const seq of sub.pending.keys()) sub.pending.set(seq, 0);
      if (sub.pending.size > 0) ch.setupAckTimer(sub, sub.ackWaitMs);
      client.subs.add(sub);
      this.saveSub(sub);
      return sub;
    }
    const max = this.options.maxSubs;
    if (max > 0 && ch.allSubs().length >= max) return StanError.TooManySubs;
    sub = new SubState(ch, this.nextSubId++, {
      clientId: sr.clientID,
      qgroup,
      inbox: sr.inbox,
      ackInbox,
      durableName,
      isDurable,
      maxInFlight: sr.maxInFlight,
      ackWaitSecs: sr.ackWaitInSecs,
    });
    if (setStart) sub.lastSent = this.startSequence(ch, sr);
    ch.add(sub);
    client.subs.add(sub);
    this.saveSub(sub);
    return sub;
  }

  /** nats-streaming-server's setSubStartSequence: the `lastSent` a new subscription starts after. */
  private startSequence(ch: Channel, sr: SubscriptionRequest): number {
    const st = ch.stream.store.state();
    const last = st.lastSeq;
    const first = st.msgs > 0 ? st.firstSeq : last + 1;
    switch (sr.startPosition) {
      case StartPosition.LastReceived:
        return st.msgs > 0 ? last - 1 : last;
      case StartPosition.TimeDeltaStart: {
        const seq = ch.stream.store.getSeqFromTime(nowNanos() - BigInt(Math.trunc(sr.startTimeDelta)));
        return seq > 0 ? seq - 1 : 0;
      }
      case StartPosition.SequenceStart:
        if (sr.startSequence < first) return first - 1;
        if (sr.startSequence > last) return last;
        return sr.startSequence > 0 ? sr.startSequence - 1 : 0;
      case StartPosition.First:
        return first - 1;
      default:
        return last;
    }
  }

  private onUnsubscribe(reply: string, data: Buffer, isClose: boolean): void {
    let req: ReturnType<typeof decodeUnsubscribeRequest>;
    try {
      req = decodeUnsubscribeRequest(data);
    } catch {
      this.subResponse(reply, StanError.InvalidUnsubReq);
      return;
    }
    const ch = this.channels.get(req.subject);
    if (ch === undefined) {
      this.subResponse(reply, StanError.UnknownChannel);
      return;
    }
    let sub = ch.acks.get(req.inbox);
    if (sub === undefined) for (const s of ch.acks.values()) if (s.inbox === req.inbox) sub = s;
    if (sub === undefined) {
      this.subResponse(reply, StanError.InvalidSub);
      return;
    }
    const client = this.clients.get(req.clientID);
    if (client === undefined || !client.subs.delete(sub)) {
      this.subResponse(reply, StanError.UnknownClient);
      return;
    }
    ch.remove(sub, !isClose);
    this.send(reply, encodeSubscriptionResponse({}));
  }

  private onAck(subject: string, data: Buffer): void {
    let ack: ReturnType<typeof decodeAck>;
    try {
      ack = decodeAck(data);
    } catch {
      return;
    }
    const ch = this.channels.get(ack.subject);
    const sub = ch?.acks.get(subject);
    if (ch === undefined || sub === undefined) return;
    ch.processAck(sub, ack.sequence, true);
  }

  // ---- monitoring --------------------------------------------------------------------------------------

  /** Number of active subscriptions (online ones). */
  subscriptionCount(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.subCount();
    return n;
  }
}
