// Node taints and pod tolerations (core validation's validateNodeTaints and ValidateTolerations).
import { FieldError, type FieldPath } from '../../field.js';
import { obj, objects, str } from '../../validation/json.js';
import { isValidLabelValue } from '../../validation/names.js';
import { validateLabelName } from '../../validation/object-meta.js';

const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function validateTaintEffect(effect: string, allowEmpty: boolean, p: FieldPath): FieldError[] {
  if (!allowEmpty && effect === '') return [p.required()];
  return taintEffects.includes(effect) ? [] : [p.notSupported(effect, taintEffects)];
}

export function validateTaints(taints: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objects(taints).forEach((t, i) => {
    const ip = p.index(i);
    const key = str(t.key);
    const value = str(t.value);
    errs.push(...validateLabelName(key, ip.child('key')));
    const msgs = isValidLabelValue(value);
    if (msgs.length) errs.push(ip.child('value').invalid(value, msgs.join(';')));
    errs.push(...validateTaintEffect(str(t.effect), false, ip.child('effect')));
    const id = `${str(t.effect)}\u0000${key}`;
    if (seen.has(id)) {
      errs.push(
        new FieldError('FieldValueDuplicate', ip.toString(), t, 'taints must be unique by key and effect pair')
      );
    }
    seen.add(id);
  });
  return errs;
}

export function validateTolerations(tolerations: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objects(tolerations).forEach((t, i) => {
    const ip = p.index(i);
    const key = str(t.key);
    const operator = str(t.operator);
    const effect = str(t.effect);
    if (key) errs.push(...validateLabelName(key, ip.child('key')));
    if (!key && operator !== 'Exists') {
      const detail = 'operator must be Exists when `key` is empty, which means "match all values and all keys"';
      errs.push(ip.child('operator').invalid(operator, detail));
    }
    if (t.tolerationSeconds != null && effect !== 'NoExecute') {
      errs.push(ip.child('effect').invalid(effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (operator === 'Equal' || operator === '') {
      const msgs = isValidLabelValue(str(t.value));
      if (msgs.length) errs.push(ip.child('operator').invalid(str(t.value), msgs.join(';')));
    } else if (operator === 'Exists') {
      if (str(t.value))
        errs.push(ip.child('operator').invalid(obj(t), "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(ip.child('operator').notSupported(operator, ['Equal', 'Exists']));
    }
    if (effect) errs.push(...validateTaintEffect(effect, true, ip.child('effect')));
  });
  return errs;
}
