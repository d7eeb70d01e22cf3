// What etcd's gRPC failures mean to a Store caller. etcd3 turns gRPC statuses into typed errors; the codes
// matter more than the classes: UNAVAILABLE (no connection, no leader, a proposal that timed out inside etcd) is a
// cluster that is down or partitioned, DEADLINE_EXCEEDED is our own bound running out.
import { GRPCCancelledError, GRPCDeadlineExceededError } from 'etcd3';
import { StorageError } from '../interface.js';
import { isRetryable } from './client.js';

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
  if (err instanceof GRPCDeadlineExceededError) {
    const timeout = new StorageError('Timeout', key, `etcd request timed out after ${timeoutMs} ms: ${message}`);
    timeout.cause = err;
    return timeout;
  }
  // A circuit breaker opens after repeated failures of one member; once every member's is open, calls fail at once.
  const brokenCircuit = typeof err === 'object' && err !== null && 'isBrokenCircuitError' in err;
  if (brokenCircuit || err instanceof GRPCCancelledError || (err instanceof Error && isRetryable(err))) {
    return unavailableError(key, err);
  }
  return err instanceof Error ? err : new Error(message);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
