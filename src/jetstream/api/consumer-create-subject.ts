/**
 * What the subject of a consumer create request says, checked against its body as nats-server 2.10's
 * jsConsumerCreateRequest does before it hands the request to a single server or to the meta leader, so
 * both paths answer the same:
 *
 * - `$JS.API.CONSUMER.CREATE.<stream>`: legacy ephemeral, no durable name (10020);
 * - `$JS.API.CONSUMER.DURABLE.CREATE.<stream>.<durable>`: legacy durable, exactly that many tokens (10016),
 *   a durable name (10018) matching the subject's (10017);
 * - `$JS.API.CONSUMER.CREATE.<stream>.<name>[.<filter>]`: the name is the consumer's (a durable name must
 *   match it, 10017); a filter in the subject must be the body's `filter_subject` (10131) and can not stand
 *   for several `filter_subjects` (10137).
 *
 * The stream must be the body's `stream_name` (10056) and a name may not hold a path separator (10127).
 */
import { numTokens, tokenAt } from '../../routing/subject.js';
import type { ConsumerConfig } from '../consumer/config.js';
import {
  type ApiError,
  newJSConsumerCreateFilterSubjectMismatchError,
  newJSConsumerDurableNameNotInSubjectError,
  newJSConsumerDurableNameNotMatchSubjectError,
  newJSConsumerDurableNameNotSetError,
  newJSConsumerEphemeralWithDurableNameError,
  newJSConsumerMultipleFiltersNotAllowedError,
  newJSConsumerNameContainsPathSeparatorsError,
  newJSStreamMismatchError,
} from './errors.generated.js';

/**
 * Check a create request's subject against its stream name and config; sets `cfg.name` from the subject of
 * the named form. Returns the stream's name, or the error to answer with.
 */
export function checkCreateSubject(
  subject: string,
  streamName: string,
  cfg: ConsumerConfig,
): string | ApiError {
  const n = numTokens(subject);
  let kind: 'ephemeral' | 'durable' | 'named';
  let stream: string;
  let consumerName = '';
  let filtered = '';
  if (n === 5) {
    kind = 'ephemeral';
    stream = tokenAt(subject, 5);
  } else if (tokenAt(subject, 4) === 'DURABLE') {
    kind = 'durable';
    if (n !== 7) return newJSConsumerDurableNameNotInSubjectError();
    stream = tokenAt(subject, 6);
    consumerName = tokenAt(subject, 7);
  } else {
    kind = 'named';
    stream = tokenAt(subject, 5);
    consumerName = tokenAt(subject, 6);
    // Everything after the name is the filter (nats-server 2.9.10 missed a one-token filter; 2.10 does not).
    if (n > 6) filtered = subject.split('.').slice(6).join('.');
  }
  if (stream !== streamName) return newJSStreamMismatchError();
  if (consumerName !== '' && /[\\/]/.test(consumerName))
    return newJSConsumerNameContainsPathSeparatorsError();
  if (kind === 'durable') {
    if (cfg.durable_name === '') return newJSConsumerDurableNameNotSetError();
    if (consumerName !== cfg.durable_name) return newJSConsumerDurableNameNotMatchSubjectError();
  }
  if (kind === 'named') {
    if (cfg.durable_name !== '' && consumerName !== cfg.durable_name) {
      return newJSConsumerDurableNameNotMatchSubjectError();
    }
    cfg.name = consumerName;
  }
  if (kind === 'ephemeral' && cfg.durable_name !== '') return newJSConsumerEphemeralWithDurableNameError();
  // Several filters can not be named in the subject, so the subject form can not carry them.
  if (filtered !== '' && cfg.filter_subjects.length > 0) return newJSConsumerMultipleFiltersNotAllowedError();
  if (filtered !== '' && cfg.filter_subject !== filtered)
    return newJSConsumerCreateFilterSubjectMismatchError();
  return stream;
}
