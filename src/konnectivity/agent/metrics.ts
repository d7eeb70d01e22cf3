// The agent's metrics under upstream's names (pkg/agent/metrics, reference §6.2), in a registry of its own; the
// e2e harnesses read agent_open_server_connections and agent_known_server_count.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const prefix = 'konnectivity_network_proxy_agent_';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly dialDuration = new Histogram({
    name: `${prefix}dial_duration_seconds`,
    help: 'Latency of dial to the remote endpoint in seconds',
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly endpointDialFailures = new Counter({
    name: `${prefix}endpoint_dial_failure_total`,
    help: 'Number of failures dialing the remote endpoint, by reason (timeout, unknown)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly openServerConnections = new Gauge({
    name: `${prefix}open_server_connections`,
    help: 'Current number of open server connections',
    registers: [this.registry],
  });
  readonly knownServerCount = new Gauge({
    name: `${prefix}known_server_count`,
    help: 'Current number of servers the agent knows of',
    registers: [this.registry],
  });
  readonly openEndpointConnections = new Gauge({
    name: `${prefix}open_endpoint_connections`,
    help: 'Current number of open endpoint connections',
    registers: [this.registry],
  });
  readonly streamPackets = new Counter({
    name: `${prefix}stream_packets_total`,
    help: 'Count of packets processed, by segment and packet type',
    labelNames: ['segment', 'packet_type'],
    registers: [this.registry],
  });
}
