// The sink/echo server (bench/lib/peers.ts) as a program, for a pod to run:
//   node --import tsx bench/lib/sink-echo-main.ts <port> [host]
// It prints `listening <port>` and serves until killed.
import { startSinkEcho } from './peers.js';

const server = await startSinkEcho({ port: Number(process.argv[2] ?? 0), host: process.argv[3] ?? '127.0.0.1' });
console.log(`listening ${server.port}`);
