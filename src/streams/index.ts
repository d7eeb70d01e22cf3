// The streaming library's public surface, shared by the kubelet's server and the API server's proxy. Import from
// here. See README.md for what each file does.
export {
  SpdyConnection,
  SpdyStream,
  type OpenStreamOptions,
  type SpdyConnectionEvents,
  type SpdyConnectionOptions,
} from './spdy/connection.js';
export { GoAwayStatus, RstStatus, SpdyProtocolError } from './spdy/frames.js';
export type { SpdyHeaders } from './spdy/headers.js';
export {
  HEADER_ACCEPTED_PROTOCOL_VERSIONS,
  HEADER_PROTOCOL_VERSION,
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  RemoteCommandProtocol,
  acceptSpdy,
  handleSpdyUpgrade,
  headerValues,
  negotiateProtocol,
  negotiateSpdyProtocol,
  rejectUpgrade,
  upgradeKind,
  writeSpdyUpgradeResponse,
} from './upgrade.js';
export { acceptWebSocket, watchIdle, webSocketDuplex } from './websocket.js';
export { UpgradeFailure, dialSpdy, dialSpdyUpgrade, dialWebSocket, type DialOptions } from './dial.js';
export {
  kubeletRemoteCommandQuery,
  parseRemoteCommandOptions,
  type RemoteCommandOptions,
} from './remotecommand/options.js';
export {
  Channel,
  RemoteCommandSession,
  SPDY_REMOTE_COMMAND_PROTOCOLS,
  WEBSOCKET_REMOTE_COMMAND_PROTOCOLS,
  acceptRemoteCommand,
  type RemoteCommandServerOptions,
  type RemoteCommandSessionEvents,
  type TerminalSize,
} from './remotecommand/server.js';
export {
  CLIENT_REMOTE_COMMAND_PROTOCOLS,
  bridgeRemoteCommand,
  spdyRemoteCommandClient,
  webSocketRemoteCommandClient,
  type RemoteCommandClient,
} from './remotecommand/client.js';
export {
  decodeErrorChannel,
  encodeErrorChannel,
  execErrorStatus,
  exitCodeOf,
  exitCodeStatus,
  successStatus,
} from './remotecommand/status.js';
export {
  PortForwardSession,
  WEBSOCKET_PORT_FORWARD_PROTOCOLS,
  acceptPortForward,
  parsePortForwardPorts,
  servePortForward,
  type PortForwardDialer,
  type PortForwardServerOptions,
} from './portforward/server.js';
export { PortForwardClient, type PortForwardStream } from './portforward/client.js';
