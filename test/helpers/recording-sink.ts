/** A parser sink for tests: every event as a line of text, so runs can be compared exactly. */
import type { MsgArgs, ParserSink, SubOp } from '../../src/protocol/parser.js';

/** Records every parser event as a line of text, so runs can be compared exactly. */
export class RecordingSink implements ParserSink {
  events: string[] = [];
  maxPayload = Number.MAX_SAFE_INTEGER;
  onMsgArgs(pa: MsgArgs): boolean {
    if (pa.size > this.maxPayload) {
      this.events.push(`too-big ${pa.size}`);
      return false;
    }
    return true;
  }
  onMsg(pa: MsgArgs, buf: Buffer, start: number): void {
    const data = buf.subarray(start, start + pa.size);
    const q = pa.queues.length > 0 ? ` q=${pa.queues.join(',')}` : '';
    const acc = pa.account !== '' ? ` acc=${pa.account}` : '';
    const org = pa.origin !== '' ? ` origin=${pa.origin}` : '';
    this.events.push(
      `msg op=${pa.op}${org}${acc} ${pa.subject} reply=${pa.reply} hdr=${pa.hdr} size=${pa.size}${q} ${JSON.stringify(data.toString('latin1'))}`,
    );
  }
  onConnect(arg: string): boolean {
    this.events.push(`connect ${arg}`);
    return true;
  }
  onInfo(arg: string): boolean {
    this.events.push(`info ${arg}`);
    return true;
  }
  onSub(op: SubOp, args: string[]): boolean {
    this.events.push(`sub ${op} ${args.join('|')}`);
    return true;
  }
  onUnsub(op: SubOp, args: string[]): boolean {
    this.events.push(`unsub ${op} ${args.join('|')}`);
    return true;
  }
  onPing(): void {
    this.events.push('ping');
  }
  onPong(): void {
    this.events.push('pong');
  }
  onOk(): void {
    this.events.push('ok');
  }
  onErr(arg: string): void {
    this.events.push(`err ${arg}`);
  }
  /** Details of parse errors, for the tests that look at them. */
  details: string[] = [];
  onParseError(err: string, detail: string): void {
    this.events.push(`parse-error ${err}`);
    this.details.push(detail);
  }
  onAuthRequiredViolation(): void {
    this.events.push('auth-violation');
  }
}
