import '../util/buffer-methods.js';
/**
 * The NATS protocol parser: a byte-at-a-time state machine with no I/O (the same machine as
 * nats-server's server/parser.go, written for V8). It walks each read buffer in place: control-line
 * arguments are sliced out of the buffer and the payload is skipped by jumping the index forward, so a
 * PUB whose frame sits inside one read costs no copy at all. Bytes are copied only when a frame is split
 * across reads (into `argBuf` for a control line, `msgBuf` for a payload).
 *
 * The machine handles every op, but a publisher's common frames bypass it: whole PUB and HPUB frames
 * (pubRun and fastPub), one whose payload a read cuts (splitPub) and that payload's end (finishPayload).
 * Those small functions are what V8 optimises first; the machine, with all its rare states, is compiled
 * later or not at all, and a path that optimised code has never seen run cannot throw away the code on the
 * hot path.
 *
 * Ops are case-insensitive, separators are spaces or tabs and a control line may end in a bare LF so that
 * a person can type the protocol into telnet.
 */

/** The ops that end up in a sink call; which ones a connection accepts depends on its kind. */
export const ConnKind = { CLIENT: 0, ROUTER: 1, LEAF: 2 } as const;
export type ConnKind = (typeof ConnKind)[keyof typeof ConnKind];

const S = {
  START: 0,
  PLUS: 1,
  PLUS_O: 2,
  PLUS_OK: 3,
  MINUS: 4,
  MINUS_E: 5,
  MINUS_ER: 6,
  MINUS_ERR: 7,
  MINUS_ERR_SPC: 8,
  MINUS_ERR_ARG: 9,
  C: 10,
  CO: 11,
  CON: 12,
  CONN: 13,
  CONNE: 14,
  CONNEC: 15,
  CONNECT: 16,
  CONNECT_ARG: 17,
  H: 18,
  HP: 19,
  HPU: 20,
  HPUB: 21,
  HPUB_SPC: 22,
  HPUB_ARG: 23,
  HM: 24,
  HMS: 25,
  HMSG: 26,
  HMSG_SPC: 27,
  HMSG_ARG: 28,
  P: 29,
  PU: 30,
  PUB: 31,
  PUB_SPC: 32,
  PUB_ARG: 33,
  PI: 34,
  PIN: 35,
  PING: 36,
  PO: 37,
  PON: 38,
  PONG: 39,
  MSG_PAYLOAD: 40,
  MSG_END_R: 41,
  MSG_END_N: 42,
  S: 43,
  SU: 44,
  SUB: 45,
  SUB_SPC: 46,
  SUB_ARG: 47,
  L: 48,
  LS: 49,
  R: 50,
  RS: 51,
  U: 52,
  UN: 53,
  UNS: 54,
  UNSU: 55,
  UNSUB: 56,
  UNSUB_SPC: 57,
  UNSUB_ARG: 58,
  M: 59,
  MS: 60,
  MSG: 61,
  MSG_SPC: 62,
  MSG_ARG: 63,
  I: 64,
  IN: 65,
  INF: 66,
  INFO: 67,
  INFO_ARG: 68,
} as const;
type State = (typeof S)[keyof typeof S];

/** Which interest op a SUB_ARG/UNSUB_ARG line belongs to (client SUB, route RS+, route LS+). */
export const SubOp = { SUB: 0, RS: 1, LS: 2 } as const;
export type SubOp = (typeof SubOp)[keyof typeof SubOp];

/** Which message op a payload belongs to. */
export const MsgOp = { PUB: 0, HPUB: 1, RMSG: 2, HRMSG: 3, LMSG: 4, HLMSG: 5 } as const;
export type MsgOp = (typeof MsgOp)[keyof typeof MsgOp];

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER = 0x20; // OR-ing this into an ASCII letter lower-cases it

/**
 * Arguments of the message being parsed. One instance per parser, reused for every message: a sink that
 * wants to keep a value copies it.
 */
export class MsgArgs {
  op: MsgOp = MsgOp.PUB;
  /** Subject, decoded as latin1 so that writing it back out is byte-exact. */
  subject = '';
  /** Reply subject or '' when there is none. */
  reply = '';
  /** Total size: headers + payload. */
  size = 0;
  /** Header size, -1 when the message has no header section. */
  hdr = -1;
  /**
   * The size and header-size digits exactly as sent, when they differ from the plain number (leading
   * zeros): nats-server repeats the publisher's digits in MSG, so we do too. '' otherwise.
   */
  szb = '';
  hdb = '';
  /** Routes only: account name (RMSG/LMSG). Routes and leaf nodes: queue-group names. */
  account = '';
  queues: string[] = [];
  /** LMSG only: origin cluster. */
  origin = '';
}

/** Receives what the parser finds. A method returning false stops the parse (the connection closes). */
export interface ParserSink {
  /** Control line of PUB/HPUB/RMSG... is parsed: validate limits before the payload is read. */
  onMsgArgs(pa: MsgArgs): boolean;
  /**
   * A whole message: headers + payload (without the trailing CRLF) are `pa.size` bytes of `buf` from
   * `start`. `buf` is the read buffer (or the parser's split buffer): the bytes are valid only during the
   * call. Offsets rather than a subarray, so that no object is made per message.
   */
  onMsg(pa: MsgArgs, buf: Buffer, start: number): void;
  onConnect(arg: string): boolean;
  onInfo(arg: string): boolean;
  /** SUB/RS+/LS+ with its whitespace-separated arguments. */
  onSub(op: SubOp, args: string[]): boolean;
  /** UNSUB/RS-/LS- with its whitespace-separated arguments. */
  onUnsub(op: SubOp, args: string[]): boolean;
  onPing(): void;
  onPong(): void;
  onOk(): void;
  onErr(arg: string): void;
  /**
   * The input is not the NATS protocol: `err` is the -ERR text nats-server would send (or '' when it
   * sends none) and `detail` says what the parser saw, for the log.
   */
  onParseError(err: string, detail: string): void;
  /** Authorization is required and the first op is not CONNECT. */
  onAuthRequiredViolation(): void;
}

