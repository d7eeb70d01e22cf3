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
    // A client that writes objects without a newline: take the buffer when it already parses.
    if (this.pending.trim() !== '' && this.line(this.pending, true)) this.pending = '';
    if (this.pending.length > MAX_LINE) this.pending = '';
  }

  private line(text: string, quiet = false): boolean {
    if (text.trim() === '') return false;
    try {
      const v = JSON.parse(text) as { Width?: unknown; Height?: unknown };
      const width = Number(v.Width);
      const height = Number(v.Height);
      if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0) {
        this.onSize({ width, height });
        return true;
      }
    } catch {
      if (quiet) return false;
    }
    return false;
  }
}

export function encodeTerminalSize(size: TerminalSize): Buffer {
  return Buffer.from(`${JSON.stringify({ Width: size.width, Height: size.height })}\n`);
}
