/**
 * The JetStream API in clustered mode (docs/design/jetstream-meta.md §5): every JetStream server receives
 * every request, in the system account, with the requester in the `Nats-Request-Info` header; exactly one
 * answers, the others stay silent.
 *
 *   meta leader      create / update / delete of streams and consumers (proposes the assignment; the new
 *                    asset's leader answers once elected), names and lists, account info, "not found",
 *                    meta leader step-down
 *   stream leader    stream info, message get, purge and message delete (proposed to the stream's group),
 *                    stream leader step-down
 *   consumer leader  consumer info, consumer leader step-down
 *
 * Requests a stream or consumer leader answers on its own server use the single-server handlers
 * (api/streams.ts, api/consumers.ts) with the response published in the system account and the `cluster`
 * block added.
 */
import { groupName, nodeIdOf, randomToken8 } from '../../raft/ids.js';
import { subjectsCollide, tokenAt } from '../../routing/subject.js';
import { textToWire, wireToText } from '../../routing/subject-text.js';
import type { JsAccount } from '../account.js';
import { API_AUDIT_SUBJECT, sendApiAudit } from '../advisories.js';
import { accountInfoBody } from '../api/account-info.js';
import { checkCreateSubject } from '../api/consumer-create-subject.js';
import {
  type ApiError,
  newJSBadRequestError,
  newJSClusterNoPeersError,
  newJSClusterNotAvailError,
  newJSClusterPeerNotMemberError,
  newJSClusterServerNotMemberError,
  newJSConsumerAlreadyExistsError,
  newJSConsumerCreateError,
  newJSConsumerDoesNotExistError,
  newJSConsumerMaxPendingAckExcessError,
  newJSConsumerNotFoundError,
  newJSInsufficientResourcesError,
  newJSInvalidJSONError,
  newJSMaximumConsumersLimitError,
  newJSNoLimitsError,
  newJSNotEmptyRequestError,
  newJSPeerRemapError,
  newJSStreamInvalidConfigError,
  newJSStreamMismatchError,
  newJSStreamMsgDeleteFailedError,
  newJSStreamNameExistError,
  newJSStreamNotFoundError,
  newJSStreamPurgeFailedError,
  newJSStreamRestoreError,
  newJSStreamSealedError,
  newJSStreamSnapshotError,
  newJSStreamSubjectOverlapError,
} from '../api/errors.generated.js';
import { decodeRequest, goJson, InvalidJsonError, isEmptyRequest, type JsonObject } from '../api/json.js';
import { JS_API_LIST_LIMIT, JS_API_NAMES_LIMIT, ResponseType } from '../api/types.js';
import {
  checkStreamConfig,
  checkStreamUpdate,
  consumerLimitsUpdateError,
  decodeStreamConfig,
  isApiError,
  type StreamConfig,
  sameConfig,
  subjectTransformApiError,
} from '../config.js';
import {
  type ConsumerConfig,
  checkConsumerConfig,
  decodeCreateRequest,
  isDurable,
  sameConsumerConfig,
  setConsumerDefaults,
} from '../consumer/config.js';
import { randomToken } from '../consumer/token.js';
import { getHeader } from '../headers.js';
import { nowNanos } from '../store/store.js';
import {
  accountOf,
  type ClientInfo,
  type ConsumerAssignment,
  encodeConsumerEntry,
  encodeStreamEntry,
  type RaftGroupInfo,
  type StreamAssignment,
} from './assignments.js';
import type { ClusterContext } from './context.js';
import { EntryOp } from './entries.js';
import type { LocalAssets } from './local.js';
import { selectPeerGroup } from './placement.js';

/** nats-server's ClientInfoHdr. */
export const REQUEST_INFO_HEADER = 'Nats-Request-Info';

/** A meta group without a leader this long after start makes every server say "unavailable". */
const LEADERLESS_GRACE = 10_000;

/** How long the meta leader gathers infos from stream and consumer leaders for a list. */
const LIST_GATHER_MS = 4000;

interface Request {
  /** Text form (names in it are compared with JSON); `wire` is the subject as received. */
  subject: string;
  wire: string;
  reply: string;
  hdr: Buffer;
  body: Buffer;
  ci: ClientInfo;
  jsa: JsAccount;
}

export class ClusterApi {
  constructor(
    private readonly ctx: ClusterContext,
    private readonly local: LocalAssets,
  ) {}