/** nats-server's -ERR texts for parser-level failures. */
export const ERR_UNKNOWN_OP = 'Unknown Protocol Operation';
export const ERR_MAX_CONTROL_LINE = 'maximum control line exceeded';

const MAX_SIZE_DIGITS = 9; // like nats-server's parseSize: up to 999,999,999

/** "PUB " or "PUB\t" in any case at `i`. */
function pubAt(buf: Buffer, i: number, len: number): boolean {
  return (
    i + 3 < len &&
    (buf[i]! | LOWER) === 0x70 &&
    (buf[i + 1]! | LOWER) === 0x75 &&
    (buf[i + 2]! | LOWER) === 0x62 &&
    (buf[i + 3] === SPACE || buf[i + 3] === TAB)
  );
}

/** "HPUB " or "HPUB\t" in any case at `i`. */
function hpubAt(buf: Buffer, i: number, len: number): boolean {
  return i + 4 < len && (buf[i]! | LOWER) === 0x68 && pubAt(buf, i + 1, len);
}

/** Parse a non-negative decimal size from bytes, -1 when malformed (nats-server's parseSize). */
function parseSize(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len === 0 || len > MAX_SIZE_DIGITS) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < ZERO || c > NINE) return -1;
    n = n * 10 + (c - ZERO);
  }
  return n;
}

/** Largest number of whitespace-separated arguments we keep for a message op (RMSG with queues). */
const MAX_ARGS = 64;

/** The empty buffer every parser starts with (one object, not two per connection). Never written to. */
const NO_BYTES = Buffer.alloc(0);

/** fastPub's answers besides an index: not a frame it takes (the state machine will); the parser failed. */

const NOT_HERE = -2;
const PARSE_FAILED = -3;

export class Parser {
  state: State = S.START;
  /** First letter of the current op, to tell RS+ from LS+ and RMSG from LMSG. */
  private op = 0;
  /** Start of the current argument in the current buffer. */
  private as = 0;
  /** 1 when the control line ended with CR (drop it from the argument). */
  private drop = 0;
  /** Control line carried over from a previous read, or null. */
  private argBuf: Buffer | null = null;
  private argLen = 0;
  /** Payload carried over from a previous read, or null. */
  private msgBuf: Buffer | null = null;
  private msgLen = 0;
  /** Argument token offsets into the control line: start, end pairs. */
  private readonly tok = new Int32Array(MAX_ARGS * 2);
  private readonly strArgs: string[] = [];
  /** Where the control line that just ended lives (the read buffer or argBuf). */
  private lb: Buffer = NO_BYTES;
  private lbStart = 0;
  private lbEnd = 0;
  /** The last message subject and its bytes (see subjectStr). */
  private lastSubj = '';
  private lastSubjLen = -1;
  private readonly lastSubjBytes = Buffer.allocUnsafe(128);
  readonly pa = new MsgArgs();
  /** Set true by the connection until CONNECT has been processed, when auth is required. */
  awaitingAuth = false;
  /**
   * Set by the sink during a callback to stop after the current op and keep the rest of the read for
   * later (the connection checks credentials asynchronously). `resume()` hands the rest back.
   */
  suspended = false;
  private held: Buffer = NO_BYTES;
  /** Where parse goes on after the state machine returns (see machine). */
  private next = 0;

  constructor(
    private readonly sink: ParserSink,
    public kind: ConnKind = ConnKind.CLIENT,
    /** max_control_line; enforced for clients only, as in nats-server. */
    public maxControlLine = 4096,
  ) {}

  /**
   * Feed one read. Returns false when parsing stopped (protocol error or a sink refusal). Each fast path
   * either takes a frame whole or leaves it untouched to the state machine, which returns here at the start
   * of the next op.
   */
  parse(buf: Buffer): boolean {
    const len = buf.length;
    let i = 0;
    while (i < len) {
      const st = this.state;
      if (st === S.START) {
        if (!this.awaitingAuth && this.argBuf === null) {
          let next = this.pubRun(buf, i, len);
          if (next >= 0 && next < len) {
            i = next;
            next = this.splitPub(buf, i, len);
            if (next === NOT_HERE) next = i;
          }
          if (next === PARSE_FAILED) return false;
          if (next === len) return true;
          i = next;
        }
      } else if (st === S.MSG_PAYLOAD && this.msgBuf !== null) {
        const next = this.finishPayload(buf, i, len);
        if (next !== NOT_HERE) {
          i = next;
          continue;
        }
      }
      if (!this.machine(buf, i)) return false;
      i = this.next;
    }
    return true;
  }

  /**
   * A PUB or HPUB frame at `i` whose line is whole in this read but whose payload is not: how most reads
   * from a publisher of larger messages end. Its arguments are checked and the payload's first part is
   * kept, as the state machine does, in fewer steps. Returns `len` (taken), NOT_HERE (nothing done: the
   * state machine takes it) or PARSE_FAILED.
   */
  private splitPub(buf: Buffer, i: number, len: number): number {
    let k: number;
    let hdr: boolean;
    if (pubAt(buf, i, len)) {
      k = i + 4;
      hdr = false;
    } else if (hpubAt(buf, i, len)) {
      k = i + 5;
      hdr = true;
    } else {
      return NOT_HERE;
    }
    while (k < len && (buf[k] === SPACE || buf[k] === TAB)) k++;
    // The line as the state machine reads it (PUB_ARG): to the LF, without its CR.
    let j = k;
    let drop = 0;
    for (; j < len; j++) {
      const c = buf[j]!;
      if (c === LF) break;
      if (c === CR) drop = 1;
    }
    if (j === len) return NOT_HERE;
    const n = this.tokenize(buf, k, j - drop, false);
    const size = this.frameSize(buf, n, hdr);
    if (size < 0 || len - (j + 1) >= size) return NOT_HERE;
    this.pa.op = hdr ? MsgOp.HPUB : MsgOp.PUB;
    this.as = k;
    this.drop = drop;
    if (!this.pubArgs(buf, j, n, hdr, size, false)) return PARSE_FAILED;
    this.drop = 0;
    this.as = j + 1;
    this.state = S.MSG_PAYLOAD;
    return this.keepPayloadStart(buf, len) ? len : PARSE_FAILED;
  }

