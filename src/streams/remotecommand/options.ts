// Exec/attach options from a request's query, in both spellings (streaming.md §1.4, §2.3): the public API's
// PodExecOptions (`stdin=true&stdout=true&stderr=true&tty=true&command=…`) and the kubelet's legacy form
// (`input=1&output=1&error=1&tty=1&command=…`) that the API server sends to the kubelet.
import { newBadRequest } from '../../api/errors.js';

export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  /** Always false with a TTY (a terminal has one output). */
  stderr: boolean;
  tty: boolean;
  /** argv; empty for attach. */
  command: string[];
}

const truthy = (v: string | null): boolean => v === 'true' || v === '1';

/**
 * @throws StatusError 400 `you must specify at least 1 of stdin, stdout, stderr` as the kubelet does
 */
export function parseRemoteCommandOptions(query: URLSearchParams): RemoteCommandOptions {
  const flag = (pub: string, legacy: string): boolean => truthy(query.get(pub)) || query.get(legacy) === '1';
  const tty = truthy(query.get('tty'));
  const options: RemoteCommandOptions = {
    stdin: flag('stdin', 'input'),
    stdout: flag('stdout', 'output'),
    stderr: flag('stderr', 'error') && !tty,
    tty,
    command: query.getAll('command'),
  };
  if (!options.stdin && !options.stdout && !flag('stderr', 'error')) {
    throw newBadRequest('you must specify at least 1 of stdin, stdout, stderr');
  }
  return options;
}

/** The kubelet's query for these options, as the API server rewrites PodExecOptions (keys sorted). */
export function kubeletRemoteCommandQuery(options: RemoteCommandOptions): URLSearchParams {
  const q = new URLSearchParams();
  for (const c of options.command) q.append('command', c);
  if (options.stderr) q.set('error', '1');
  if (options.stdin) q.set('input', '1');
  if (options.stdout) q.set('output', '1');
  if (options.tty) q.set('tty', '1');
  return q;
}
