/**
 * The status messages a consumer sends (header-only messages `NATS/1.0 <code> <description>`): answers to
 * pull requests, idle heartbeats and flow control requests.
 */

const CRLF = '\r\n';

/** A status message header block: `NATS/1.0 <code> <description>` plus headers. */
export function statusHdr(code: number, description: string, extra = ''): Buffer {
  return Buffer.from(`NATS/1.0 ${code} ${description}${CRLF}${extra}${CRLF}`, 'utf8');
}

/** What a pull request still wanted, for the status that ends it. */
export function pendingHdrs(n: number, b: number): string {
  return `Nats-Pending-Messages: ${n}${CRLF}Nats-Pending-Bytes: ${b}${CRLF}`;
}

/**
 * An idle heartbeat (push consumers and pull requests): the last delivery and stream sequences, and the
 * pending flow control request when the consumer is stalled on one ('' = not stalled).
 */
export function idleHeartbeatHdr(lastConsumerSeq: number, lastStreamSeq: number, stalled: string): Buffer {
  let extra = `Nats-Last-Consumer: ${lastConsumerSeq}${CRLF}Nats-Last-Stream: ${lastStreamSeq}${CRLF}`;
  if (stalled !== '') extra += `Nats-Consumer-Stalled: ${stalled}${CRLF}`;
  return statusHdr(100, 'Idle Heartbeat', extra);
}
