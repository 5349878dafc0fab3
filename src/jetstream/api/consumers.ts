/**
 * Consumer API handlers (nats-server jetstream_api.go, single server): CONSUMER.CREATE (legacy ephemeral
 * `CREATE.<stream>`, named `CREATE.<stream>.<name>[.<filter>]`, legacy durable
 * `DURABLE.CREATE.<stream>.<name>`), CONSUMER.INFO / DELETE / NAMES / LIST, pull requests on
 * CONSUMER.MSG.NEXT, and leader stepdown (which needs clustering). Each checks what nats-server checks,
 * in the same order, and answers with the same shape.
 */
import { tokenAt } from '../../routing/subject.js';
import { decodeCreateRequest } from '../consumer/config.js';
import { Consumer } from '../consumer/consumer.js';
import { addConsumer, lookupConsumer, publicConsumers } from '../consumer/registry.js';
import { checkCreateSubject } from './consumer-create-subject.js';
import type { ApiRequest, ApiRouter } from './dispatch.js';
import {
  type ApiError,
  newJSClusterRequiredError,
  newJSConsumerCreateError,
  newJSConsumerNotFoundError,
  newJSInvalidJSONError,
  newJSNotEmptyRequestError,
  newJSStreamNotFoundError,
  newJSStreamReplicasNotSupportedError,
} from './errors.generated.js';
import { decodeRequest, InvalidJsonError, isEmptyRequest } from './json.js';
import { JS_API_LIST_LIMIT, JS_API_NAMES_LIMIT, ResponseType } from './types.js';

/** `base` with `error` inserted right after `type`, where Go puts it. */
function withError(base: object, error: ApiError): object {
  const { type, ...rest } = base as { type: string };
  return { type, error, ...rest };
}

export function registerConsumerApi(router: ApiRouter): void {
  const err = (req: ApiRequest, base: object, e: ApiError): void =>
    router.respondError(req, withError(base, e));

  const create = (req: ApiRequest) => {
    const base = { type: ResponseType.ConsumerCreate };
    let creq: ReturnType<typeof decodeCreateRequest>;
    try {
      creq = decodeCreateRequest(decodeRequest(req.body));
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return err(req, base, newJSInvalidJSONError());
    }
    const cfg = creq.config;
    const checked = checkCreateSubject(req.subject, creq.stream_name, cfg);
    if (typeof checked !== 'string') return err(req, base, checked);
    if (cfg.num_replicas > 1) return err(req, base, newJSStreamReplicasNotSupportedError());
    const stream = req.jsa.lookupStream(creq.stream_name);
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    const r = addConsumer(req.jsa, stream, cfg, undefined, undefined, creq.action);
    if (typeof r === 'string') return err(req, base, newJSConsumerCreateError(r));
    if (!(r instanceof Consumer)) return err(req, base, r);
    router.respond(req, { ...base, ...r.info() });
  };
  router.register('$JS.API.CONSUMER.CREATE.*', create);
  router.register('$JS.API.CONSUMER.CREATE.*.>', create);
  router.register('$JS.API.CONSUMER.DURABLE.CREATE.*.*', create);

  const namesOrList = (list: boolean) => (req: ApiRequest) => {
    const base = {
      type: list ? ResponseType.ConsumerList : ResponseType.ConsumerNames,
      total: 0,
      offset: 0,
      limit: 0,
      consumers: [] as unknown[],
    };
    let offset = 0;
    if (!isEmptyRequest(req.body)) {
      try {
        offset = decodeRequest(req.body).int('offset') ?? 0;
      } catch (e) {
        if (!(e instanceof InvalidJsonError)) throw e;
        return err(req, base, newJSInvalidJSONError());
      }
    }
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 5));
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    const all = publicConsumers(stream);
    const total = all.length;
    offset = Math.max(0, Math.min(offset, total));
    const limit = list ? JS_API_LIST_LIMIT : JS_API_NAMES_LIMIT;
    const page = all.slice(offset, offset + limit);
    router.respond(req, {
      type: base.type,
      total,
      offset,
      limit,
      consumers: list ? page.map((c) => c.info()) : page.map((c) => c.name),
    });
  };
  router.register('$JS.API.CONSUMER.NAMES.*', namesOrList(false));
  router.register('$JS.API.CONSUMER.LIST.*', namesOrList(true));

  router.register('$JS.API.CONSUMER.INFO.*.*', (req) => {
    const base = { type: ResponseType.ConsumerInfo };
    if (!isEmptyRequest(req.body)) return err(req, base, newJSNotEmptyRequestError());
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 5));
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    const c = lookupConsumer(stream, tokenAt(req.subject, 6));
    if (c === undefined) return err(req, base, newJSConsumerNotFoundError());
    router.respond(req, { ...base, ...c.info() });
  });

  router.register('$JS.API.CONSUMER.DELETE.*.*', (req) => {
    const base = { type: ResponseType.ConsumerDelete };
    if (!isEmptyRequest(req.body)) return err(req, base, newJSNotEmptyRequestError());
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 5));
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    const c = lookupConsumer(stream, tokenAt(req.subject, 6));
    if (c === undefined) return err(req, base, newJSConsumerNotFoundError());
    c.delete();
    router.respond(req, { ...base, success: true });
  });

  // Pull requests: answered by the consumer with messages or status messages, never by the API.
  router.register('$JS.API.CONSUMER.MSG.NEXT.*.*', (req) => {
    if (req.reply === '') return;
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 6));
    if (stream === undefined) return;
    lookupConsumer(stream, tokenAt(req.subject, 7))?.processNextMsgRequest(req.reply, req.body);
  });

  router.register('$JS.API.CONSUMER.LEADER.STEPDOWN.*.*', (req) =>
    router.respondError(req, {
      type: 'io.nats.jetstream.api.v1.consumer_leader_stepdown_response',
      error: newJSClusterRequiredError(),
    }),
  );
}
