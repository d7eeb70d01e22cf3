// The hubspoke extension of --egress-selector-config-file for SSH tunnels (upstream has no such protocol; its SSH
// tunnels were flags only, as --ssh-user/--ssh-keyfile still are here):
//
//   egressSelections:
//   - name: cluster
//     connection:
//       proxyProtocol: SSH
//       transport:
//         ssh: { user: root, keyFile: /etc/hubspoke/ssh/id_ed25519, port: 22, knownHostsFile: /etc/hubspoke/known_hosts }
//
// `port` and `knownHostsFile` are optional, as --ssh-port and --ssh-known-hosts. Function declarations, not
// consts: config.ts and this module import each other, and hoisted functions are callable either way round.
import type { FieldError, FieldPath } from '../../../api/field.js';
import { strictObject, stringField, type Transport } from '../config.js';
import type { SSHEgressSettings } from './index.js';

export function decodeSSHTransport(v: unknown, p: FieldPath, errs: FieldError[]): SSHEgressSettings | undefined {
  const o = strictObject(v, p, ['user', 'keyFile', 'port', 'knownHostsFile'], errs);
  if (!o) return undefined;
  const user = stringField(o, 'user', p, errs);
  const keyFile = stringField(o, 'keyFile', p, errs);
  if (!user) errs.push(p.child('user').required('the SSH user the API server logs in as'));
  if (!keyFile) errs.push(p.child('keyFile').required("the API server's SSH private key"));
  const s: SSHEgressSettings = { user, keyFile };
  if (o.port !== undefined && o.port !== null) {
    if (!Number.isInteger(o.port) || (o.port as number) < 1 || (o.port as number) > 65535)
      errs.push(p.child('port').invalid(o.port, 'must be a port number'));
    else s.port = o.port as number;
  }
  const knownHostsFile = stringField(o, 'knownHostsFile', p, errs);
  if (knownHostsFile) s.knownHostsFile = knownHostsFile;
  return s;
}

export function validateSSHConnection(t: Transport | undefined, p: FieldPath): FieldError[] {
  if (!t?.ssh) return [p.child('transport').child('ssh').required('ssh must be set with SSH')];
  if (t.uds || t.tcp) return [p.child('transport').invalid('uds/tcp', 'only ssh may be set with SSH')];
  return [];
}