  /**
   * What saveSplit does for a payload that starts at `as` and is cut short by the end of this read
   * (splitPub checked that it is), without saveSplit's other cases: a small function to compile once a
   * publisher of larger messages makes this the end of nearly every read.
   */
  private keepPayloadStart(buf: Buffer, len: number): boolean {
    // nats-server checks the PUB arguments again at this point (clonePubArg), as saveSplit does.
    if (this.kind === ConnKind.CLIENT && !this.sink.onMsgArgs(this.pa)) return false;
    const have = len - this.as;
    const mb = Buffer.allocUnsafe(this.pa.size + 2);
    buf.copy(mb, 0, this.as, len);
    this.msgBuf = mb;
    this.msgLen = have;
    return true;
  }

  /**
   * The rest of a payload that began in an earlier read, when it and its CRLF are all in this one: copied
   * in one step and handed to the sink. Returns the index after the frame, or NOT_HERE (the state machine
   * takes it: the payload goes on in later reads, or what follows it is not a CRLF).
   */
  private finishPayload(buf: Buffer, i: number, len: number): number {
    const mb = this.msgBuf!;
    const need = this.pa.size - this.msgLen;
    const end = i + need;
    if (need < 0 || end + 1 >= len || buf[end] !== CR || buf[end + 1] !== LF) return NOT_HERE;
    buf.copy(mb, this.msgLen, i, end);
    this.frameEnded(end + 2);
    this.sink.onMsg(this.pa, mb, 0);
    return end + 2;
  }

  /** A message frame ended before `next`: back to the start state, with nothing carried over. */
  private frameEnded(next: number): void {
    this.argBuf = null;
    this.msgBuf = null;
    this.msgLen = 0;
    this.drop = 0;
    this.as = next;
    this.state = S.START;
  }

  /**
   * A publisher's frames, one after another from `i` (the first byte of an op): each whole `PUB` or `HPUB`
   * frame in this buffer goes to the sink without a step of the state machine. Returns the index of the
   * first byte it did not take (`len` when it took them all) or PARSE_FAILED.
   *
   * Everything else (other ops, a frame split across reads, anything malformed) is left untouched to the
   * state machine. Keeping those paths out of this loop matters for V8: the loop is optimised early,
   * before it has met a split frame, and a path the optimised code has never seen run would throw that
   * code away the first time it is taken (and the state machine is far bigger to compile again).
   */
  private pubRun(buf: Buffer, i: number, len: number): number {
    let next = i;
    for (;;) {
      if (pubAt(buf, i, len)) next = this.fastPub(buf, i + 4, len, false);
      else if (hpubAt(buf, i, len)) next = this.fastPub(buf, i + 5, len, true);
      else break;
      if (next < 0) break;
      i = next;
    }
    // One comparison every exit makes (a rare branch of its own would cost a deoptimisation, see above).
    return next === PARSE_FAILED ? PARSE_FAILED : i;
  }

