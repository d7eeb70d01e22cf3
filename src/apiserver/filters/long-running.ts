// Which requests may outlive the request timeout and are not counted by max-in-flight (upstream's
// BasicLongRunningRequestCheck: watch verbs and the streaming subresources).
import type { RequestInfo } from '../request-info.js';

const longRunningSubresources = new Set(['exec', 'attach', 'portforward', 'proxy', 'log']);

export function isLongRunning(ri: RequestInfo): boolean {
  return ri.verb === 'watch' || longRunningSubresources.has(ri.subresource);
}
