// The ONE place that orders admission plugins (upstream's RecommendedPluginOrder, restricted to the plugins
// hubspoke has) and decides which are on: `--enable-admission-plugins` adds to the defaults,
// `--disable-admission-plugins` removes from them, the order is always this one.
import type { KubeObject } from '../../api/resource.js';
import type { Authorizer } from '../authz/interface.js';
import { certificateApproval, certificateSigning, certificateSubjectRestriction } from './certificates.js';
import { denyServiceExternalIPs } from './deny-service-external-ips.js';
import { AdmissionChain, type AdmissionPlugin } from './interface.js';
import { namespaceLifecycle } from './namespace-lifecycle.js';
import { nodeRestriction } from './node-restriction.js';
import { serviceAccountAdmission } from './service-account.js';

export interface AdmissionDeps {
  getNamespace(name: string): Promise<KubeObject | undefined>;
  getServiceAccount(namespace: string, name: string): Promise<KubeObject | undefined>;
  getPod(namespace: string, name: string): Promise<KubeObject | undefined>;
  getNode(name: string): Promise<KubeObject | undefined>;
  /** The API server's authorizer, for the checks on CSR signers. */
  authorizer: Authorizer;
}

const plugins: Record<string, (d: AdmissionDeps) => AdmissionPlugin> = {
  NamespaceLifecycle: (d) => namespaceLifecycle((name) => d.getNamespace(name)),
  ServiceAccount: (d) => serviceAccountAdmission(d),
  NodeRestriction: (d) => nodeRestriction(d),
  CertificateApproval: (d) => certificateApproval(d.authorizer),
  CertificateSigning: (d) => certificateSigning(d.authorizer),
  CertificateSubjectRestriction: () => certificateSubjectRestriction(),
  DenyServiceExternalIPs: () => denyServiceExternalIPs(),
};

/** Every plugin hubspoke has, in the order they run. */
export const admissionPluginOrder = Object.keys(plugins);

/**
 * On unless disabled: upstream's defaults among these, plus two that upstream leaves to the installer and CIS
 * asks for (1.2.14, 1.2.3): NodeRestriction, without which any node credential could rewrite every Node and the
 * status of every pod, and DenyServiceExternalIPs, without which anyone who may create a Service can capture
 * traffic to any address (CVE-2020-8554).
 */
export const defaultAdmissionPlugins = [...admissionPluginOrder];

/** Every problem with the flags, as upstream's AdmissionOptions.Validate words them. */
export function validateAdmissionPlugins(enable: readonly string[], disable: readonly string[]): string[] {
  const errs: string[] = [];
  for (const n of enable)
    if (!(n in plugins)) errs.push(`--enable-admission-plugins: enable-admission-plugins plugin "${n}" is unknown`);
  for (const n of disable)
    if (!(n in plugins)) errs.push(`--disable-admission-plugins: disable-admission-plugins plugin "${n}" is unknown`);
  const both = enable.filter((n) => disable.includes(n));
  if (both.length)
    errs.push(`[${both.join(' ')}] in enable-admission-plugins and disable-admission-plugins overlapped`);
  return errs;
}

/** The plugins that run, in order. */
export function enabledAdmissionPlugins(enable: readonly string[], disable: readonly string[]): string[] {
  return admissionPluginOrder.filter(
    (n) => (defaultAdmissionPlugins.includes(n) || enable.includes(n)) && !disable.includes(n)
  );
}

export function newAdmissionChain(names: readonly string[], deps: AdmissionDeps): AdmissionChain {
  return new AdmissionChain(admissionPluginOrder.filter((n) => names.includes(n)).map((n) => plugins[n]!(deps)));
}
