// A kubelet in a process of its own, for tests that kill it: `node --import tsx kubelet-process.ts '<KubeletOptions JSON>'`.
// It logs JSON to stderr and runs until killed.
import { Kubelet } from '../../src/kubelet/kubelet.js';
import { completeKubeletOptions, validateKubeletOptions, type KubeletOptions } from '../../src/kubelet/options.js';
import { newLogger } from '../../src/lib/log.js';

const { options, errors } = await completeKubeletOptions(JSON.parse(process.argv[2]!) as KubeletOptions);
errors.push(...validateKubeletOptions(options));
if (errors.length) throw new Error(errors.join('\n'));
await Kubelet.start(options, newLogger({ format: 'json' }));