  /** The `$JS.API.>` subscription in the system account. */
  dispatch(wire: string, reply: string, hdr: Buffer, body: Buffer): undefined {
    if (reply === '') return;
    // Names in the subject are text, as in the JSON bodies they are compared with (subject-text.ts).
    const subject = wireToText(wire);
    const meta = this.ctx.meta;
    // nats-server answers the meta leader step-down on its own subscription, without the header.
    if (subject === '$JS.API.META.LEADER.STEPDOWN') {
      if (!meta.isLeader()) return;
      this.ctx.respond(reply, {
        type: 'io.nats.jetstream.api.v1.meta_leader_stepdown_response',
        success: true,
      });
      setTimeout(() => meta.node?.stepDown(), 50).unref();
      return;
    }
    const infoText = hdr.length > 0 ? getHeader(hdr, REQUEST_INFO_HEADER) : undefined;
    if (infoText === undefined) return;
    let ci: ClientInfo;
    try {
      ci = JSON.parse(infoText) as ClientInfo;
    } catch {
      return;
    }
    const jsa = this.ctx.js.lookupAccount(accountOf(ci));
    if (jsa === undefined) return;
    const req: Request = { subject, wire, reply, hdr, body: Buffer.from(body), ci, jsa };
    const t = subject.split('.');
    const op = t.slice(2, 4).join('.');
    try {
      switch (op) {
        case 'INFO':
          if (t.length === 3) this.accountInfo(req);
          return;
        case 'STREAM.CREATE':
          return this.streamCreate(req);
        case 'STREAM.UPDATE':
          return this.streamUpdate(req);
        case 'STREAM.DELETE':
          return this.streamDelete(req);
        case 'STREAM.NAMES':
        case 'STREAM.LIST':
          return this.streamNamesOrList(req, op === 'STREAM.LIST');
        case 'STREAM.INFO':
        case 'STREAM.MSG':
          return this.byStreamLeader(req, tokenAt(subject, op === 'STREAM.MSG' ? 6 : 5));
        case 'STREAM.PURGE':
          return this.streamPurge(req);
        case 'STREAM.LEADER':
          return this.streamStepDown(req);
        case 'STREAM.PEER':
          return this.streamPeerRemove(req);
        case 'SERVER.REMOVE':
          return this.serverRemove(req);
        case 'CONSUMER.CREATE':
        case 'CONSUMER.DURABLE':
          return this.consumerCreate(req);
        case 'CONSUMER.DELETE':
          return this.consumerDelete(req);
        case 'CONSUMER.NAMES':
        case 'CONSUMER.LIST':
          return this.consumerNamesOrList(req, op === 'CONSUMER.LIST');
        case 'CONSUMER.INFO':
          return this.byConsumerLeader(req);
        case 'CONSUMER.LEADER':
          return this.consumerStepDown(req);
        case 'STREAM.SNAPSHOT':
        case 'STREAM.RESTORE':
          return this.snapshotNotClustered(req, op === 'STREAM.SNAPSHOT');
        default:
          // CONSUMER.MSG.NEXT and DIRECT.GET go to the asset's own subscriptions in the account.
          return;
      }
    } catch (e) {
      this.ctx.log(
        'warn',
        `JetStream cluster API request on "${subject}" failed: ${(e as Error).stack ?? String(e)}`,
      );
    }
  }

  private respond(req: Request, body: object, error = false): undefined {
    req.jsa.apiTotal++;
    this.ctx.js.apiTotal++;
    if (error) {
      req.jsa.apiErrors++;
      this.ctx.js.apiErrors++;
    }
    this.ctx.respond(req.reply, body);
    const acc = req.jsa.account;
    if (acc.sublist.hasInterest(API_AUDIT_SUBJECT)) {
      sendApiAudit(this.ctx.js, acc, req.ci, req.subject, req.body.toString('utf8'), goJson(body));
    }
  }

  private fail(req: Request, type: string, e: ApiError): undefined {
    this.respond(req, { type, error: e }, true);
  }

  /**
   * Snapshots and restores are single-server only in tsnats (api/snapshot.ts): with clustered JetStream
   * the meta leader refuses them rather than let the request time out.
   */
  private snapshotNotClustered(req: Request, snapshot: boolean): undefined {
    if (!this.ctx.meta.isLeader()) return;
    const why = 'not supported by tsnats with clustered JetStream';
    if (snapshot) this.fail(req, ResponseType.StreamSnapshot, newJSStreamSnapshotError(why));
    else this.fail(req, ResponseType.StreamRestore, newJSStreamRestoreError(why));
  }

  /** Only the meta leader decides; without one, every server says so (nats-server's isLeaderless). */
  private metaLeaderOnly(req: Request, type: string): boolean {
    const meta = this.ctx.meta;
    if (meta.isLeader()) return true;
    // nats-server's isLeaderless: no meta leader for more than 10 s after start.
    if (
      meta.node !== undefined &&
      meta.node.leader === '' &&
      !meta.recovering &&
      meta.age() > LEADERLESS_GRACE
    ) {
      this.fail(req, type, newJSClusterNotAvailError());
    }
    return false;
  }

  private decode(req: Request, type: string): JsonObject | undefined {
    try {
      return decodeRequest(req.body);
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      this.fail(req, type, newJSInvalidJSONError());
      return undefined;
    }
  }

  // ---- account info ------------------------------------------------------------------------------------

  private accountInfo(req: Request): undefined {
    if (!this.metaLeaderOnly(req, ResponseType.AccountInfo)) return;
    const streams = this.ctx.meta
      .accountStreams(req.jsa.account.name)
      .map((sa) => ({ config: sa.config, consumers: sa.consumers.size }));
    this.respond(req, accountInfoBody(req.jsa, streams, this.ctx.js.domain));
  }

  // ---- streams: meta leader ----------------------------------------------------------------------------------

