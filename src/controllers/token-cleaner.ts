// The bootstrap token cleaner (upstream pkg/controller/bootstrap/tokencleaner): deletes the bootstrap token
// Secrets in kube-system (type bootstrap.kubernetes.io/token) once their `expiration` has passed. An expiration
// that does not parse counts as expired, as it does for authentication. Each Secret is looked at again when it
// expires; the delete carries the Secret's uid as a precondition, so a re-created token is never removed.
import { isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { runInformer } from '../lib/informer.js';
import { WorkQueue } from './queue.js';

interface Secret {
  metadata: { name: string; uid?: string };
  type?: string;
  data?: Record<string, string>;
}

const secretsPath = '/api/v1/namespaces/kube-system/secrets';
/** setTimeout's largest delay; a later expiry is simply looked at again then. */
const maxTimerMs = 2 ** 31 - 1;

/** Milliseconds until the token expires: ≤ 0 when expired (or the expiration does not parse), undefined if never. */
export function msUntilExpiry(secret: Secret, now = Date.now()): number | undefined {
  const encoded = secret.data?.expiration;
  if (!encoded) return undefined;
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  // RFC 3339 as Go's time.RFC3339 parses it: a date, a time, and a Z or numeric zone.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return 0;
  const at = Date.parse(text);
  return Number.isNaN(at) ? 0 : at - now;
}

export function runTokenCleaner(client: KubeClient, log: Logger, signal: AbortSignal): Promise<void> {
  const queue = new WorkQueue(
    async (name): Promise<void> => {
      const secret = await client.getOptional<Secret>(`${secretsPath}/${encodeURIComponent(name)}`);
      if (!secret) return;
      const left = msUntilExpiry(secret);
      if (left === undefined) return;
      if (left > 0) return queue.add(name, Math.min(left, maxTimerMs));
      try {
        await client.request('DELETE', `${secretsPath}/${encodeURIComponent(name)}`, {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { uid: secret.metadata.uid },
        });
        log.info({ secret: name }, 'deleted expired bootstrap token');
      } catch (err) {
        if (isNotFound(err)) return;
        if (isConflict(err)) return queue.add(name); // replaced meanwhile: look at the new one
        throw err;
      }
    },
    log,
    signal
  );
  return runInformer<Secret>(
    client,
    `${secretsPath}?fieldSelector=${encodeURIComponent('type=bootstrap.kubernetes.io/token')}`,
    log,
    signal,
    (type, secret) => {
      if (type !== 'DELETED') queue.add(secret.metadata.name);
    }
  );
}
