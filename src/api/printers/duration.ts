// Ages as kubectl shows them: k8s.io/apimachinery/pkg/util/duration HumanDuration and the printers'
// translateTimestampSince. Go truncates toward zero when it converts durations to whole units; so does Math.trunc.

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/** Roughly two or three significant figures: `45s`, `2m10s`, `15m`, `3h2m`, `12h`, `2d3h`, `45d`, `2y3d`, `9y`. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / second);
  // Up to two seconds into the future is clock skew between machines, shown as now.
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / minute);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / hour);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/** Go's zero time.Time, which a client may send instead of leaving a timestamp out. */
const goZeroTime = Date.parse('0001-01-01T00:00:00Z');

/** Milliseconds since the epoch, or undefined for a missing, unparsable or zero (Go `IsZero`) timestamp. */
export function parseTimestamp(timestamp: string | null | undefined): number | undefined {
  if (!timestamp) return undefined;
  const t = Date.parse(timestamp);
  if (Number.isNaN(t) || t === goZeroTime) return undefined;
  return t;
}

/** Time elapsed since `timestamp` (RFC 3339 Time or MicroTime), or `<unknown>` when it is unset. */
export function translateTimestampSince(timestamp: string | null | undefined, now: Date): string {
  const t = parseTimestamp(timestamp);
  return t === undefined ? '<unknown>' : humanDuration(now.getTime() - t);
}
