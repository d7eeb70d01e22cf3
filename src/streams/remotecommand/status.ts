// What the error channel carries at the end of an exec/attach (streaming.md §3.4): v4/v5 one JSON `Status`
// (`NonZeroExitCode` with an `ExitCode` cause for a non-zero exit — kubectl exits with that code), older
// protocols only the failure message as text and nothing on success.
import type { Status } from 'kubernetes-types/meta/v1.js';
import { newInternalError } from '../../api/errors.js';
import { RemoteCommandProtocol } from '../upgrade.js';

export function successStatus(): Status {
  return { metadata: {}, status: 'Success' };
}

/** The kubelet's Status for a command that exited `code` (1..255); 0 is success. */
export function exitCodeStatus(code: number, command: readonly string[] = []): Status {
  if (code === 0) return successStatus();
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** Any other failure to run the command (kubectl prints `error: Internal error occurred: …` and exits 1). */
export function execErrorStatus(message: string): Status {
  const {
    kind: _kind,
    apiVersion: _apiVersion,
    ...status
  } = newInternalError(`error executing command in container: ${message}`).status;
  return status;
}

/** The exit code a Status stands for: 0 for success, the ExitCode cause, else undefined (another failure). */
export function exitCodeOf(status: Status): number | undefined {
  if (status.status === 'Success') return 0;
  if (status.reason !== 'NonZeroExitCode') return undefined;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : undefined;
}

function structured(protocol: string): boolean {
  return (
    protocol === RemoteCommandProtocol.V5 ||
    protocol === RemoteCommandProtocol.V4 ||
    protocol === RemoteCommandProtocol.V4Base64
  );
}

/** The error-channel payload for `status` in `protocol`; undefined when nothing is to be written. */
export function encodeErrorChannel(status: Status, protocol: string): Buffer | undefined {
  if (structured(protocol)) return Buffer.from(JSON.stringify(status));
  if (status.status === 'Success') return undefined;
  return Buffer.from(status.message ?? 'error executing command');
}

/** Reads a whole error channel as client-go's error decoders do (empty = success). */
export function decodeErrorChannel(data: Buffer, protocol: string): Status {
  if (data.length === 0) return successStatus();
  if (!structured(protocol)) return { metadata: {}, status: 'Failure', message: data.toString('utf8') };
  try {
    const status = JSON.parse(data.toString('utf8')) as Status;
    if (typeof status === 'object' && status !== null && typeof status.status === 'string') return status;
  } catch {
    // fall through
  }
  return { metadata: {}, status: 'Failure', message: `error stream protocol error: ${data.toString('utf8')}` };
}