  /**
   * The state machine, from `i` to the end of the buffer or until it is back at the start of an op after
   * one (then `next` says where, for the fast path to try). Returns false when parsing stopped.
   */
  private machine(buf: Buffer, from: number): boolean {
    const len = buf.length;
    let i = from;
    let b = 0;
    for (; i < len; i++) {
      b = buf[i]!;
      switch (this.state) {
        case S.START:
          if (i !== from) {
            this.next = i;
            return true;
          }
          this.op = b;
          if (this.awaitingAuth && b !== 0x43 && b !== 0x63) {
            this.sink.onAuthRequiredViolation();
            return false;
          }
          switch (b | LOWER) {
            case 0x70: // p
              // "PUB " in one step (whole frames went through pubRun: this one is split or unusual).
              if (pubAt(buf, i, len)) {
                this.state = S.PUB_SPC;
                i += 3;
                break;
              }
              this.state = S.P;
              break;
            case 0x68: // h
              this.state = S.H;
              break;
            case 0x73: // s
              this.state = S.S;
              break;
            case 0x75: // u
              this.state = S.U;
              break;
            case 0x72: // r
              if (this.kind === ConnKind.CLIENT) return this.parseError(buf, i);
              this.state = S.R;
              break;
            case 0x6c: // l
              if (this.kind === ConnKind.CLIENT) return this.parseError(buf, i);
              this.state = S.L;
              break;
            case 0x63: // c
              this.state = S.C;
              break;
            case 0x69: // i
              this.state = S.I;
              break;
            default:
              if (b === 0x2b) this.state = S.PLUS;
              else if (b === 0x2d) this.state = S.MINUS;
              else return this.parseError(buf, i);
          }
          break;

        // PUB / PING / PONG
        case S.P:
          switch (b | LOWER) {
            case 0x75:
              this.state = S.PU;
              break;
            case 0x69:
              this.state = S.PI;
              break;
            case 0x6f:
              this.state = S.PO;
              break;
            default:
              return this.parseError(buf, i);
          }
          break;
        case S.PU:
          if ((b | LOWER) !== 0x62) return this.parseError(buf, i);
          this.state = S.PUB;
          break;
        case S.PUB:
          if (b !== SPACE && b !== TAB) return this.parseError(buf, i);
          this.state = S.PUB_SPC;
          break;
        case S.PUB_SPC:
          if (b !== SPACE && b !== TAB) {
            this.pa.op = MsgOp.PUB;
            this.state = S.PUB_ARG;
            this.as = i;
          }
          break;
        case S.PUB_ARG:
        case S.HPUB_ARG:
        case S.MSG_ARG:
        case S.HMSG_ARG:
          if (b !== LF) {
            if (this.argBuf !== null) {
              if (b === CR) this.drop = 1;
              else this.appendArg(b);
              break;
            }
            // The line is in this buffer: scan to its end without going round the state machine.
            let j = i;
            for (; j < len; j++) {
              const c = buf[j]!;
              if (c === LF) break;
              if (c === CR) this.drop = 1;
            }
            if (j === len) {
              i = len - 1;
              break;
            }
            i = j;
          }
          if (!this.endMsgArg(buf, i)) return false;
          this.drop = 0;
          this.as = i + 1;
          this.state = S.MSG_PAYLOAD;
          // Jump over the payload when it is in this buffer; otherwise fall out and copy it.
          if (this.msgBuf === null) i = this.as + this.pa.size - 2;
          break;
        case S.MSG_PAYLOAD:
          if (this.msgBuf !== null) {
            const need = this.pa.size - this.msgLen;
            const avail = len - i;
            const n = avail < need ? avail : need;
            if (n > 0) {
              buf.copy(this.msgBuf, this.msgLen, i, i + n);
              this.msgLen += n;
              i += n - 1;
            }
            if (this.msgLen >= this.pa.size) this.state = S.MSG_END_R;
          } else if (i - this.as + 1 >= this.pa.size) {
            this.state = S.MSG_END_R;
          }
          break;
        case S.MSG_END_R:
          if (b !== CR) return this.parseError(buf, i);
          this.state = S.MSG_END_N;
          break;
        case S.MSG_END_N: {
          if (b !== LF) return this.parseError(buf, i);
          const mb = this.msgBuf;
          const start = this.as;
          this.frameEnded(i + 1);
          if (mb !== null) this.sink.onMsg(this.pa, mb, 0);
          else this.sink.onMsg(this.pa, buf, start);
          break;
        }
        case S.PI:
          if ((b | LOWER) !== 0x6e) return this.parseError(buf, i);
          this.state = S.PIN;
          break;
        case S.PIN:
          if ((b | LOWER) !== 0x67) return this.parseError(buf, i);
          this.state = S.PING;
          break;
        case S.PING:
          // Anything up to the newline is ignored, as nats-server does.
          if (b === LF) {
            this.drop = 0;
            this.state = S.START;
            this.sink.onPing();
          }
          break;
        case S.PO:
          if ((b | LOWER) !== 0x6e) return this.parseError(buf, i);
          this.state = S.PON;
          break;
        case S.PON:
          if ((b | LOWER) !== 0x67) return this.parseError(buf, i);
          this.state = S.PONG;
          break;
        case S.PONG:
          if (b === LF) {
            this.drop = 0;
            this.state = S.START;
            this.sink.onPong();
          }
          break;

        // HPUB / HMSG
        case S.H:
          switch (b | LOWER) {
            case 0x70:
              this.state = S.HP;
              break;
            case 0x6d:
              this.state = S.HM;
              break;
            default:
              return this.parseError(buf, i);
          }
          break;
        case S.HP:
          if ((b | LOWER) !== 0x75) return this.parseError(buf, i);
          this.state = S.HPU;
          break;
        case S.HPU:
          if ((b | LOWER) !== 0x62) return this.parseError(buf, i);
          this.state = S.HPUB;
          break;
        case S.HPUB:
          if (b !== SPACE && b !== TAB) return this.parseError(buf, i);
          this.state = S.HPUB_SPC;
          break;
        case S.HPUB_SPC:
          if (b !== SPACE && b !== TAB) {
            this.pa.op = MsgOp.HPUB;
            this.state = S.HPUB_ARG;
            this.as = i;
          }
          break;
        case S.HM:
          if ((b | LOWER) !== 0x73) return this.parseError(buf, i);
          this.state = S.HMS;
          break;
        case S.HMS:
          if ((b | LOWER) !== 0x67) return this.parseError(buf, i);
          this.state = S.HMSG;
          break;
        case S.HMSG:
          if (b !== SPACE && b !== TAB) return this.parseError(buf, i);
          this.state = S.HMSG_SPC;
          break;
        case S.HMSG_SPC:
          if (b !== SPACE && b !== TAB) {
            // HMSG from a client is not an op nats-server accepts; routes send HMSG for header RMSG.
            if (this.kind === ConnKind.CLIENT) return this.parseError(buf, i);
            this.pa.op = (this.op | LOWER) === 0x6c ? MsgOp.HLMSG : MsgOp.HRMSG;
            this.state = S.HMSG_ARG;
            this.as = i;
          }
          break;

        // SUB, RS+, LS+ (all SUB_ARG) / UNSUB, RS-, LS- (all UNSUB_ARG)
        case S.S:
          if ((b | LOWER) !== 0x75) return this.parseError(buf, i);
          this.state = S.SU;
          break;
        case S.SU:
          if ((b | LOWER) !== 0x62) return this.parseError(buf, i);
          this.state = S.SUB;
          break;
        case S.SUB:
          if (b !== SPACE && b !== TAB) return this.parseError(buf, i);
          this.state = S.SUB_SPC;
          break;
        case S.SUB_SPC:
          if (b !== SPACE && b !== TAB) {
            this.state = S.SUB_ARG;
            this.as = i;
          }
          break;
        case S.SUB_ARG:
        case S.UNSUB_ARG:
        case S.CONNECT_ARG:
        case S.INFO_ARG:
        case S.MINUS_ERR_ARG:
          if (b !== LF) {
            if (this.argBuf !== null) {
              if (b === CR) this.drop = 1;
              else this.appendArg(b);
              break;
            }
            let j = i;
            for (; j < len; j++) {
              const c = buf[j]!;
              if (c === LF) break;
              if (c === CR) this.drop = 1;
            }
            if (j === len) {
              i = len - 1;
              break;
            }
            i = j;
          }
          if (!this.endArg(buf, i)) return false;
          this.drop = 0;
          this.as = i + 1;
          this.state = S.START;
          if (this.suspended) {
            this.held = Buffer.from(buf.subarray(i + 1));
            this.next = len;
            return true;
          }
          break;
        case S.U:
          if ((b | LOWER) !== 0x6e) return this.parseError(buf, i);
          this.state = S.UN;
          break;
        case S.UN:
          if ((b | LOWER) !== 0x73) return this.parseError(buf, i);
          this.state = S.UNS;
          break;
        case S.UNS:
          if ((b | LOWER) !== 0x75) return this.parseError(buf, i);
          this.state = S.UNSU;
          break;
        case S.UNSU:
          if ((b | LOWER) !== 0x62) return this.parseError(buf, i);
          this.state = S.UNSUB;
          break;
        case S.UNSUB:
          if (b !== SPACE && b !== TAB) return this.parseError(buf, i);
          this.state = S.UNSUB_SPC;
          break;
        case S.UNSUB_SPC:
          if (b !== SPACE && b !== TAB) {
            this.state = S.UNSUB_ARG;
            this.as = i;
          }
          break;

        // Routes: RS+ RS- RMSG, LS+ LS- LMSG
        case S.R:
          if ((b | LOWER) === 0x73) this.state = S.RS;
          else if ((b | LOWER) === 0x6d) this.state = S.M;
          else return this.parseError(buf, i);
          break;
        case S.L:
          if ((b | LOWER) === 0x73) this.state = S.LS;
          else if ((b | LOWER) === 0x6d) this.state = S.M;
          else return this.parseError(buf, i);
          break;
        case S.RS:
        case S.LS:
          if (b === 0x2b) this.state = S.SUB;
          else if (b === 0x2d) this.state = S.UNSUB;
          else return this.parseError(buf, i);
          break;
        case S.M:
          if ((b | LOWER) !== 0x73) return this.parseError(buf, i);
          this.state = S.MS;
          break;
        case S.MS:
          if ((b | LOWER) !== 0x67) return this.parseError(buf, i);
          this.state = S.MSG;
          break;
        case S.MSG:
          if (b !== SPACE && b !== TAB) return this.parseError(buf, i);
          this.state = S.MSG_SPC;
          break;
        case S.MSG_SPC:
          if (b !== SPACE && b !== TAB) {
            this.pa.op = (this.op | LOWER) === 0x6c ? MsgOp.LMSG : MsgOp.RMSG;
            this.state = S.MSG_ARG;
            this.as = i;
          }
          break;

        // CONNECT / INFO
        case S.C:
          if ((b | LOWER) !== 0x6f) return this.parseError(buf, i);
          this.state = S.CO;
          break;
        case S.CO:
          if ((b | LOWER) !== 0x6e) return this.parseError(buf, i);
          this.state = S.CON;
          break;
        case S.CON:
          if ((b | LOWER) !== 0x6e) return this.parseError(buf, i);
          this.state = S.CONN;
          break;
        case S.CONN:
          if ((b | LOWER) !== 0x65) return this.parseError(buf, i);
          this.state = S.CONNE;
          break;
        case S.CONNE:
          if ((b | LOWER) !== 0x63) return this.parseError(buf, i);
          this.state = S.CONNEC;
          break;
        case S.CONNEC:
          if ((b | LOWER) !== 0x74) return this.parseError(buf, i);
          this.state = S.CONNECT;
          break;
        case S.CONNECT:
          if (b !== SPACE && b !== TAB) {
            this.state = S.CONNECT_ARG;
            this.as = i;
            i--; // the byte may already be CR/LF of an empty CONNECT: let CONNECT_ARG see it
          }
          break;
        case S.I:
          if ((b | LOWER) !== 0x6e) return this.parseError(buf, i);
          this.state = S.IN;
          break;
        case S.IN:
          if ((b | LOWER) !== 0x66) return this.parseError(buf, i);
          this.state = S.INF;
          break;
        case S.INF:
          if ((b | LOWER) !== 0x6f) return this.parseError(buf, i);
          this.state = S.INFO;
          break;
        case S.INFO:
          if (b !== SPACE && b !== TAB) {
            this.state = S.INFO_ARG;
            this.as = i;
            i--;
          }
          break;

        // +OK / -ERR
        case S.PLUS:
          if ((b | LOWER) !== 0x6f) return this.parseError(buf, i);
          this.state = S.PLUS_O;
          break;
        case S.PLUS_O:
          if ((b | LOWER) !== 0x6b) return this.parseError(buf, i);
          this.state = S.PLUS_OK;
          break;
        case S.PLUS_OK:
          if (b === LF) {
            this.drop = 0;
            this.state = S.START;
            this.sink.onOk();
          }
          break;
        case S.MINUS:
          if ((b | LOWER) !== 0x65) return this.parseError(buf, i);
          this.state = S.MINUS_E;
          break;
        case S.MINUS_E:
          if ((b | LOWER) !== 0x72) return this.parseError(buf, i);
          this.state = S.MINUS_ER;
          break;
        case S.MINUS_ER:
          if ((b | LOWER) !== 0x72) return this.parseError(buf, i);
          this.state = S.MINUS_ERR;
          break;
        case S.MINUS_ERR:
          if (b !== SPACE && b !== TAB) return this.parseError(buf, i);
          this.state = S.MINUS_ERR_SPC;
          break;
        case S.MINUS_ERR_SPC:
          if (b !== SPACE && b !== TAB) {
            this.state = S.MINUS_ERR_ARG;
            this.as = i;
            i--;
          }
          break;
        default:
          return this.parseError(buf, i);
      }
    }
    this.next = len;
    return this.saveSplit(buf, i);
  }

