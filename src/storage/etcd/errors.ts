// What etcd's gRPC failures mean to a Store caller. etcd3 turns gRPC statuses into typed errors; the codes
// matter more than the classes: UNAVAILABLE (no connection, no leader, a proposal that timed out inside etcd) is a
// cluster that is down or partitioned, DEADLINE_EXCEEDED is our own bound running out.
import { StorageError } from '../interface.js';

/** etcd's mvcc.ErrCompacted and mvcc.ErrFutureRev, as the server words them. */
const compactedMessage = 'required revision has been compacted';
const futureMessage = 'required revision is a future revision';

export function unavailableError(key: string, cause: unknown): StorageError {
  const err = new StorageError('Unavailable', key, `etcd cluster is unavailable or misconfigured: ${describe(cause)}`);
  err.cause = cause;
  return err;
}

/**
 * The StorageError for a failed etcd call on `key`, or a RangeError for a revision not written yet; anything else
 * is returned as it is (a bug or a misconfiguration the API reports as an internal error).
 */
export function fromEtcdError(err: unknown, key: string, timeoutMs: number): Error {
  const message = describe(err);
  if (message.includes(compactedMessage)) {
    return new StorageError('Compacted', key, `etcd: ${compactedMessage}`);
  }
  if (message.includes(futureMessage)) return new RangeError(`etcd: ${futureMessage}`);
  const name = err instanceof Error ? err.name : '';
  if (name === 'GRPCDeadlineExceededError') {
    const timeout = new StorageError('Timeout', key, `etcd request timed out after ${timeoutMs} ms: ${message}`);
    timeout.cause = err;
    return timeout;
  }
  // A circuit breaker opens after repeated failures of one member; once every member's is open, calls fail at once.
  if (name === 'GRPCUnavailableError' || name === 'BrokenCircuitError' || name === 'GRPCCancelledError') {
    return unavailableError(key, err);
  }
  return err instanceof Error ? err : new Error(message);
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // etcd3 names the gRPC code in the message ("14 UNAVAILABLE: No connection established"); keep it short.
  return err.message.replace(/^\w+Error: /, '');
}
