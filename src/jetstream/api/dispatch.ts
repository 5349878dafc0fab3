/**
 * The JetStream API entry point (nats-server's apiDispatch, ADR-1): every request on `$JS.API.>` in a
 * JetStream-enabled account arrives here and goes to the handler whose subject pattern matches. As with
 * nats-server, a subject no handler matches gets no answer at all (the requester times out), and so do
 * direct gets here (streams with allow_direct answer those on their own subscriptions).
 *
 * Handlers run synchronously, in the order requests arrive, so a request and the publishes around it keep
 * their order; responses go out through the out queue (outbound.ts). Handlers count requests for
 * $JS.API.INFO and /jsz as nats-server does: `respond` counts a request, `respondError` an error too.
 */
import { isAscii, wireToText } from '../../routing/subject-text.js';
import type { Account } from '../../server/account.js';
import type { Client } from '../../server/client.js';
import type { JsAccount } from '../account.js';
import { API_AUDIT_SUBJECT, type ClientInfo, requesterInfo, sendApiAudit } from '../advisories.js';
import type { JetStream } from '../jetstream.js';
import { goJson } from './json.js';

/** One API request. `body` and `hdr` are views valid only while the handler runs. */
export interface ApiRequest {
  readonly jsa: JsAccount;
  readonly subject: string;
  readonly reply: string;
  /** The header block ('' when none). */
  readonly hdr: Buffer;
  readonly body: Buffer;
  /**
   * Where the response is published: the requester's account, or (clustered JetStream) the system
   * account, where the request arrived through the `$JS.API.>` import.
   */
  readonly replyAccount?: Account;
  /** Clustered JetStream adds to a response (the `cluster` block of infos). */
  readonly decorate?: (response: Record<string, unknown>) => Record<string, unknown>;
  /** Who asked (the API audit's `client`); clustered requests carry it in Nats-Request-Info. */
  readonly ci?: ClientInfo;
  /** The client that sent the request, when it came from one of ours (for `ci` when there is none). */
  readonly producer?: Client | null;
}

export type ApiHandler = (req: ApiRequest) => void;

interface Route {
  tokens: string[];
  handler: ApiHandler;
}

const EMPTY = Buffer.alloc(0);

/** Whether `subject` matches the pattern's tokens (`*` one token, `>` the rest). */
function matches(tokens: readonly string[], subject: string): boolean {
  const st = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '>') return st.length > i;
    if (i >= st.length) return false;
    if (t !== '*' && t !== st[i]) return false;
  }
  return st.length === tokens.length;
}

export class ApiRouter {
  private readonly routes: Route[] = [];

  constructor(readonly js: JetStream) {}

  /** Handle requests on `pattern` (e.g. `$JS.API.STREAM.INFO.*`). */
  register(pattern: string, handler: ApiHandler): void {
    this.routes.push({ tokens: pattern.split('.'), handler });
  }

  /** The internal subscription callback for `$JS.API.>`. */
  dispatch(
    jsa: JsAccount,
    subject: string,
    reply: string,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
  ): void {
    let route: Route | undefined;
    for (const r of this.routes) {
      if (matches(r.tokens, subject)) {
        route = r;
        break;
      }
    }
    if (route === undefined) return;
    this.handle(route, {
      jsa,
      subject,
      reply,
      hdr: hdr > 0 ? buf.subarray(start, start + hdr) : EMPTY,
      body: buf.subarray(start + (hdr > 0 ? hdr : 0), start + size),
      producer: this.js.server.delivery.producer,
    });
  }

  /** Handle a request built elsewhere (clustered JetStream hands the requests this server answers). */
  dispatchRequest(req: ApiRequest): boolean {
    for (const r of this.routes) {
      if (matches(r.tokens, req.subject)) {
        this.handle(r, req);
        return true;
      }
    }
    return false;
  }

  private handle(route: Route, req: ApiRequest): void {
    const subject = req.subject;
    // Subjects arrive as byte strings (latin1); names in them are UTF-8, as in the JSON bodies they are
    // compared with (a stream "é" is created by `$JS.API.STREAM.CREATE.é`).
    if (!isAscii(subject)) req = { ...req, subject: wireToText(subject) };
    try {
      route.handler(req);
    } catch (e) {
      this.js.server.logger.error(
        `JetStream API request on "${subject}" failed: ${(e as Error).stack ?? String(e)}`,
      );
    }
  }

  /** Send a response, count the request and audit it (nats-server's sendAPIResponse). */
  respond(req: ApiRequest, response: object): void {
    this.track(req.jsa, false);
    this.audit(req, this.send(req, response));
  }

  /** Send an error response, count and audit it (nats-server's sendAPIErrResponse). */
  respondError(req: ApiRequest, response: object): void {
    this.track(req.jsa, true);
    const json = goJson(response);
    this.js.out.deferString(req.replyAccount ?? req.jsa.account, req.reply, json);
    this.audit(req, json);
  }

  /** Send without counting or auditing (nats-server sends STREAM.MSG.GET results this way). */
  send(req: ApiRequest, response: object): string {
    const r =
      req.decorate !== undefined && !('error' in response)
        ? req.decorate(response as Record<string, unknown>)
        : response;
    const json = goJson(r);
    this.js.out.deferString(req.replyAccount ?? req.jsa.account, req.reply, json);
    return json;
  }

  private audit(req: ApiRequest, response: string): void {
    const acc = req.jsa.account;
    if (!acc.sublist.hasInterest(API_AUDIT_SUBJECT)) return;
    const ci = req.ci ?? requesterInfo(this.js, acc, req.producer ?? null);
    sendApiAudit(this.js, acc, ci, req.subject, req.body.toString('utf8'), response);
  }

  private track(jsa: JsAccount, error: boolean): void {
    jsa.apiTotal++;
    this.js.apiTotal++;
    if (error) {
      jsa.apiErrors++;
      this.js.apiErrors++;
    }
  }
}