  /** Keep whatever part of a frame this read ended in, for the next read. */
  private saveSplit(buf: Buffer, i: number): boolean {
    const st = this.state;
    if (
      st === S.SUB_ARG ||
      st === S.UNSUB_ARG ||
      st === S.PUB_ARG ||
      st === S.HPUB_ARG ||
      st === S.MSG_ARG ||
      st === S.HMSG_ARG ||
      st === S.MINUS_ERR_ARG ||
      st === S.CONNECT_ARG ||
      st === S.INFO_ARG
    ) {
      if (this.argBuf === null) {
        const end = i - this.drop;
        this.argLen = 0;
        this.argBuf = Buffer.allocUnsafe(Math.max(256, (end - this.as) * 2));
        for (let k = this.as; k < end; k++) this.appendArg(buf[k]!);
      }
      // Not exact (the line is checked again when it ends) but it bounds memory against a client
      // that never sends a newline, as nats-server does.
      if (this.kind === ConnKind.CLIENT && this.argLen > this.maxControlLine) {
        this.sink.onParseError(ERR_MAX_CONTROL_LINE, `control line of ${this.argLen}+ bytes`);
        return false;
      }
    } else if ((st === S.MSG_PAYLOAD || st === S.MSG_END_R || st === S.MSG_END_N) && this.msgBuf === null) {
      // The payload starts in this read and ends in a later one: copy what we have. nats-server checks
      // the PUB arguments again at this point (clonePubArg), so a pedantic error is reported twice.
      if (this.kind === ConnKind.CLIENT && !this.sink.onMsgArgs(this.pa)) return false;
      const have = buf.length - this.as;
      if (have > this.pa.size + 2) return this.parseError(buf, this.as);
      this.msgBuf = Buffer.allocUnsafe(this.pa.size + 2);
      if (have > 0) buf.copy(this.msgBuf, 0, this.as, buf.length);
      this.msgLen = have > 0 ? have : 0;
      // MSG_END_R/N were reached inside this buffer; the CR we copied is not payload.
      if (this.msgLen > this.pa.size) this.msgLen = this.pa.size;
    }
    return true;
  }

