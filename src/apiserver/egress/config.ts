// `--egress-selector-config-file`: upstream's EgressSelectorConfiguration (apiserver.k8s.io/v1beta1, also v1alpha1),
// decoded strictly like upstream's (an unknown field is an error) and validated as upstream's
// pkg/server/egressselector/config.go validates, with every problem reported at once and named by its path.
// What each proxyProtocol accepts and builds lives in the table in protocols.ts; the transports it may use are
// decoded by the `transports` table below, so a new protocol is one entry in each (e.g. hubspoke's SSH).
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { path as root, type FieldError, type FieldPath } from '../../api/field.js';
import type { EgressSelection } from './dialer.js';
import { proxyProtocols } from './protocols.js';
import { decodeSSHTransport } from './ssh/config.js';

export const egressSelectorAPIVersions = ['apiserver.k8s.io/v1beta1', 'apiserver.k8s.io/v1alpha1'] as const;
export const egressSelectionNames: readonly EgressSelection[] = ['cluster', 'controlplane', 'etcd'];

export interface UDSTransport {
  /** The socket's path (no `unix://`). */
  udsName: string;
}

export interface TLSConfig {
  /** CA file the proxy's certificate must chain to; empty means the system roots. */
  caBundle?: string;
  clientKey?: string;
  clientCert?: string;
  /** The name checked against the proxy's certificate. @default the URL's host */
  tlsServerName?: string;
}

export interface TCPTransport {
  /** `https://host:port` (`http://` is accepted without tlsConfig, as upstream validates). */
  url: string;
  tlsConfig?: TLSConfig;
}

/** `connection.transport`: the members the transports table knows; a protocol says which it takes. */
export interface Transport {
  uds?: UDSTransport;
  tcp?: TCPTransport;
  [extension: string]: unknown;
}

export interface Connection {
  /** A key of the proxyProtocols table: `GRPC`, `HTTPConnect`, `Direct`. */
  proxyProtocol: string;
  transport?: Transport;
}

export interface EgressSelectionConfig {
  name: EgressSelection;
  connection: Connection;
}

export interface EgressSelectorConfiguration {
  egressSelections: EgressSelectionConfig[];
}

type Decoder = (v: unknown, p: FieldPath, errs: FieldError[]) => unknown;

/** Checks `v` is an object with only `fields`; returns it (or undefined after recording the problem). */
export function strictObject(
  v: unknown,
  p: FieldPath,
  fields: readonly string[],
  errs: FieldError[]
): Record<string, unknown> | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    errs.push(p.invalid(v, 'must be an object'));
    return undefined;
  }
  for (const k of Object.keys(v)) if (!fields.includes(k)) errs.push(p.child(k).forbidden('unknown field'));
  return v as Record<string, unknown>;
}

