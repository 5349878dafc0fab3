/** Server-wide counters, as /varz reports them. */
export interface ServerStats {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  slowConsumers: number;
  /** Slow consumers by kind of connection (nats-server 2.10's slow_consumer_stats). */
  slowConsumersByKind: SlowConsumerStats;
  totalConnections: number;
}

/** nats-server 2.10's SlowConsumersStats: gateways are always 0, tsnats has none. */
export interface SlowConsumerStats {
  clients: number;
  routes: number;
  gateways: number;
  leafs: number;
}

export function newServerStats(): ServerStats {
  return {
    inMsgs: 0,
    outMsgs: 0,
    inBytes: 0,
    outBytes: 0,
    slowConsumers: 0,
    slowConsumersByKind: { clients: 0, routes: 0, gateways: 0, leafs: 0 },
    totalConnections: 0,
  };
}
