/**
 * The two forms of a subject in tsnats.
 *
 * - **Wire form.** The protocol code (parser, sublist, routes, leaf nodes, outbound buffers) keeps a subject
 *   as a byte string: one char per byte, as latin1 decodes them. It never decodes UTF-8, and a string's length
 *   is the byte count nats-server limits and reports.
 * - **Text form.** JetStream works with text: the subjects and names in its JSON, and the subjects of stored
 *   messages (written to disk as UTF-8 and counted in UTF-8 bytes, as nats-server counts them).
 *
 * A subject crosses between them where JetStream meets the core: a stream's subscriptions are made in wire
 * form, a message it takes in is turned into text, and a stored message is delivered in wire form again.
 * ASCII, nearly every subject, is the same in both forms: these functions return it unchanged after one scan.
 *
 * Bytes that are not UTF-8 do not survive the trip through text (each becomes U+FFFD, as in nats-server's
 * JSON); every NATS client sends UTF-8.
 */

/** True when every char of `s` is below 0x80 (the same in wire and text form). */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The text form of a wire-form subject (its bytes decoded as UTF-8). */
export function wireToText(wire: string): string {
  return isAscii(wire) ? wire : Buffer.from(wire, 'latin1').toString('utf8');
}

/** The wire form of a subject given as text (its UTF-8 bytes, one char each). */
export function textToWire(text: string): string {
  return isAscii(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/** True when every char of `s` fits in one byte (a wire-form string can be written back as latin1). */
export function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}