  private streamCreate(req: Request): undefined {
    const type = ResponseType.StreamCreate;
    if (!this.metaLeaderOnly(req, type)) return;
    const o = this.decode(req, type);
    if (o === undefined) return;
    let creq: ReturnType<typeof decodeStreamConfig>;
    try {
      creq = decodeStreamConfig(o);
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return this.fail(req, type, newJSInvalidJSONError());
    }
    const name = tokenAt(req.subject, 5);
    if (name !== creq.name) return this.fail(req, type, newJSStreamMismatchError());
    if (creq.sealed) {
      return this.fail(
        req,
        type,
        newJSStreamInvalidConfigError('stream configuration for create can not be sealed'),
      );
    }
    if (creq.mirror_direct && creq.mirror === undefined) {
      return this.fail(
        req,
        type,
        newJSStreamInvalidConfigError('stream has no mirror but does have mirror direct'),
      );
    }
    const acc = req.jsa.account.name;
    const meta = this.ctx.meta;
    const cfg = checkStreamConfig(creq, { stream: (n) => meta.stream(acc, n)?.config });
    if (isApiError(cfg)) return this.fail(req, type, cfg);
    const sourcing = replicatedSourcingError(cfg);
    if (sourcing !== undefined) return this.fail(req, type, sourcing);
    // nats-server's replicas would each fail to make it; refused here, before it is assigned.
    const trErr = subjectTransformApiError(cfg, false);
    if (trErr !== undefined) return this.fail(req, type, trErr);
    const existing = meta.stream(acc, name);
    if (existing !== undefined) {
      if (!sameConfig(existing.config, cfg)) return this.fail(req, type, newJSStreamNameExistError());
      // The same stream again: its leader answers with its info (as a create response).
      this.forwardToStreamLeader(req, existing);
      return;
    }
    for (const sa of meta.accountStreams(acc)) {
      for (const subj of sa.config.subjects) {
        for (const t of cfg.subjects) {
          if (subjectsCollide(t, subj)) return this.fail(req, type, newJSStreamSubjectOverlapError());
        }
      }
    }
    const overLimits = req.jsa.checkNewStream(
      cfg,
      [...meta.accountStreams(acc)].map((sa) => sa.config),
    );
    if (overLimits !== undefined) return this.fail(req, type, overLimits);
    const cluster =
      cfg.placement?.cluster ??
      (typeof req.ci.cluster === 'string' && req.ci.cluster !== '' ? req.ci.cluster : this.ctx.clusterName);
    const placed = selectPeerGroup(
      cfg.num_replicas,
      cluster,
      cfg,
      meta.node?.allPeerIds() ?? [this.ctx.selfId],
      this.ctx.peers,
    );
    if (placed.error !== '') return this.fail(req, type, newJSClusterNoPeersError(placed.error));
    const group: RaftGroupInfo = {
      name: groupName('S', placed.peers.length, cfg.storage),
      peers: placed.peers,
      store: cfg.storage,
      cluster,
      preferred: placed.peers[Math.floor(Math.random() * placed.peers.length)]!,
    };
    const sa: StreamAssignment = {
      client: req.ci,
      created: nowNanos(),
      config: cfg,
      group,
      sync: `$JSC.SYNC.${randomToken8()}`,
      subject: req.subject,
      reply: req.reply,
      consumers: new Map(),
      responded: false,
    };
    req.jsa.apiTotal++;
    this.ctx.js.apiTotal++;
    meta.node!.propose(encodeStreamEntry(EntryOp.AssignStream, sa));
  }

  /** Ask the stream's leader to answer a request (nats-server re-publishes it as a STREAM.INFO). */
  private forwardToStreamLeader(req: Request, sa: StreamAssignment): undefined {
    const replica = this.local.replicaOf(accountOf(sa.client), sa.config.name);
    const stream = this.local.localStream(sa);
    if (replica?.isLeader() || (replica === undefined && stream !== undefined)) {
      const info = replica !== undefined ? replica.info() : this.local.r1Info(stream!);
      this.respond(req, { type: ResponseType.StreamCreate, ...info });
      return;
    }
    const hdr = Buffer.from(
      `NATS/1.0\r\n${REQUEST_INFO_HEADER}: ${JSON.stringify(req.ci)}\r\nNats-Response-Type: create\r\n\r\n`,
    );
    this.ctx.core.delivery.deferToOthers(
      this.ctx.sys,
      `$JS.API.STREAM.INFO.${sa.config.name}`,
      req.reply,
      Buffer.concat([hdr]),
    );
  }

