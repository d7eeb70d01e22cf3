// The server's metrics under upstream's names (pkg/server/metrics, reference §6.2), in a registry of its own so
// several servers can live in one process; plus per-agent series upstream lacks (bytes, open connections, dial
// latency per agent ID), which are how one node's tunnel is told apart from another's.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const prefix = 'konnectivity_network_proxy_server_';

export type DialFailureReason =
  | 'no_agent'
  | 'error_response'
  | 'unrecognized_response'
  | 'send_rsp'
  | 'backend_close'
  | 'backend_dial_timeout'
  | 'frontend_close';

export interface ServerGauges {
  pendingDials: () => number;
  establishedConnections: () => number;
  readyBackends: () => number;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly dialDuration = new Histogram({
    name: `${prefix}dial_duration_seconds`,
    help: 'Latency of dial to the remote endpoint in seconds',
    buckets: [0.000001, 0.00001, 0.0001, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 12.5],
    registers: [this.registry],
  });
  readonly dialFailures = new Counter({
    name: `${prefix}dial_failure_count`,
    help: 'Number of dial failures observed, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly grpcConnections = new Gauge({
    name: `${prefix}grpc_connections`,
    help: 'Number of current gRPC connections, by service method',
    labelNames: ['service_method'],
    registers: [this.registry],
  });
  readonly httpConnections = new Gauge({
    name: `${prefix}http_connections`,
    help: 'Number of current HTTP CONNECT connections',
    registers: [this.registry],
  });
  readonly streamPackets = new Counter({
    name: `${prefix}stream_packets_total`,
    help: 'Count of packets processed, by segment and packet type',
    labelNames: ['segment', 'packet_type'],
    registers: [this.registry],
  });
  readonly agentBytes = new Counter({
    name: `${prefix}agent_bytes_total`,
    help: 'hubspoke: DATA payload bytes per agent, by direction (to_agent, from_agent)',
    labelNames: ['agent_id', 'direction'],
    registers: [this.registry],
  });
  readonly agentOpenConnections = new Gauge({
    name: `${prefix}agent_open_connections`,
    help: 'hubspoke: established connections per agent',
    labelNames: ['agent_id'],
    registers: [this.registry],
  });
  readonly agentDialDuration = new Histogram({
    name: `${prefix}agent_dial_duration_seconds`,
    help: 'hubspoke: DIAL_REQ to DIAL_RSP latency per agent',
    labelNames: ['agent_id'],
    buckets: [0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 12.5],
    registers: [this.registry],
  });

  constructor(g: ServerGauges) {
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name: `${prefix}${name}`,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    };
    gauge('pending_backend_dials', 'Current number of pending backend dial requests', g.pendingDials);
    gauge('established_connections', 'Current number of established end-to-end connections', g.establishedConnections);
    gauge('ready_backend_connections', 'Number of connected agents (deprecated upstream)', g.readyBackends);
  }
}

export const packetTypeNames: Record<number, string> = {
  0: 'DIAL_REQ',
  1: 'DIAL_RSP',
  2: 'CLOSE_REQ',
  3: 'CLOSE_RSP',
  4: 'DATA',
  5: 'DIAL_CLS',
  6: 'DRAIN',
  100: 'WINDOW_UPDATE',
};
