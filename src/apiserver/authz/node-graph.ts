// The Node authorizer's graph (k8s plugin/pkg/auth/authorizer/node/graph.go, reduced to the objects hubspoke
// serves): pod → node for every bound pod, and secret / configmap / pvc / serviceaccount → pod for what the pod
// names. A node may read an object only when some pod bound to it names the object. It is fed from the API
// server's own watch of pods (see `replace`, `upsert`, `remove`), so it never lags behind storage by more than
// that watch does.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import type { Logger } from '../../lib/log.js';
import type { RegistryStore } from '../registry/store.js';
import { isMirrorPod, podConfigMapNames, podPVCNames, podSecretNames } from './pod-references.js';

export type VertexType = 'pod' | 'secret' | 'configmap' | 'persistentvolumeclaim' | 'serviceaccount';

const vertexKey = (type: VertexType, namespace: string, name: string): string => `${type}/${namespace}/${name}`;

interface PodEntry {
  node: string;
  /** The vertex keys this pod reaches the node through, itself included. */
  vertices: string[];
}

export class NodeGraph {
  readonly #pods = new Map<string, PodEntry>();
  /** vertex key → node → how many pods on that node name the object. */
  readonly #reach = new Map<string, Map<string, number>>();

  /** Whether `node` reaches the object: a pod bound to it is that object or names it. */
  hasPathFrom(node: string, type: VertexType, namespace: string, name: string): boolean {
    return (this.#reach.get(vertexKey(type, namespace, name))?.get(node) ?? 0) > 0;
  }

  /** Starts over from a full list (after the watch had to re-list). */
  replace(pods: readonly KubeObject[]): void {
    this.#pods.clear();
    this.#reach.clear();
    for (const p of pods) this.upsert(p);
  }

  upsert(obj: KubeObject): void {
    const pod = obj as Pod;
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    this.#drop(key);
    const node = pod.spec?.nodeName;
    // An unbound pod reaches no node; it is added when the scheduler binds it.
    if (!node) return;
    const ns = pod.metadata?.namespace ?? '';
    const vertices = [vertexKey('pod', ns, pod.metadata?.name ?? '')];
    // A mirror pod is the kubelet's own copy of a static pod: it grants nothing beyond itself.
    if (!isMirrorPod(pod)) {
      const add = (type: VertexType, names: string[]): void => {
        for (const n of new Set(names)) vertices.push(vertexKey(type, ns, n));
      };
      add('secret', podSecretNames(pod));
      add('configmap', podConfigMapNames(pod));
      add('persistentvolumeclaim', podPVCNames(pod));
      add('serviceaccount', pod.spec?.serviceAccountName ? [pod.spec.serviceAccountName] : []);
    }
    for (const v of vertices) {
      const nodes = this.#reach.get(v) ?? new Map<string, number>();
      nodes.set(node, (nodes.get(node) ?? 0) + 1);
      this.#reach.set(v, nodes);
    }
    this.#pods.set(key, { node, vertices });
  }

  remove(obj: KubeObject): void {
    this.#drop(`${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`);
  }

  #drop(podKey: string): void {
    const entry = this.#pods.get(podKey);
    if (!entry) return;
    this.#pods.delete(podKey);
    for (const v of entry.vertices) {
      const nodes = this.#reach.get(v)!;
      const n = nodes.get(entry.node)! - 1;
      if (n > 0) nodes.set(entry.node, n);
      else nodes.delete(entry.node);
      if (nodes.size === 0) this.#reach.delete(v);
    }
  }
}

/**
 * Keeps `graph` in step with the pods until `signal` aborts, reading the pods' watch cache (no storage watch of
 * its own); a watch that ends or fails starts over from a list. `synced` resolves after the first list.
 */
export function populateNodeGraph(
  pods: RegistryStore,
  graph: NodeGraph,
  signal: AbortSignal,
  log: Logger
): { synced: Promise<void> } {
  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  void (async () => {
    while (!signal.aborted) {
      try {
        const list = await pods.list('', { resourceVersion: '0' });
        graph.replace(list.items);
        markSynced();
        for await (const ev of pods.watch('', {}, Number(list.resourceVersion), signal)) {
          if (ev.type === 'ERROR') break;
          if (ev.type === 'DELETED') graph.remove(ev.object);
          else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') graph.upsert(ev.object);
        }
      } catch (err) {
        if (signal.aborted) return;
        log.warn({ err }, 'node authorizer: pod watch failed; listing again');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return { synced };
}