  private streamUpdate(req: Request): undefined {
    const type = ResponseType.StreamUpdate;
    if (!this.metaLeaderOnly(req, type)) return;
    const o = this.decode(req, type);
    if (o === undefined) return;
    let ureq: ReturnType<typeof decodeStreamConfig>;
    try {
      ureq = decodeStreamConfig(o);
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return this.fail(req, type, newJSInvalidJSONError());
    }
    const checked = checkStreamConfig(ureq, {
      stream: (n) => this.ctx.meta.stream(req.jsa.account.name, n)?.config,
    });
    if (isApiError(checked)) return this.fail(req, type, checked);
    const sourcing = replicatedSourcingError(checked);
    if (sourcing !== undefined) return this.fail(req, type, sourcing);
    const name = tokenAt(req.subject, 5);
    if (name !== checked.name) return this.fail(req, type, newJSStreamMismatchError());
    const sa = this.ctx.meta.stream(req.jsa.account.name, name);
    if (sa === undefined) return this.fail(req, type, newJSStreamNotFoundError());
    const cfg = checkStreamUpdate(sa.config, checked);
    if (isApiError(cfg)) return this.fail(req, type, cfg);
    const limitsErr = consumerLimitsUpdateError(
      sa.config,
      cfg,
      [...sa.consumers.values()].map((ca) => [ca.name, ca.config] as const),
    );
    if (limitsErr !== undefined) return this.fail(req, type, limitsErr);
    const trErr = subjectTransformApiError(cfg, true);
    if (trErr !== undefined) return this.fail(req, type, trErr);
    for (const other of this.ctx.meta.accountStreams(req.jsa.account.name)) {
      if (other === sa) continue;
      for (const subj of other.config.subjects) {
        for (const t of cfg.subjects) {
          if (subjectsCollide(t, subj)) return this.fail(req, type, newJSStreamSubjectOverlapError());
        }
      }
    }
    const propose = (group: RaftGroupInfo): void => {
      const next: StreamAssignment = {
        ...sa,
        client: req.ci,
        config: cfg,
        group,
        subject: req.subject,
        reply: req.reply,
        consumers: new Map(),
        responded: false,
      };
      const node = this.ctx.meta.node!;
      node.propose(encodeStreamEntry(EntryOp.UpdateStream, next));
      // Consumers follow a stream that shrinks: their groups keep only the stream's remaining peers.
      for (const ca of sa.consumers.values()) {
        if (ca.group.peers.every((p) => group.peers.includes(p))) continue;
        let peers = ca.group.peers.filter((p) => group.peers.includes(p));
        if (peers.length === 0) peers = [group.peers[0]!];
        node.propose(
          encodeConsumerEntry(EntryOp.AssignConsumer, {
            ...ca,
            group: { ...ca.group, peers, preferred: '' },
          }),
        );
      }
    };
    const cur = sa.group.peers;
    const want = cfg.num_replicas;
    if (want === cur.length) {
      propose({ ...sa.group, preferred: '' });
      return;
    }
    if (want > cur.length) {
      // Scale up (nats-server's jsClusteredStreamUpdateRequest): the current peers stay, new ones are placed.
      const placed = selectPeerGroup(
        want,
        sa.group.cluster !== undefined && sa.group.cluster !== '' ? sa.group.cluster : this.ctx.clusterName,
        cfg,
        this.ctx.meta.node?.allPeerIds() ?? [this.ctx.selfId],
        this.ctx.peers,
        cur,
      );
      if (placed.error !== '') return this.fail(req, type, newJSClusterNoPeersError(placed.error));
      propose({ ...sa.group, peers: placed.peers, preferred: cur.length === 1 ? cur[0]! : '' });
      return;
    }
    // Scale down: keep the stream's leader (asked for its info), then the other peers.
    this.gather([`$JSC.SI.${req.jsa.account.name}.${name}`], ([info]) => {
      const leaderName = ((info?.cluster as { leader?: string } | undefined)?.leader ?? '') as string;
      const leader = cur.find((p) => this.ctx.peers.nameOf(p) === leaderName) ?? cur[0]!;
      const peers = [leader, ...cur.filter((p) => p !== leader)].slice(0, want);
      propose({ ...sa.group, peers, preferred: leader });
    });
  }

  private streamDelete(req: Request): undefined {
    const type = ResponseType.StreamDelete;
    if (!this.metaLeaderOnly(req, type)) return;
    if (!isEmptyRequest(req.body)) return this.fail(req, type, newJSNotEmptyRequestError());
    const sa = this.ctx.meta.stream(req.jsa.account.name, tokenAt(req.subject, 5));
    if (sa === undefined) return this.fail(req, type, newJSStreamNotFoundError());
    const rm: StreamAssignment = {
      ...sa,
      client: req.ci,
      created: 0n,
      sync: '',
      subject: req.subject,
      reply: req.reply,
    };
    this.ctx.meta.node!.propose(encodeStreamEntry(EntryOp.RemoveStream, rm));
  }

  private streamNamesOrList(req: Request, list: boolean): undefined {
    const type = list ? ResponseType.StreamList : ResponseType.StreamNames;
    if (!this.metaLeaderOnly(req, type)) return;
    let offset = 0;
    let filter = '';
    if (!isEmptyRequest(req.body)) {
      const o = this.decode(req, type);
      if (o === undefined) return;
      try {
        offset = Math.max(0, o.int('offset') ?? 0);
        filter = o.string('subject') ?? '';
      } catch (e) {
        if (!(e instanceof InvalidJsonError)) throw e;
        return this.fail(req, type, newJSInvalidJSONError());
      }
    }
    const all = this.ctx.meta
      .accountStreams(req.jsa.account.name)
      .filter((sa) => filter === '' || sa.config.subjects.some((s) => subjectsCollide(filter, s)))
      .sort((a, b) => (a.config.name < b.config.name ? -1 : a.config.name > b.config.name ? 1 : 0));
    const total = all.length;
    offset = Math.min(offset, total);
    const limit = list ? JS_API_LIST_LIMIT : JS_API_NAMES_LIMIT;
    const page = all.slice(offset, offset + limit);
    if (!list) {
      this.respond(req, {
        type,
        total,
        offset,
        limit,
        streams: page.length > 0 ? page.map((sa) => sa.config.name) : null,
      });
      return;
    }
    const subjects = page.map((sa) => `$JSC.SI.${req.jsa.account.name}.${sa.config.name}`);
    this.gather(subjects, (infos) => {
      const streams = infos.filter((i): i is Record<string, unknown> => i !== undefined);
      const missing = page.filter((_, i) => infos[i] === undefined).map((sa) => sa.config.name);
      const body: Record<string, unknown> = { type, total, offset, limit, streams };
      if (missing.length > 0) body.missing = missing;
      this.respond(req, body);
    });
  }

