// Feeds the SSH dialer the Nodes from the API server's own watch cache (as the Node authorizer's graph is fed with
// pods, authz/node-graph.ts): list, then watch; a broken watch lists again, and a node missing from the new list
// is gone.
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../../lib/log.js';
import type { RegistryStore } from '../../registry/store.js';
import type { SSHDialer } from './dialer.js';

export function feedNodes(nodes: RegistryStore, dialer: SSHDialer, signal: AbortSignal, log: Logger): void {
  void (async () => {
    while (!signal.aborted) {
      try {
        const list = await nodes.list('', { resourceVersion: '0' });
        dialer.replaceNodes(list.items as Node[]);
        for await (const ev of nodes.watch('', {}, Number(list.resourceVersion), signal)) {
          if (ev.type === 'ERROR') break;
          if (ev.type === 'DELETED') dialer.deleteNode((ev.object as Node).metadata?.name ?? '');
          else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') dialer.upsertNode(ev.object as Node);
        }
      } catch (err) {
        if (signal.aborted) break;
        log.warn({ err }, 'SSH egress: node watch failed; listing again');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    dialer.close();
  })();
}
