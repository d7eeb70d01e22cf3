// Typed codec for Konnectivity's one message, `Packet` (client.proto / agent.proto beside this file), and the two
// gRPC service definitions that carry it (grpc-js's shape: the tests' grpc-js peers take them as they are; the
// product's transport, ./grpc.ts, uses their paths). The .proto files are loaded with @grpc/proto-loader (so the
// bytes are what upstream's protoc-generated code writes); this module only maps proto-loader's plain objects to a
// discriminated union whose int64 fields (`random`, `connectID`) are exact bigints — `random` is a random int63,
// usually above 2^53, and any rounding breaks DIAL_RSP / DIAL_CLS matching (reference §1.4).
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Upstream's PacketType enum (client.proto). DIAL_REQ is the proto3 default: a Packet with no `type` is a dial. */
export const PacketType = {
  DIAL_REQ: 0,
  DIAL_RSP: 1,
  CLOSE_REQ: 2,
  CLOSE_RSP: 3,
  DATA: 4,
  DIAL_CLS: 5,
  DRAIN: 6,
  /** hubspoke extension (negotiated, never sent to upstream peers): per-connection flow-control credit. */
  WINDOW_UPDATE: 100,
} as const;

export interface DialRequest {
  protocol: string;
  address: string;
  random: bigint;
}
export interface DialResponse {
  /** Empty on success. */
  error: string;
  /** 0 when the dial failed. */
  connectID: bigint;
  random: bigint;
}
export interface CloseRequest {
  connectID: bigint;
}
export interface CloseResponse {
  error: string;
  connectID: bigint;
}
export interface CloseDial {
  random: bigint;
}
export interface Data {
  connectID: bigint;
  /** On the wire for compatibility; upstream never sets or reads it. */
  error: string;
  data: Buffer;
}

export interface WindowUpdate {
  connectID: bigint;
  bytes: number;
}

export type Packet =
  | { type: typeof PacketType.DIAL_REQ; dialRequest: DialRequest }
  | { type: typeof PacketType.DIAL_RSP; dialResponse: DialResponse }
  | { type: typeof PacketType.CLOSE_REQ; closeRequest: CloseRequest }
  | { type: typeof PacketType.CLOSE_RSP; closeResponse: CloseResponse }
  | { type: typeof PacketType.DATA; data: Data }
  | { type: typeof PacketType.DIAL_CLS; closeDial: CloseDial }
  | { type: typeof PacketType.DRAIN }
  | { type: typeof PacketType.WINDOW_UPDATE; windowUpdate: WindowUpdate };

// tsc does not copy .proto files into dist/, so both the source (src/konnectivity/proto) and the built module
// (dist/konnectivity/proto) load them from the source tree, which ships with the package.
const protoDir = fileURLToPath(new URL('../../../src/konnectivity/proto/', import.meta.url));
// keepCase: proto-loader would otherwise camel-case `connectID` to `connectId`. longs: String keeps int64 exact
// (decimal strings, converted to bigint below). defaults: false so an absent field reads as absent, like proto3.
const definition = protoLoader.loadSync(['client.proto', 'agent.proto'], {
  includeDirs: [protoDir],
  keepCase: true,
  longs: String,
  enums: Number,
  defaults: false,
  oneofs: false,
});

type Wire = Record<string, unknown>;

