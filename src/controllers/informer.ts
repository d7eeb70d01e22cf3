// Moved to src/lib/informer.ts so the kubelet can share it; kept until every controller imports it from there.
export { runInformer, type EventHandler, type InformerOptions } from '../lib/informer.js';