  private appendArg(b: number): void {
    let ab = this.argBuf!;
    if (this.argLen === ab.length) {
      const bigger = Buffer.allocUnsafe(ab.length * 2);
      ab.copy(bigger, 0, 0, this.argLen);
      this.argBuf = ab = bigger;
    }
    ab[this.argLen++] = b;
  }

  /** The control line just ended: point lb/lbStart/lbEnd at the bytes holding it. */
  private lineBounds(buf: Buffer, i: number): void {
    if (this.argBuf !== null) {
      this.lb = this.argBuf;
      this.lbStart = 0;
      this.lbEnd = this.argLen;
      this.argBuf = null;
      this.argLen = 0;
    } else {
      this.lb = buf;
      this.lbStart = this.as;
      this.lbEnd = i - this.drop;
    }
  }

  /** The current control line, for error messages. */
  private line(): string {
    return this.lb.toString('latin1', this.lbStart, this.lbEnd);
  }

  private checkControlLine(start: number, end: number, lineBuf: Buffer): boolean {
    if (this.kind === ConnKind.CLIENT && end - start > this.maxControlLine) {
      const snip = lineBuf.toString('latin1', start, Math.min(end, start + 128));
      this.sink.onParseError(
        ERR_MAX_CONTROL_LINE,
        `max_control_line ${this.maxControlLine} (snip: ${snip}...)`,
      );
      return false;
    }
    return true;
  }

  /** Split a control line into whitespace-separated tokens; returns the count (MAX_ARGS+1 when over). */
  private tokenize(lb: Buffer, start: number, end: number, splitCR: boolean): number {
    const tok = this.tok;
    let n = 0;
    let ts = -1;
    for (let k = start; k < end; k++) {
      const c = lb[k]!;
      if (c === SPACE || c === TAB || (splitCR && (c === CR || c === LF))) {
        if (ts >= 0) {
          if (n === MAX_ARGS) return MAX_ARGS + 1;
          tok[n * 2] = ts;
          tok[n * 2 + 1] = k;
          n++;
          ts = -1;
        }
      } else if (ts < 0) {
        ts = k;
      }
    }
    if (ts >= 0) {
      if (n === MAX_ARGS) return MAX_ARGS + 1;
      tok[n * 2] = ts;
      tok[n * 2 + 1] = end;
      n++;
    }
    return n;
  }

  /**
   * The subject of a message op. Publishers tend to repeat a subject, so the last one is kept with its
   * bytes: comparing a few bytes is cheaper than making (and later collecting) a new string.
   */
  private subjectStr(lb: Buffer, k: number): string {
    const s = this.tok[k * 2]!;
    const e = this.tok[k * 2 + 1]!;
    const n = e - s;
    const cache = this.lastSubjBytes;
    if (n === this.lastSubjLen) {
      let m = 0;
      while (m < n && cache[m] === lb[s + m]) m++;
      if (m === n) return this.lastSubj;
    }
    const str = lb.latin1Slice(s, e);
    if (n <= cache.length) {
      lb.copy(cache, 0, s, e);
      this.lastSubjLen = n;
      this.lastSubj = str;
    }
    return str;
  }

  /** Whether the last subject's bytes are at `k`, followed by a space or tab, within `len`. */
  private subjectAt(buf: Buffer, k: number, len: number): boolean {
    const n = this.lastSubjLen;
    if (n <= 0 || k + n >= len) return false;
    const cache = this.lastSubjBytes;
    for (let m = 0; m < n; m++) if (cache[m] !== buf[k + m]) return false;
    const c = buf[k + n];
    return c === SPACE || c === TAB;
  }

  private tokStr(lb: Buffer, k: number): string {
    return lb.latin1Slice(this.tok[k * 2]!, this.tok[k * 2 + 1]!);
  }

  private tokSize(lb: Buffer, k: number): number {
    return parseSize(lb, this.tok[k * 2]!, this.tok[k * 2 + 1]!);
  }

  /** The token as sent when it has a leading zero (see MsgArgs.szb), else ''. */
  private rawDigits(lb: Buffer, k: number): string {
    const s = this.tok[k * 2]!;
    const e = this.tok[k * 2 + 1]!;
    return e - s > 1 && lb[s] === ZERO ? lb.latin1Slice(s, e) : '';
  }

