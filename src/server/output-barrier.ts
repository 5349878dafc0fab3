/**
 * Work that must be done before any byte leaves for a peer. The file store's group commit registers here:
 * a stream's records are handed to the OS in one write per batch instead of one per message, and this
 * barrier makes that write happen before the batch's output (its PubAcks among it) reaches any socket, so an
 * acknowledged message has always reached the OS first, as with a write per message.
 *
 * The check on the output path is one boolean; the work runs only when something marked the barrier.
 */
type Barrier = () => void;

const barriers: Barrier[] = [];
let pending = false;

/** Register work to run before output whenever the barrier is marked. */
export function addOutputBarrier(fn: Barrier): void {
  barriers.push(fn);
}

/** Some registered work is waiting: run it before the next output. */
export function markOutputBarrier(): void {
  pending = true;
}

/** Before writing to a socket: run the waiting work, if any. */
export function passOutputBarrier(): void {
  if (!pending) return;
  pending = false;
  for (let i = 0; i < barriers.length; i++) barriers[i]!();
}