/** proto3 omits zero values; doing the same gives Go's bytes exactly (the golden tests compare them). */
function int64(v: bigint): string | undefined {
  const n = BigInt.asIntN(64, v);
  if (n !== v) throw new RangeError(`${v} does not fit in int64`);
  return n === 0n ? undefined : n.toString();
}
function str(v: string): string | undefined {
  return v === '' ? undefined : v;
}
function compact(o: Wire): Wire {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function toWire(p: Packet): Wire {
  const type = p.type === PacketType.DIAL_REQ ? undefined : p.type;
  switch (p.type) {
    case PacketType.DIAL_REQ: {
      const d = p.dialRequest;
      return compact({
        type,
        dialRequest: compact({ protocol: str(d.protocol), address: str(d.address), random: int64(d.random) }),
      });
    }
    case PacketType.DIAL_RSP: {
      const d = p.dialResponse;
      return compact({
        type,
        dialResponse: compact({ error: str(d.error), connectID: int64(d.connectID), random: int64(d.random) }),
      });
    }
    case PacketType.CLOSE_REQ:
      return { type, closeRequest: compact({ connectID: int64(p.closeRequest.connectID) }) };
    case PacketType.CLOSE_RSP: {
      const c = p.closeResponse;
      return { type, closeResponse: compact({ error: str(c.error), connectID: int64(c.connectID) }) };
    }
    case PacketType.DATA: {
      const d = p.data;
      return {
        type,
        data: compact({
          connectID: int64(d.connectID),
          error: str(d.error),
          data: d.data.length === 0 ? undefined : d.data,
        }),
      };
    }
    case PacketType.DIAL_CLS:
      return { type, closeDial: compact({ random: int64(p.closeDial.random) }) };
    case PacketType.DRAIN:
      return { type, drain: {} };
    case PacketType.WINDOW_UPDATE: {
      const w = p.windowUpdate;
      return { type, windowUpdate: compact({ connectID: int64(w.connectID), bytes: w.bytes || undefined }) };
    }
  }
}

const big = (v: unknown): bigint => (v === undefined || v === null ? 0n : BigInt(v as string));
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
/** Like Go's GetDialRequest() on a packet whose payload is missing: every field reads as its zero value. */
const member = (o: Wire, name: string): Wire => (o[name] as Wire | undefined) ?? {};

function fromWire(o: Wire): Packet {
  const type = (o.type as number | undefined) ?? PacketType.DIAL_REQ;
  switch (type) {
    case PacketType.DIAL_REQ: {
      const d = member(o, 'dialRequest');
      return { type, dialRequest: { protocol: text(d.protocol), address: text(d.address), random: big(d.random) } };
    }
    case PacketType.DIAL_RSP: {
      const d = member(o, 'dialResponse');
      return { type, dialResponse: { error: text(d.error), connectID: big(d.connectID), random: big(d.random) } };
    }
    case PacketType.CLOSE_REQ:
      return { type, closeRequest: { connectID: big(member(o, 'closeRequest').connectID) } };
    case PacketType.CLOSE_RSP: {
      const c = member(o, 'closeResponse');
      return { type, closeResponse: { error: text(c.error), connectID: big(c.connectID) } };
    }
    case PacketType.DATA: {
      const d = member(o, 'data');
      const bytes =
        d.data instanceof Uint8Array ? Buffer.from(d.data.buffer, d.data.byteOffset, d.data.length) : Buffer.alloc(0);
      return { type, data: { connectID: big(d.connectID), error: text(d.error), data: bytes } };
    }
    case PacketType.DIAL_CLS:
      return { type, closeDial: { random: big(member(o, 'closeDial').random) } };
    case PacketType.DRAIN:
      return { type };
    case PacketType.WINDOW_UPDATE: {
      const w = member(o, 'windowUpdate');
      return { type, windowUpdate: { connectID: big(w.connectID), bytes: Number(w.bytes ?? 0) } };
    }
    default:
      // A newer peer's packet type: the stream fails to parse it (grpc-js answers INTERNAL) rather than
      // dispatching something this version does not understand.
      throw new Error(`unknown konnectivity packet type ${type}`);
  }
}

function bidiPacketMethod(service: string, method: string): grpc.MethodDefinition<Packet, Packet> {
  const loaded = (definition[service] as grpc.ServiceDefinition)[method]! as grpc.MethodDefinition<Wire, Wire>;
  const encode = (p: Packet): Buffer => loaded.requestSerialize(toWire(p));
  const decode = (b: Buffer): Packet => fromWire(loaded.requestDeserialize(b));
  return {
    path: loaded.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: encode,
    requestDeserialize: decode,
    responseSerialize: encode,
    responseDeserialize: decode,
    originalName: loaded.originalName,
  };
}

const proxy = bidiPacketMethod('ProxyService', 'Proxy');

/** Encodes a Packet exactly as upstream's Go peers do. */
export const encodePacket = (p: Packet): Buffer => proxy.requestSerialize(p);
/** @throws on malformed bytes or an unknown packet type */
export const decodePacket = (b: Buffer): Packet => proxy.requestDeserialize(b);

/** `/ProxyService/Proxy`: the frontend (kube-apiserver) side, one dial per stream. */
export const proxyServiceDefinition = { Proxy: proxy } satisfies grpc.ServiceDefinition;
/** `/AgentService/Connect`: opened by the agent, served by the konnectivity server. */
export const agentServiceDefinition = {
  Connect: bidiPacketMethod('AgentService', 'Connect'),
} satisfies grpc.ServiceDefinition;