  /**
   * A whole `PUB <subject> [reply] <size>` frame (`HPUB <subject> [reply] <hdr> <size>` when `hdr`) from
   * the first byte after the op: its line, payload and closing CRLF all in this buffer. Returns the index
   * after the frame, NOT_HERE when it is not such a frame (split, malformed, another argument count:
   * nothing has been done, the state machine takes it from its first byte) or PARSE_FAILED (the sink
   * refused it). The parser stays in the start state.
   */
  private fastPub(buf: Buffer, k: number, len: number, hdr: boolean): number {
    // Token by token: a token's bytes are all above SPACE, so its scan is one comparison per byte. Anything
    // unusual (a control byte in a token, a CR not followed by LF, an empty line) is left to the state
    // machine, which has the general rules and error messages.
    const tok = this.tok;
    const maxTokens = hdr ? 4 : 3;
    let n = 0;
    let j = k;
    let c = 0;
    // A publisher tends to repeat its subject: when the bytes at `k` are the last subject's followed by a
    // space or tab, that is the first token as the state machine splits the line (a subject holds no space
    // or tab), found in one comparison pass instead of a scan and then subjectStr's comparison.
    const known = this.subjectAt(buf, k, len);
    if (known) {
      j = k + this.lastSubjLen;
      tok[0] = k;
      tok[1] = j;
      n = 1;
    }
    for (;;) {
      for (; j < len; j++) {
        c = buf[j]!;
        if (c !== SPACE && c !== TAB) break;
      }
      if (j >= len) return NOT_HERE;
      if (c === CR || c === LF) break;
      const ts = j;
      for (; j < len; j++) {
        c = buf[j]!;
        if (c <= SPACE) break;
      }
      if (j >= len) return NOT_HERE;
      if (c !== SPACE && c !== TAB && c !== CR && c !== LF) return NOT_HERE;
      if (n === maxTokens) return NOT_HERE;
      tok[n * 2] = ts;
      tok[n * 2 + 1] = j;
      n++;
      if (c === CR || c === LF) break;
    }
    let drop = 0;
    if (c === CR) {
      if (j + 1 >= len || buf[j + 1] !== LF) return NOT_HERE;
      drop = 1;
      j++;
    }
    const size = this.frameSize(buf, n, hdr);
    if (size < 0) return NOT_HERE;
    const pa = this.pa;
    const p = j + 1;
    const msgEnd = p + size;
    if (msgEnd + 1 >= len || buf[msgEnd] !== CR || buf[msgEnd + 1] !== LF) return NOT_HERE;
    pa.op = hdr ? MsgOp.HPUB : MsgOp.PUB;
    this.as = k;
    this.drop = drop;
    if (!this.pubArgs(buf, j, n, hdr, size, known)) return PARSE_FAILED;
    this.drop = 0;
    this.as = msgEnd + 2;
    this.sink.onMsg(pa, buf, p);
    return msgEnd + 2;
  }

  /**
   * The arguments of the PUB or HPUB line from `as` to the LF at `j`, split into `n` tokens of total size
   * `size` (`known`: the first token is the last subject), for fastPub and splitPub. The common case,
   * `PUB <subject> <size>` from a client, is done here: what endMsgArg does for it (but for
   * lb/lbStart/lbEnd, which only its error messages read).
   */
  private pubArgs(buf: Buffer, j: number, n: number, hdr: boolean, size: number, known: boolean): boolean {
    if (n !== 2 || hdr || this.kind !== ConnKind.CLIENT || j - this.drop - this.as > this.maxControlLine) {
      return this.endMsgArg(buf, j, n);
    }
    const pa = this.pa;
    pa.subject = known ? this.lastSubj : this.subjectStr(buf, 0);
    pa.reply = '';
    pa.hdr = -1;
    pa.hdb = '';
    pa.size = size;
    pa.szb = this.rawDigits(buf, 1);
    return this.sink.onMsgArgs(pa);
  }

  /**
   * The total size of a PUB (`hdr` false: 2 or 3 tokens) or HPUB (3 or 4) line split into `n` tokens, or
   * -1 for a line the state machine must judge. The rest (a header size, the subject) endMsgArg checks,
   * with the same errors as the state machine's.
   */
  private frameSize(buf: Buffer, n: number, hdr: boolean): number {
    if (n < (hdr ? 3 : 2) || n > (hdr ? 4 : 3)) return -1;
    return parseSize(buf, this.tok[n * 2 - 2]!, this.tok[n * 2 - 1]!);
  }

  /** The end of a message op's line at `i`; `tokens` >= 0: fastPub already split it into `tok`. */
  private endMsgArg(buf: Buffer, i: number, tokens = -1): boolean {
    this.lineBounds(buf, i);
    const lb = this.lb;
    const start = this.lbStart;
    const end = this.lbEnd;
    if (!this.checkControlLine(start, end, lb)) return false;
    const pa = this.pa;
    // PUB/HPUB split on spaces and tabs only (nats-server's processPub); routed messages on CR/LF too.
    const n =
      tokens >= 0 ? tokens : this.tokenize(lb, start, end, pa.op !== MsgOp.PUB && pa.op !== MsgOp.HPUB);
    pa.szb = '';
    pa.hdb = '';
    // A leaf connection takes PUB as well as LMSG: no queue names may carry over to it.
    if (this.kind === ConnKind.LEAF) pa.queues.length = 0;
    switch (pa.op) {
      case MsgOp.PUB:
        if (n === 2) {
          pa.subject = this.subjectStr(lb, 0);
          pa.reply = '';
          pa.size = this.tokSize(lb, 1);
          pa.szb = this.rawDigits(lb, 1);
        } else if (n === 3) {
          pa.subject = this.subjectStr(lb, 0);
          pa.reply = this.tokStr(lb, 1);
          pa.size = this.tokSize(lb, 2);
          pa.szb = this.rawDigits(lb, 2);
        } else {
          return this.argError(`processPub Parse Error: '${this.line()}'`);
        }
        pa.hdr = -1;
        if (pa.size < 0) return this.argError(`processPub Bad or Missing Size: '${this.line()}'`);
        break;
      case MsgOp.HPUB:
        if (n === 3) {
          pa.subject = this.subjectStr(lb, 0);
          pa.reply = '';
          pa.hdr = this.tokSize(lb, 1);
          pa.size = this.tokSize(lb, 2);
          pa.hdb = this.rawDigits(lb, 1);
          pa.szb = this.rawDigits(lb, 2);
        } else if (n === 4) {
          pa.subject = this.subjectStr(lb, 0);
          pa.reply = this.tokStr(lb, 1);
          pa.hdr = this.tokSize(lb, 2);
          pa.size = this.tokSize(lb, 3);
          pa.hdb = this.rawDigits(lb, 2);
          pa.szb = this.rawDigits(lb, 3);
        } else {
          return this.argError(`processHeaderPub Parse Error: '${this.line()}'`);
        }
        if (pa.hdr < 0) return this.argError(`processHeaderPub Bad or Missing Header Size: '${this.line()}'`);
        if (pa.size < 0) return this.argError(`processHeaderPub Bad or Missing Total Size: '${this.line()}'`);
        if (pa.hdr > pa.size) {
          return this.argError(`processHeaderPub Header Size larger then TotalSize: '${this.line()}'`);
        }
        break;
      default:
        if (!this.routedMsgArgs(lb, n)) return false;
    }
    return this.sink.onMsgArgs(pa);
  }

