import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  generateName,
  isCIdentifier,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidLabelValue,
  isValidPathSegmentName,
  isValidPortName,
  isValidPortNum,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nameIsPathSegment,
  type Validator,
} from './names.js';

const subdomainMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const labelMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const dns1035Msg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const keyNameMsg =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const labelValueMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const cases: [string, Validator, string, string[]][] = [
  ['subdomain ok', isDNS1123Subdomain, 'example.com', []],
  ['subdomain upper', isDNS1123Subdomain, 'Example', [subdomainMsg]],
  ['subdomain too long', isDNS1123Subdomain, 'a'.repeat(254), ['must be no more than 253 characters']],
  ['label ok', isDNS1123Label, '123-abc', []],
  ['label dots', isDNS1123Label, 'a.b', ['must not contain dots']],
  ['label underscore', isDNS1123Label, 'a_b', [labelMsg]],
  ['label too long', isDNS1123Label, 'a'.repeat(64), ['must be no more than 63 characters']],
  ['1035 ok', isDNS1035Label, 'my-svc', []],
  ['1035 digit first', isDNS1035Label, '1svc', [dns1035Msg]],
  ['qualified ok', isQualifiedName, 'app.kubernetes.io/name', []],
  ['qualified bad name', isQualifiedName, 'foo/-bar', [keyNameMsg]],
  ['qualified empty prefix', isQualifiedName, '/bar', ['prefix part must be non-empty']],
  ['qualified bad prefix', isQualifiedName, 'Foo/bar', [`prefix part ${subdomainMsg}`]],
  ['qualified empty name', isQualifiedName, 'foo/', ['name part must be non-empty', keyNameMsg]],
  ['label value empty', isValidLabelValue, '', []],
  ['label value bad', isValidLabelValue, 'a b', [labelValueMsg]],
  ['port name ok', isValidPortName, 'http-alt', []],
  ['port name digits', isValidPortName, '8080', ['must contain at least one letter (a-z)']],
  [
    'port name hyphens',
    isValidPortName,
    'a--b-',
    ['must not contain consecutive hyphens', 'must not begin or end with a hyphen'],
  ],
  ['port name long', isValidPortName, 'abcdefghijklmnop', ['must be no more than 15 characters']],
  ['env relaxed ok', isEnvVarName, 'my.env-name 1', []],
  [
    'env equals',
    isEnvVarName,
    'A=B',
    ["a valid environment variable name must consist only of printable ASCII characters other than '='"],
  ],
  ['env empty', isEnvVarName, '', ['environment variable name must be non-empty']],
  ['c identifier', isCIdentifier, '_ok1', []],
  ['configmap key ok', isConfigMapKey, 'app.properties', []],
  ['configmap key dotdot', isConfigMapKey, '..data', ["must not start with '..'"]],
  ['path segment ok', isValidPathSegmentName, 'system:node', []],
  ['path segment dot', isValidPathSegmentName, '..', ["may not be '..'"]],
  ['path segment slash', isValidPathSegmentName, 'a/b%', ["may not contain '/'", "may not contain '%'"]],
];

describe('name validators', () => {
  for (const [name, fn, value, want] of cases) {
    it(name, () => assert.deepEqual(fn(value), want));
  }

  it('checks port numbers', () => {
    assert.deepEqual(isValidPortNum(80), []);
    assert.deepEqual(isValidPortNum(0), ['must be between 1 and 65535, inclusive']);
    assert.deepEqual(isValidPortNum(65536), ['must be between 1 and 65535, inclusive']);
  });

  it('allows a trailing dash only in generateName', () => {
    assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
    assert.deepEqual(nameIsDNSSubdomain('web-', false), [subdomainMsg]);
    assert.deepEqual(nameIsDNSLabel('web-', true), []);
    assert.deepEqual(nameIsPathSegment('a.', true), []);
    assert.deepEqual(nameIsPathSegment('a/', true), ["may not contain '/'"]);
  });

  it('generates names with a 5 character suffix, base cut at 58', () => {
    assert.match(generateName('web-'), /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const long = generateName('x'.repeat(100));
    assert.equal(long.length, 63);
    assert.deepEqual(isDNS1123Label(long), []);
  });
});
