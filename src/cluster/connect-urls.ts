/**
 * The URLs clients of one kind (TCP or websocket) are offered in INFO `connect_urls`: this server's own,
 * then the other servers' as their routes announce them. A URL stays while any route announces it
 * (nats-server's refCountedUrlSet), and the list is offered only once the cluster's URLs have changed
 * since the start, as nats-server fills its INFO.
 */
export class ConnectUrls {
  /** This server's URLs for this kind of client (none when it has no such listener). */
  own: string[] = [];
  private readonly remote = new Map<string, number>();
  /** The remote URLs changed at least once: the list is now sent to clients. */
  updated = false;

  /** Count a route's URLs in; true when the set changed. */
  add(urls: readonly string[]): boolean {
    let changed = false;
    for (const u of urls) {
      const n = this.remote.get(u) ?? 0;
      this.remote.set(u, n + 1);
      if (n === 0) changed = true;
    }
    if (changed) this.updated = true;
    return changed;
  }

  /** Count a route's URLs out; true when the set changed. */
  remove(urls: readonly string[]): boolean {
    let changed = false;
    for (const u of urls) {
      const n = this.remote.get(u);
      if (n === undefined) continue;
      if (n <= 1) {
        this.remote.delete(u);
        changed = true;
      } else {
        this.remote.set(u, n - 1);
      }
    }
    if (changed) this.updated = true;
    return changed;
  }

  /** This server's URLs, then the others'. */
  all(): string[] {
    return [...this.own, ...this.remote.keys()];
  }

  /** The other servers' URLs only. */
  others(): string[] {
    return [...this.remote.keys()];
  }
}