/** An optional string field. */
export function stringField(o: Record<string, unknown>, name: string, p: FieldPath, errs: FieldError[]): string {
  const v = o[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') errs.push(p.child(name).invalid(v, 'must be a string'));
  return typeof v === 'string' ? v : '';
}

const decodeUDS: Decoder = (v, p, errs) => {
  const o = strictObject(v, p, ['udsName'], errs);
  if (!o) return undefined;
  const udsName = stringField(o, 'udsName', p, errs);
  if (udsName === '') errs.push(p.child('udsName').required('must be present for UDS connections'));
  else if (udsName.startsWith('unix://')) errs.push(p.child('udsName').invalid(udsName, 'a path, without unix://'));
  return { udsName } satisfies UDSTransport;
};

const decodeTCP: Decoder = (v, p, errs) => {
  const o = strictObject(v, p, ['url', 'tlsConfig'], errs);
  if (!o) return undefined;
  const url = stringField(o, 'url', p, errs);
  const tcp: TCPTransport = { url };
  if (o.tlsConfig !== undefined && o.tlsConfig !== null) {
    const tp = p.child('tlsConfig');
    const t = strictObject(o.tlsConfig, tp, ['caBundle', 'clientKey', 'clientCert', 'tlsServerName'], errs);
    if (t)
      tcp.tlsConfig = {
        caBundle: stringField(t, 'caBundle', tp, errs) || undefined,
        clientKey: stringField(t, 'clientKey', tp, errs) || undefined,
        clientCert: stringField(t, 'clientCert', tp, errs) || undefined,
        tlsServerName: stringField(t, 'tlsServerName', tp, errs) || undefined,
      };
  }
  if (url.startsWith('http://')) {
    if (tcp.tlsConfig) errs.push(p.child('tlsConfig').invalid('nil', 'config must not be present when using HTTP'));
  } else if (url.startsWith('https://')) {
    if (!tcp.tlsConfig) errs.push(p.child('tlsConfig').required('TLSConfig must be present when using HTTPS'));
    else {
      if (!tcp.tlsConfig.clientCert)
        errs.push(p.child('tlsConfig').child('clientCert').required('Using TLS requires clientCert'));
      if (!tcp.tlsConfig.clientKey)
        errs.push(p.child('tlsConfig').child('clientKey').required('Using TLS requires clientKey'));
    }
    try {
      if (!new URL(url).port) errs.push(p.child('url').invalid(url, 'must name a port'));
    } catch {
      errs.push(p.child('url').invalid(url, 'not a URL'));
    }
  } else errs.push(p.child('url').invalid(url, 'supported connection protocols are http:// and https://'));
  return tcp;
};

/** `connection.transport` members. Extensions add theirs here. */
export const transports: Record<string, Decoder> = { uds: decodeUDS, tcp: decodeTCP, ssh: decodeSSHTransport };

function decodeConnection(v: unknown, p: FieldPath, errs: FieldError[]): Connection | undefined {
  const o = strictObject(v, p, ['proxyProtocol', 'transport'], errs);
  if (!o) return undefined;
  const proxyProtocol = stringField(o, 'proxyProtocol', p, errs);
  const connection: Connection = { proxyProtocol };
  if (o.transport !== undefined && o.transport !== null) {
    const tp = p.child('transport');
    const t = strictObject(o.transport, tp, Object.keys(transports), errs);
    if (t) {
      const transport: Transport = {};
      for (const [k, decode] of Object.entries(transports))
        if (t[k] !== undefined && t[k] !== null) transport[k] = decode(t[k], tp.child(k), errs);
      connection.transport = transport;
    }
  }
  const protocol = proxyProtocols[proxyProtocol];
  if (!protocol) errs.push(p.child('proxyProtocol').notSupported(proxyProtocol, Object.keys(proxyProtocols)));
  else errs.push(...protocol.validate(connection.transport, p));
  return connection;
}

/**
 * Decodes and validates a configuration (YAML or JSON).
 *
 * @throws Error naming the source and every problem (`egressSelections[0].connection.transport.uds: Required value: …`).
 */
export function parseEgressSelectorConfiguration(text: string, source: string): EgressSelectorConfiguration {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`egress selector configuration ${source}: ${(err as Error).message}`);
  }
  const errs: FieldError[] = [];
  const top = strictObject(doc ?? {}, root(''), ['apiVersion', 'kind', 'egressSelections'], errs) ?? {};
  if (top.kind !== 'EgressSelectorConfiguration')
    errs.push(root('kind').invalid(top.kind, 'must be EgressSelectorConfiguration'));
  const apiVersion = top.apiVersion as string;
  if (!(egressSelectorAPIVersions as readonly unknown[]).includes(apiVersion))
    errs.push(root('apiVersion').notSupported(apiVersion, egressSelectorAPIVersions));
  const list = top.egressSelections ?? [];
  const selections: EgressSelectionConfig[] = [];
  if (!Array.isArray(list)) errs.push(root('egressSelections').invalid(list, 'must be a list'));
  else {
    const seen = new Set<string>();
    list.forEach((item, i) => {
      const p = root('egressSelections').index(i);
      const o = strictObject(item, p, ['name', 'connection'], errs);
      if (!o) return;
      // Names are case-insensitive; `master` is the deprecated name of `controlplane` in both versions.
      let name = stringField(o, 'name', p, errs).toLowerCase();
      if (name === 'master') name = 'controlplane';
      if (seen.has(name)) errs.push(p.child('name').duplicate(name));
      else if (!(egressSelectionNames as readonly string[]).includes(name))
        errs.push(p.child('name').notSupported(name, egressSelectionNames));
      seen.add(name);
      const connection =
        o.connection === undefined
          ? void errs.push(p.child('connection').required())
          : decodeConnection(o.connection, p.child('connection'), errs);
      if (connection) selections.push({ name: name as EgressSelection, connection });
    });
  }
  if (errs.length)
    throw new Error(`egress selector configuration ${source}: ${errs.map((e) => e.toString()).join('; ')}`);
  return { egressSelections: selections };
}

/** Reads `--egress-selector-config-file`. @throws Error as parseEgressSelectorConfiguration, or when unreadable */
export async function readEgressSelectorConfiguration(file: string): Promise<EgressSelectorConfiguration> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      `unable to read egress selector configuration from ${JSON.stringify(file)}: ${(err as Error).message}`
    );
  }
  return parseEgressSelectorConfiguration(text, file);
}