  /**
   * RMSG <account> <subject> [reply] <size>, or with queues:
   * RMSG <account> <subject> + <reply> <queue...> <size> | RMSG <account> <subject> | <queue...> <size>.
   * HMSG has a header size before the total size. LMSG has the origin cluster first. On a leaf node
   * connection there is no account and no origin: LMSG <subject> ..., HMSG <subject> ... <hdr> <size>.
   */
  private routedMsgArgs(lb: Buffer, n: number): boolean {
    const pa = this.pa;
    const leaf = this.kind === ConnKind.LEAF;
    // On a route LMSG always has a header size (0 without headers: processRoutedOriginClusterMsgArgs).
    const hasHdr = pa.op === MsgOp.HRMSG || pa.op === MsgOp.HLMSG || (!leaf && pa.op === MsgOp.LMSG);
    const what = leaf ? 'processLeafMsgArgs' : 'processRoutedMsgArgs';
    let first = 0;
    if (!leaf && (pa.op === MsgOp.LMSG || pa.op === MsgOp.HLMSG)) {
      if (n < 1) return this.argError(`processRoutedOriginClusterMsgArgs Parse Error: '${this.line()}'`);
      pa.origin = this.tokStr(lb, 0);
      first = 1;
    } else {
      pa.origin = '';
    }
    const sizes = hasHdr ? 2 : 1;
    const named = leaf ? 1 : 2; // [account] subject
    const rest = n - first; // [account] subject ... sizes
    if (rest < named + sizes) return this.argError(`${what} Parse Error: '${this.line()}'`);
    pa.account = leaf ? '' : this.tokStr(lb, first);
    first += named - 1;
    pa.subject = this.subjectStr(lb, first);
    pa.queues.length = 0;
    pa.reply = '';
    const middle = rest - named - sizes; // tokens between subject and sizes
    if (middle === 1) {
      pa.reply = this.tokStr(lb, first + 1);
    } else if (middle > 1) {
      const ind = this.tokStr(lb, first + 1);
      let q = first + 2;
      if (ind === '+') {
        pa.reply = this.tokStr(lb, q);
        q++;
      } else if (ind !== '|') {
        return this.argError(`${what} Bad or Missing Reply Indicator: '${ind}'`);
      }
      for (; q < n - sizes; q++) pa.queues.push(this.tokStr(lb, q));
    }
    if (hasHdr) {
      pa.hdr = this.tokSize(lb, n - 2);
      if (pa.hdr < 0)
        return this.argError(`processRoutedHeaderMsgArgs Bad or Missing Header Size: '${this.line()}'`);
    } else {
      pa.hdr = -1;
    }
    pa.size = this.tokSize(lb, n - 1);
    if (pa.size < 0) return this.argError(`${what} Bad or Missing Size: '${this.line()}'`);
    if (hasHdr && pa.hdr > pa.size) {
      return this.argError(`processRoutedHeaderMsgArgs Header Size larger then TotalSize: '${this.line()}'`);
    }
    if (pa.op === MsgOp.LMSG && pa.hdr === 0) pa.hdr = -1;
    return true;
  }

  /** End of SUB/UNSUB/CONNECT/INFO/-ERR. */
  private endArg(buf: Buffer, i: number): boolean {
    const st = this.state;
    this.lineBounds(buf, i);
    const lb = this.lb;
    const start = this.lbStart;
    const end = this.lbEnd;
    if (!this.checkControlLine(start, end, lb)) return false;
    if (st === S.SUB_ARG || st === S.UNSUB_ARG) {
      const n = this.tokenize(lb, start, end, true);
      const args = this.strArgs;
      args.length = 0;
      for (let k = 0; k < n && k < MAX_ARGS; k++) args.push(this.tokStr(lb, k));
      const opc = this.op | LOWER;
      const op = opc === 0x72 ? SubOp.RS : opc === 0x6c ? SubOp.LS : SubOp.SUB;
      return st === S.SUB_ARG ? this.sink.onSub(op, args) : this.sink.onUnsub(op, args);
    }
    // JSON and error text may be UTF-8.
    const text = lb.toString('utf8', start, end);
    if (st === S.CONNECT_ARG) {
      if (!this.sink.onConnect(text)) return false;
      return true;
    }
    if (st === S.INFO_ARG) return this.sink.onInfo(text);
    this.sink.onErr(text);
    return true;
  }

  /** A malformed argument list: nats-server closes without an -ERR. */
  private argError(detail: string): boolean {
    this.sink.onParseError('', detail);
    return false;
  }

  private parseError(buf: Buffer, i: number): false {
    const snip = JSON.stringify(buf.toString('latin1', i, Math.min(buf.length, i + 32)));
    this.sink.onParseError(ERR_UNKNOWN_OP, `parser ERROR, state=${this.state}, i=${i}: proto='${snip}...'`);
    return false;
  }

  /** Leave the suspended state, returning the input held back meanwhile (to be parsed next). */
  resume(): Buffer {
    this.suspended = false;
    const rest = this.held;
    this.held = NO_BYTES;
    return rest;
  }

  /** Reset to the start state (a connection reuses nothing after an error; tests use this). */
  reset(): void {
    this.state = S.START;
    this.argBuf = null;
    this.argLen = 0;
    this.msgBuf = null;
    this.msgLen = 0;
    this.drop = 0;
    this.as = 0;
  }
}
