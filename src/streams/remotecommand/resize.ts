// Terminal sizes on the resize stream/channel: Go's json.Encoder writes `{"Width":W,"Height":H}\n` per change,
// and a message or DATA frame may hold part of one or several, so it is decoded as a stream of lines.

export interface TerminalSize {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
}

/** Lines longer than this are not sizes; the decoder drops them instead of buffering without end. */
const MAX_LINE = 4096;

export class ResizeDecoder {
  private pending = '';

  constructor(private readonly onSize: (size: TerminalSize) => void) {}

  write(chunk: Buffer): void {
    this.pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      this.line(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
    }
    // A client that writes objects without a newline: take the buffer once it parses.
    if (this.line(this.pending) || this.pending.length > MAX_LINE) this.pending = '';
  }

  /** Emits the size a line holds; false when it holds none (yet). */
  private line(text: string): boolean {
    if (text.trim() === '') return false;
    let v: { Width?: unknown; Height?: unknown };
    try {
      v = JSON.parse(text) as typeof v;
    } catch {
      return false;
    }
    const width = Number(v?.Width);
    const height = Number(v?.Height);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) return false;
    this.onSize({ width, height });
    return true;
  }
}

export function encodeTerminalSize(size: TerminalSize): Buffer {
  return Buffer.from(`${JSON.stringify({ Width: size.width, Height: size.height })}\n`);
}