  /** Ask each subject (a `$JSC.SI` / `$JSC.CI` info request) and collect the answers, in order. */
  private gather(subjects: string[], done: (infos: (Record<string, unknown> | undefined)[]) => void): void {
    const infos: (Record<string, unknown> | undefined)[] = subjects.map(() => undefined);
    if (subjects.length === 0) {
      done(infos);
      return;
    }
    const core = this.ctx.core;
    const prefix = `$SYS._INBOX.${this.ctx.selfId}.${randomToken8()}`;
    let left = subjects.length;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      core.unsubscribeInternal(this.ctx.sys, sub);
      done(infos);
    };
    const sub = core.subscribeInternal(this.ctx.sys, `${prefix}.*`, (subject, _r, hdr, buf, start, size) => {
      const i = Number(subject.slice(prefix.length + 1));
      if (!Number.isInteger(i) || i < 0 || i >= infos.length || infos[i] !== undefined) return;
      try {
        infos[i] = JSON.parse(buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size)) as Record<
          string,
          unknown
        >;
      } catch {
        return;
      }
      if (--left === 0) queueMicrotask(finish);
    });
    const timer = setTimeout(finish, LIST_GATHER_MS);
    timer.unref();
    subjects.forEach((s, i) => {
      // Local replicas answer too: an ordinary deferred publish reaches them and the routes.
      // Names are text; the subject goes out as their UTF-8 bytes (subject-text.ts), as nats-server's.
      core.delivery.defer(this.ctx.sys, textToWire(s), `${prefix}.${i}`, null, Buffer.alloc(0));
    });
  }

  // ---- streams: stream leader ---------------------------------------------------------------------------------

  /** STREAM.INFO and STREAM.MSG.GET/DELETE: the stream's leader answers with the single-server handler. */
  private byStreamLeader(req: Request, name: string): undefined {
    const acc = req.jsa.account.name;
    const sa = this.ctx.meta.stream(acc, name);
    if (sa === undefined) {
      if (this.ctx.meta.isLeader()) {
        const type = req.subject.includes('.MSG.GET.')
          ? ResponseType.MsgGet
          : req.subject.includes('.MSG.DELETE.')
            ? ResponseType.MsgDelete
            : ResponseType.StreamInfo;
        this.fail(req, type, newJSStreamNotFoundError());
      }
      return;
    }
    const replica = this.local.replicaOf(acc, name);
    const stream = this.local.localStream(sa);
    if (stream === undefined) return;
    if (replica !== undefined && !replica.isLeader()) return;
    if (req.subject.startsWith('$JS.API.STREAM.MSG.DELETE.') && replica !== undefined) {
      this.msgDelete(req, replica, stream.config.sealed, stream.config.deny_delete);
      return;
    }
    const createType = req.hdr.length > 0 && getHeader(req.hdr, 'Nats-Response-Type') === 'create';
    this.ctx.js.api.dispatchRequest({
      jsa: req.jsa,
      // The account's dispatcher takes the subject as received (it converts it itself).
      subject: req.wire,
      reply: req.reply,
      hdr: req.hdr,
      body: req.body,
      replyAccount: this.ctx.sys,
      decorate: (r) => {
        if (!('config' in r)) return r;
        const cluster = replica !== undefined ? replica.info().cluster : this.local.r1Info(stream).cluster;
        const state = r.state as Record<string, unknown> | undefined;
        if (state !== undefined) state.consumer_count = sa.consumers.size;
        const out: Record<string, unknown> = { ...r, cluster };
        if (createType) out.type = ResponseType.StreamCreate;
        return out;
      },
    });
  }

  private msgDelete(
    req: Request,
    replica: NonNullable<ReturnType<LocalAssets['replicaOf']>>,
    sealed: boolean,
    denyDelete: boolean,
  ): undefined {
    const type = ResponseType.MsgDelete;
    if (isEmptyRequest(req.body)) return this.fail(req, type, newJSBadRequestError());
    const o = this.decode(req, type);
    if (o === undefined) return;
    let seq: number;
    let noErase: boolean;
    try {
      seq = o.uint('seq') ?? 0;
      noErase = o.bool('no_erase') ?? false;
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return this.fail(req, type, newJSInvalidJSONError());
    }
    if (sealed) return this.fail(req, type, newJSStreamSealedError());
    if (denyDelete)
      return this.fail(req, type, newJSStreamMsgDeleteFailedError('message delete not permitted'));
    req.jsa.apiTotal++;
    this.ctx.js.apiTotal++;
    replica.proposeDelete({
      client: req.ci,
      stream: replica.name,
      seq,
      ...(noErase ? { no_erase: true } : {}),
      subject: req.subject,
      reply: req.reply,
    });
  }

  private streamPurge(req: Request): undefined {
    const acc = req.jsa.account.name;
    const name = tokenAt(req.subject, 5);
    const replica = this.local.replicaOf(acc, name);
    if (replica === undefined) {
      this.byStreamLeader(req, name);
      return;
    }
    if (!replica.isLeader()) return;
    const type = ResponseType.StreamPurge;
    let request: { filter?: string; seq?: number; keep?: number } | undefined;
    if (!isEmptyRequest(req.body)) {
      const o = this.decode(req, type);
      if (o === undefined) return;
      try {
        request = { filter: o.string('filter') ?? '', seq: o.uint('seq') ?? 0, keep: o.uint('keep') ?? 0 };
      } catch (e) {
        if (!(e instanceof InvalidJsonError)) throw e;
        return this.fail(req, type, newJSInvalidJSONError());
      }
      if (request.seq! > 0 && request.keep! > 0) return this.fail(req, type, newJSBadRequestError());
    }
    const cfg = replica.stream.config;
    if (cfg.sealed) return this.fail(req, type, newJSStreamSealedError());
    if (cfg.deny_purge)
      return this.fail(req, type, newJSStreamPurgeFailedError('stream purge not permitted'));
    req.jsa.apiTotal++;
    this.ctx.js.apiTotal++;
    replica.proposePurge({
      client: req.ci,
      stream: name,
      last_seq: replica.stream.state().lastSeq,
      subject: req.subject,
      reply: req.reply,
      ...(request !== undefined ? { request } : {}),
    });
  }

  private streamStepDown(req: Request): undefined {
    const type = 'io.nats.jetstream.api.v1.stream_leader_stepdown_response';
    const name = tokenAt(req.subject, 6);
    const replica = this.local.replicaOf(req.jsa.account.name, name);
    if (replica === undefined) {
      if (this.ctx.meta.isLeader() && this.ctx.meta.stream(req.jsa.account.name, name) === undefined) {
        this.fail(req, type, newJSStreamNotFoundError());
      }
      return;
    }
    if (!replica.isLeader()) return;
    if (!isEmptyRequest(req.body)) return this.fail(req, type, newJSNotEmptyRequestError());
    this.respond(req, { type, success: true });
    setTimeout(() => replica.node.stepDown(), 50).unref();
  }

  // ---- peers -----------------------------------------------------------------------------------------------

  /** `$JS.API.STREAM.PEER.REMOVE.<stream>` `{"peer":"<server name>"}` (meta leader). */
  private streamPeerRemove(req: Request): undefined {
    const type = 'io.nats.jetstream.api.v1.stream_remove_peer_response';
    if (!this.metaLeaderOnly(req, type)) return;
    if (isEmptyRequest(req.body)) return this.fail(req, type, newJSBadRequestError());
    const o = this.decode(req, type);
    if (o === undefined) return;
    let peer: string;
    try {
      peer = o.string('peer') ?? '';
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return this.fail(req, type, newJSInvalidJSONError());
    }
    if (peer === '') return this.fail(req, type, newJSBadRequestError());
    const sa = this.ctx.meta.stream(req.jsa.account.name, tokenAt(req.subject, 6));
    if (sa === undefined) return this.fail(req, type, newJSStreamNotFoundError());
    const id = nodeIdOf(peer);
    if (!sa.group.peers.includes(id)) return this.fail(req, type, newJSClusterPeerNotMemberError());
    const remapped = this.remapStream(sa, id, req);
    if (!remapped) return this.fail(req, type, newJSPeerRemapError());
    this.respond(req, { type, success: true });
  }

  /** `$JS.API.SERVER.REMOVE` `{"peer":"<name>","peer_id":"<id>"}`: the server leaves the meta group. */
  private serverRemove(req: Request): undefined {
    const type = 'io.nats.jetstream.api.v1.meta_server_remove_response';
    if (!this.metaLeaderOnly(req, type)) return;
    if (isEmptyRequest(req.body)) return this.fail(req, type, newJSBadRequestError());
    const o = this.decode(req, type);
    if (o === undefined) return;
    let id: string;
    try {
      const peerId = o.string('peer_id') ?? '';
      id = peerId !== '' ? peerId : nodeIdOf(o.string('peer') ?? '');
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return this.fail(req, type, newJSInvalidJSONError());
    }
    const node = this.ctx.meta.node!;
    if (!node.peerIds().includes(id)) return this.fail(req, type, newJSClusterServerNotMemberError());
    // nats-server answers this one through its error path (it counts as an error).
    this.respond(req, { type, success: true }, true);
    node.proposeRemovePeer(id);
  }

  /**
   * The meta group removed a server (nats-server's processRemovePeer): every stream it held gets a
   * replacement peer, or loses one (meta leader).
   */
  peerRemoved(id: string): void {
    if (!this.ctx.meta.isLeader()) return;
    for (const sa of this.ctx.meta.allStreams()) {
      if (sa.group.peers.includes(id)) this.remapStream(sa, id, undefined);
    }
  }

  /**
   * nats-server's remapStreamAssignment: replace `id` in the stream's group by another peer of its
   * cluster, or drop it when there is none (false), and propose the new assignment and its consumers'.
   */
  private remapStream(sa: StreamAssignment, id: string, req: Request | undefined): boolean {
    const rest = sa.group.peers.filter((p) => p !== id);
    const placed = selectPeerGroup(
      sa.group.peers.length,
      sa.group.cluster !== undefined && sa.group.cluster !== '' ? sa.group.cluster : this.ctx.clusterName,
      sa.config,
      (this.ctx.meta.node?.allPeerIds() ?? []).filter((p) => p !== id),
      this.ctx.peers,
      rest,
    );
    const replacement = placed.error === '' ? placed.peers.find((p) => !rest.includes(p)) : undefined;
    const peers = placed.error === '' ? placed.peers : rest;
    if (peers.length === 0) return false;
    const node = this.ctx.meta.node!;
    const next: StreamAssignment = {
      ...sa,
      group: { ...sa.group, peers, preferred: '' },
      ...(req !== undefined
        ? { client: { ...req.ci, acc: accountOf(sa.client) }, subject: req.subject, reply: '' }
        : {}),
      consumers: new Map(),
      responded: true,
    };
    node.propose(encodeStreamEntry(EntryOp.AssignStream, next));
    for (const ca of sa.consumers.values()) {
      if (!ca.group.peers.includes(id)) continue;
      let cpeers = ca.group.peers.filter((p) => p !== id);
      if (replacement !== undefined) cpeers = [...cpeers, replacement];
      if (cpeers.length === 0) cpeers = [peers[0]!];
      node.propose(
        encodeConsumerEntry(EntryOp.AssignConsumer, {
          ...ca,
          group: { ...ca.group, peers: cpeers, preferred: '' },
        }),
      );
    }
    return replacement !== undefined;
  }

  // ---- consumers -----------------------------------------------------------------------------------------------

  private consumerCreate(req: Request): undefined {
    const type = ResponseType.ConsumerCreate;
    if (!this.metaLeaderOnly(req, type)) return;
    const o = this.decode(req, type);
    if (o === undefined) return;
    let creq: ReturnType<typeof decodeCreateRequest>;
    try {
      creq = decodeCreateRequest(o);
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return this.fail(req, type, newJSInvalidJSONError());
    }
    const cfg: ConsumerConfig = creq.config;
    // The same checks of the subject as on a single server (nats-server makes them before the meta leader).
    const streamName = checkCreateSubject(req.subject, creq.stream_name, cfg);
    if (typeof streamName !== 'string') return this.fail(req, type, streamName);
    const acc = req.jsa.account.name;
    const sa = this.ctx.meta.stream(acc, streamName);
    if (sa === undefined) return this.fail(req, type, newJSStreamNotFoundError());
    // The limits of the stream's tier (nats-server's jsa.limits[mset.tier]).
    const selected = req.jsa.selectLimits(sa.config);
    if (selected === undefined) return this.fail(req, type, newJSNoLimitsError());
    const limits = selected.limits;
    setConsumerDefaults(cfg, limits.maxAckPending, sa.config.consumer_limits);
    const bad = checkConsumerConfig(cfg, sa.config);
    if (bad !== undefined) return this.fail(req, type, bad);
    if (limits.maxAckPending > 0 && cfg.max_ack_pending > limits.maxAckPending) {
      return this.fail(req, type, newJSConsumerMaxPendingAckExcessError(limits.maxAckPending));
    }
    const name = isDurable(cfg) ? cfg.durable_name : cfg.name !== '' ? cfg.name : randomToken(8);
    const existing = sa.consumers.get(name);
    // nats-server 2.10's create action.
    if (existing !== undefined && creq.action === 'create' && !sameConsumerConfig(cfg, existing.config)) {
      return this.fail(req, type, newJSConsumerAlreadyExistsError());
    }
    if (existing === undefined && creq.action === 'update') {
      return this.fail(req, type, newJSConsumerDoesNotExistError());
    }
    // The stream's max_consumers, or the account's when lower or the stream has none (per stream).
    let maxc = sa.config.max_consumers;
    if (maxc <= 0 || (limits.maxConsumers > 0 && limits.maxConsumers < maxc)) maxc = limits.maxConsumers;
    if (existing === undefined && maxc > 0 && sa.consumers.size >= maxc) {
      return this.fail(req, type, newJSMaximumConsumersLimitError());
    }
    let replicas = cfg.num_replicas;
    if (replicas === 0)
      replicas = !isDurable(cfg) && sa.config.retention === 'limits' ? 1 : sa.group.peers.length;
    if (replicas > sa.group.peers.length) {
      return this.fail(req, type, newJSConsumerCreateError('replicas > stream replicas'));
    }
    let group: RaftGroupInfo;
    if (existing !== undefined) {
      group = existing.group;
    } else {
      const peers = this.consumerPeers(sa.group.peers, cfg.num_replicas, replicas);
      if (peers === undefined) return this.fail(req, type, newJSInsufficientResourcesError());
      group = {
        name: groupName('C', peers.length, cfg.mem_storage ? 'memory' : sa.config.storage),
        peers,
        store: cfg.mem_storage ? 'memory' : sa.config.storage,
        cluster: sa.group.cluster ?? '',
        preferred: peers[Math.floor(Math.random() * peers.length)]!,
      };
    }
    const ca: ConsumerAssignment = {
      client: req.ci,
      created: existing?.created ?? nowNanos(),
      name,
      stream: streamName,
      config: cfg,
      group,
      subject: req.subject,
      reply: req.reply,
      responded: false,
    };
    req.jsa.apiTotal++;
    this.ctx.js.apiTotal++;
    this.ctx.meta.node!.propose(encodeConsumerEntry(EntryOp.AssignConsumer, ca));
  }

  /**
   * The peers of a new consumer (nats-server 2.10's createGroupForConsumer): fewer replicas than the
   * stream are chosen among its online peers, so that an ephemeral of one replica (the KV and object
   * store clients' ordered consumers) is not placed on a server that is down and never answers.
   * Undefined when too few are online (a quorum of the configured replicas, or the replicas wanted).
   */
  private consumerPeers(
    streamPeers: readonly string[],
    configured: number,
    replicas: number,
  ): string[] | undefined {
    const online = streamPeers.filter((p) => this.ctx.peers.isOnline(p) || p === this.ctx.selfId);
    if (Math.floor(configured / 2) + 1 > online.length) return undefined;
    if (replicas >= streamPeers.length) return [...streamPeers];
    if (online.length < replicas) return undefined;
    return online.sort(() => Math.random() - 0.5).slice(0, replicas);
  }

  private consumerDelete(req: Request): undefined {
    const type = ResponseType.ConsumerDelete;
    if (!this.metaLeaderOnly(req, type)) return;
    if (!isEmptyRequest(req.body)) return this.fail(req, type, newJSNotEmptyRequestError());
    const sa = this.ctx.meta.stream(req.jsa.account.name, tokenAt(req.subject, 5));
    if (sa === undefined) return this.fail(req, type, newJSStreamNotFoundError());
    const ca = sa.consumers.get(tokenAt(req.subject, 6));
    if (ca === undefined) return this.fail(req, type, newJSConsumerNotFoundError());
    const rm: ConsumerAssignment = {
      ...ca,
      client: req.ci,
      created: 0n,
      subject: req.subject,
      reply: req.reply,
    };
    this.ctx.meta.node!.propose(encodeConsumerEntry(EntryOp.RemoveConsumer, rm));
  }

  private consumerNamesOrList(req: Request, list: boolean): undefined {
    const type = list ? ResponseType.ConsumerList : ResponseType.ConsumerNames;
    if (!this.metaLeaderOnly(req, type)) return;
    let offset = 0;
    if (!isEmptyRequest(req.body)) {
      const o = this.decode(req, type);
      if (o === undefined) return;
      try {
        offset = Math.max(0, o.int('offset') ?? 0);
      } catch (e) {
        if (!(e instanceof InvalidJsonError)) throw e;
        return this.fail(req, type, newJSInvalidJSONError());
      }
    }
    const acc = req.jsa.account.name;
    const streamName = tokenAt(req.subject, 5);
    const sa = this.ctx.meta.stream(acc, streamName);
    if (sa === undefined) return this.fail(req, type, newJSStreamNotFoundError());
    const names = [...sa.consumers.keys()].sort();
    const total = names.length;
    offset = Math.min(offset, total);
    const limit = list ? JS_API_LIST_LIMIT : JS_API_NAMES_LIMIT;
    const page = names.slice(offset, offset + limit);
    if (!list) {
      this.respond(req, { type, total, offset, limit, consumers: page });
      return;
    }
    this.gather(
      page.map((n) => `$JSC.CI.${acc}.${streamName}.${n}`),
      (infos) => {
        const consumers = infos.filter((i): i is Record<string, unknown> => i !== undefined);
        this.respond(req, { type, total, offset, limit, consumers });
      },
    );
  }

  private byConsumerLeader(req: Request): undefined {
    const acc = req.jsa.account.name;
    const streamName = tokenAt(req.subject, 5);
    const name = tokenAt(req.subject, 6);
    const ca = this.ctx.meta.consumer(acc, streamName, name);
    if (ca === undefined) {
      if (this.ctx.meta.isLeader()) {
        const e =
          this.ctx.meta.stream(acc, streamName) === undefined
            ? newJSStreamNotFoundError()
            : newJSConsumerNotFoundError();
        this.fail(req, ResponseType.ConsumerInfo, e);
      }
      return;
    }
    const rc = this.local.consumerReplicaOf(acc, streamName, name);
    if (rc !== undefined && !rc.isLeader()) return;
    if (rc === undefined && !ca.group.peers.includes(this.ctx.selfId)) return;
    this.ctx.js.api.dispatchRequest({
      jsa: req.jsa,
      // The account's dispatcher takes the subject as received (it converts it itself).
      subject: req.wire,
      reply: req.reply,
      hdr: req.hdr,
      body: req.body,
      replyAccount: this.ctx.sys,
      decorate: (r) => {
        if (!('config' in r)) return r;
        const cluster =
          rc !== undefined ? rc.info().cluster : { name: this.ctx.clusterName, leader: this.ctx.core.name };
        return { ...r, cluster };
      },
    });
  }

  private consumerStepDown(req: Request): undefined {
    const type = 'io.nats.jetstream.api.v1.consumer_leader_stepdown_response';
    const acc = req.jsa.account.name;
    const rc = this.local.consumerReplicaOf(acc, tokenAt(req.subject, 6), tokenAt(req.subject, 7));
    if (rc === undefined || !rc.isLeader()) return;
    if (!isEmptyRequest(req.body)) return this.fail(req, type, newJSNotEmptyRequestError());
    this.respond(req, { type, success: true });
    setTimeout(() => rc.node.stepDown(), 50).unref();
  }
}

/**
 * tsnats runs mirrors and sources on single-replica streams only (the consumers feeding a replicated
 * stream would have to follow its leader and propose what they receive): refused on replicated streams.
 */
function replicatedSourcingError(cfg: StreamConfig): ApiError | undefined {
  if (cfg.num_replicas <= 1 || (cfg.mirror === undefined && (cfg.sources?.length ?? 0) === 0))
    return undefined;
  return newJSStreamInvalidConfigError('mirrors and sources are only supported on streams with one replica');
}
