// SPDY/3.1 frame layouts (streaming.md §4.2): an 8-byte header — control bit, version 3 and type, or a 31-bit
// stream id for DATA — then flags (8 bits) and a 24-bit length. Pure and synchronous; header blocks stay
// compressed here (headers.ts inflates them with the connection's zlib context).

export const SPDY_VERSION = 3;
export const FRAME_HEADER_SIZE = 8;
/** The 24-bit length field's limit. */
export const MAX_FRAME_LENGTH = 0xffffff;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const Flag = { Fin: 0x01, Unidirectional: 0x02 } as const;

/** RST_STREAM status codes. */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  FrameTooLarge: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { Ok: 0, ProtocolError: 1, InternalError: 2 } as const;

export const SettingId = { MaxConcurrentStreams: 4, InitialWindowSize: 7 } as const;

export interface Setting {
  id: number;
  flags: number;
  value: number;
}

export type Frame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | {
      type: 'syn_stream';
      streamId: number;
      associatedId: number;
      priority: number;
      slot: number;
      flags: number;
      headerBlock: Buffer;
    }
  | { type: 'syn_reply'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; settings: Setting[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  /** A control type this version does not define: the spec says to ignore it. */
  | { type: 'unknown'; frameType: number; flags: number };

/** A frame that breaks the layout rules. The connection that received it is closed (a session error). */
export class SpdyProtocolError extends Error {
  override readonly name = 'SpdyProtocolError';
}

const STREAM_ID_MASK = 0x7fffffff;

function controlHeader(type: number, flags: number, length: number): Buffer {
  if (length > MAX_FRAME_LENGTH) throw new RangeError(`SPDY frame of ${length} bytes exceeds ${MAX_FRAME_LENGTH}`);
  const b = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  b.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  b.writeUInt16BE(type, 2);
  b.writeUInt32BE(((flags & 0xff) << 24) | length, 4);
  return b;
}

/** A DATA frame's 8-byte header; the payload is written after it without copying. */
export function dataFrameHeader(streamId: number, flags: number, length: number): Buffer {
  if (length > MAX_FRAME_LENGTH) throw new RangeError(`SPDY frame of ${length} bytes exceeds ${MAX_FRAME_LENGTH}`);
  const b = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  b.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  b.writeUInt32BE(((flags & 0xff) << 24) | length, 4);
  return b;
}

/** Encodes one frame; header blocks must already be compressed. */
export function encodeFrame(frame: Frame): Buffer {
  switch (frame.type) {
    case 'data':
      return Buffer.concat([dataFrameHeader(frame.streamId, frame.flags, frame.data.length), frame.data]);
    case 'syn_stream': {
      const body = Buffer.allocUnsafe(10);
      body.writeUInt32BE(frame.streamId & STREAM_ID_MASK, 0);
      body.writeUInt32BE(frame.associatedId & STREAM_ID_MASK, 4);
      body[8] = (frame.priority & 0x7) << 5;
      body[9] = frame.slot & 0xff;
      const length = body.length + frame.headerBlock.length;
      return Buffer.concat([controlHeader(FrameType.SynStream, frame.flags, length), body, frame.headerBlock]);
    }
    case 'syn_reply':
    case 'headers': {
      const body = Buffer.allocUnsafe(4);
      body.writeUInt32BE(frame.streamId & STREAM_ID_MASK, 0);
      const type = frame.type === 'syn_reply' ? FrameType.SynReply : FrameType.Headers;
      return Buffer.concat([controlHeader(type, frame.flags, 4 + frame.headerBlock.length), body, frame.headerBlock]);
    }
    case 'rst_stream':
      return fixed(FrameType.RstStream, 0, frame.streamId & STREAM_ID_MASK, frame.status);
    case 'settings': {
      const body = Buffer.allocUnsafe(4 + 8 * frame.settings.length);
      body.writeUInt32BE(frame.settings.length, 0);
      frame.settings.forEach((s, i) => {
        body.writeUInt32BE(((s.flags & 0xff) << 24) | (s.id & 0xffffff), 4 + 8 * i);
        body.writeUInt32BE(s.value >>> 0, 8 + 8 * i);
      });
      return Buffer.concat([controlHeader(FrameType.Settings, frame.flags, body.length), body]);
    }
    case 'ping': {
      const body = Buffer.allocUnsafe(4);
      body.writeUInt32BE(frame.id >>> 0, 0);
      return Buffer.concat([controlHeader(FrameType.Ping, 0, 4), body]);
    }
    case 'goaway':
      return fixed(FrameType.GoAway, 0, frame.lastGoodStreamId & STREAM_ID_MASK, frame.status);
    case 'window_update':
      return fixed(FrameType.WindowUpdate, 0, frame.streamId & STREAM_ID_MASK, frame.delta & STREAM_ID_MASK);
    case 'unknown':
      throw new TypeError(`cannot encode unknown SPDY control frame type ${frame.frameType}`);
  }
}

function fixed(type: number, flags: number, a: number, b: number): Buffer {
  const body = Buffer.allocUnsafe(8);
  body.writeUInt32BE(a >>> 0, 0);
  body.writeUInt32BE(b >>> 0, 4);
  return Buffer.concat([controlHeader(type, flags, 8), body]);
}

/** Bytes the frame at `offset` occupies, or undefined when its header is not complete yet. */
export function frameLength(buf: Buffer, offset = 0): number | undefined {
  if (buf.length - offset < FRAME_HEADER_SIZE) return undefined;
  return FRAME_HEADER_SIZE + (buf.readUInt32BE(offset + 4) & 0xffffff);
}

function expectLength(name: string, length: number, want: number): void {
  if (length !== want) throw new SpdyProtocolError(`${name} frame with length ${length}, want ${want}`);
}

function nonZeroStream(name: string, id: number): number {
  if (id === 0) throw new SpdyProtocolError(`${name} frame for stream 0`);
  return id;
}

/**
 * Decodes one complete frame (`frameLength` bytes at `offset`).
 * @throws SpdyProtocolError for a wrong version or a body that does not fit its type's layout
 */
export function decodeFrame(buf: Buffer, offset = 0): Frame {
  const w0 = buf.readUInt32BE(offset);
  const w1 = buf.readUInt32BE(offset + 4);
  const flags = w1 >>> 24;
  const length = w1 & 0xffffff;
  const body = buf.subarray(offset + FRAME_HEADER_SIZE, offset + FRAME_HEADER_SIZE + length);
  if (body.length !== length) throw new RangeError('decodeFrame needs the whole frame');
  if ((w0 & 0x80000000) === 0) {
    return { type: 'data', streamId: nonZeroStream('DATA', w0 & STREAM_ID_MASK), flags, data: body };
  }
  const version = (w0 >>> 16) & 0x7fff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
  const type = w0 & 0xffff;
  switch (type) {
    case FrameType.SynStream:
      if (length < 10) throw new SpdyProtocolError(`SYN_STREAM frame with length ${length}`);
      return {
        type: 'syn_stream',
        streamId: nonZeroStream('SYN_STREAM', body.readUInt32BE(0) & STREAM_ID_MASK),
        associatedId: body.readUInt32BE(4) & STREAM_ID_MASK,
        priority: body[8]! >>> 5,
        slot: body[9]!,
        flags,
        headerBlock: body.subarray(10),
      };
    case FrameType.SynReply:
    case FrameType.Headers: {
      const name = type === FrameType.SynReply ? 'SYN_REPLY' : 'HEADERS';
      if (length < 4) throw new SpdyProtocolError(`${name} frame with length ${length}`);
      const streamId = nonZeroStream(name, body.readUInt32BE(0) & STREAM_ID_MASK);
      const headerBlock = body.subarray(4);
      return type === FrameType.SynReply
        ? { type: 'syn_reply', streamId, flags, headerBlock }
        : { type: 'headers', streamId, flags, headerBlock };
    }
    case FrameType.RstStream:
      expectLength('RST_STREAM', length, 8);
      return {
        type: 'rst_stream',
        streamId: nonZeroStream('RST_STREAM', body.readUInt32BE(0) & STREAM_ID_MASK),
        status: body.readUInt32BE(4),
      };
    case FrameType.Settings: {
      const count = length >= 4 ? body.readUInt32BE(0) : -1;
      if (count < 0 || length !== 4 + 8 * count) throw new SpdyProtocolError(`SETTINGS frame with length ${length}`);
      const settings: Setting[] = [];
      for (let i = 0; i < count; i++) {
        const idf = body.readUInt32BE(4 + 8 * i);
        settings.push({ flags: idf >>> 24, id: idf & 0xffffff, value: body.readUInt32BE(8 + 8 * i) });
      }
      return { type: 'settings', flags, settings };
    }
    case FrameType.Ping:
      expectLength('PING', length, 4);
      return { type: 'ping', id: body.readUInt32BE(0) };
    case FrameType.GoAway:
      expectLength('GOAWAY', length, 8);
      return { type: 'goaway', lastGoodStreamId: body.readUInt32BE(0) & STREAM_ID_MASK, status: body.readUInt32BE(4) };
    case FrameType.WindowUpdate: {
      expectLength('WINDOW_UPDATE', length, 8);
      const delta = body.readUInt32BE(4) & STREAM_ID_MASK;
      if (delta === 0) throw new SpdyProtocolError('WINDOW_UPDATE with delta 0');
      return { type: 'window_update', streamId: body.readUInt32BE(0) & STREAM_ID_MASK, delta };
    }
    default:
      return { type: 'unknown', frameType: type, flags };
  }
}
