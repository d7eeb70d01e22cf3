import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { admissionPluginOrder, enabledAdmissionPlugins, validateAdmissionPlugins } from './index.js';

describe('admission plugin selection', () => {
  test('upstream order, NodeRestriction and DenyServiceExternalIPs on by default', () => {
    assert.deepEqual(admissionPluginOrder, [
      'NamespaceLifecycle',
      'ServiceAccount',
      'NodeRestriction',
      'CertificateApproval',
      'CertificateSigning',
      'CertificateSubjectRestriction',
      'DenyServiceExternalIPs',
    ]);
    assert.deepEqual(enabledAdmissionPlugins([], []), admissionPluginOrder);
  });
  test('disabling removes; enabling never reorders', () => {
    assert.deepEqual(enabledAdmissionPlugins(['NodeRestriction', 'NamespaceLifecycle'], ['ServiceAccount']), [
      'NamespaceLifecycle',
      'NodeRestriction',
      'CertificateApproval',
      'CertificateSigning',
      'CertificateSubjectRestriction',
      'DenyServiceExternalIPs',
    ]);
  });
  test('unknown and overlapping names are refused with upstream wording', () => {
    assert.deepEqual(validateAdmissionPlugins(['NodeRestriction'], ['ServiceAccount']), []);
    assert.deepEqual(validateAdmissionPlugins(['AlwaysAdmit'], ['Nope', 'NodeRestriction', 'ServiceAccount']), [
      '--enable-admission-plugins: enable-admission-plugins plugin "AlwaysAdmit" is unknown',
      '--disable-admission-plugins: disable-admission-plugins plugin "Nope" is unknown',
    ]);
    assert.deepEqual(validateAdmissionPlugins(['NodeRestriction'], ['NodeRestriction']), [
      '[NodeRestriction] in enable-admission-plugins and disable-admission-plugins overlapped',
    ]);
  });
});
