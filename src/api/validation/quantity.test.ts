import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Quantity, quantityFormatError, quantitySuffixError, tryParseQuantity } from './quantity.js';

describe('Quantity', () => {
  const canonical: [string | number, string, number, number][] = [
    // input, canonical string, milliValue, value
    ['0', '0', 0, 0],
    ['100m', '100m', 100, 1],
    ['0.5', '500m', 500, 1],
    ['.5', '500m', 500, 1],
    ['1', '1', 1000, 1],
    ['1000m', '1', 1000, 1],
    ['1000', '1k', 1_000_000, 1000],
    ['1500', '1500', 1_500_000, 1500],
    ['1.5', '1500m', 1500, 2],
    ['1e3', '1e3', 1_000_000, 1000],
    ['1.5e3', '1500', 1_500_000, 1500],
    ['12e-1', '1200e-3', 1200, 2],
    ['1Ki', '1Ki', 1_024_000, 1024],
    ['1024Mi', '1Gi', 1_073_741_824_000, 1_073_741_824],
    ['1536Mi', '1536Mi', 1_610_612_736_000, 1_610_612_736],
    ['0.5Gi', '512Mi', 536_870_912_000, 536_870_912],
    ['0.5Ki', '512', 512_000, 512],
    ['128974848', '128974848', 128_974_848_000, 128_974_848],
    ['129M', '129M', 129_000_000_000, 129_000_000],
    ['1n', '1n', 1, 1],
    ['0.0000000001', '1n', 1, 1],
    ['-100m', '-100m', -100, -1],
    ['+2', '2', 2000, 2],
    [2, '2', 2000, 2],
    [0.25, '250m', 250, 1],
  ];
  for (const [input, str, milli, value] of canonical) {
    it(`parses ${JSON.stringify(input)} as ${str}`, () => {
      const q = Quantity.parse(input);
      assert.equal(q.toString(), str);
      assert.equal(JSON.stringify(q), JSON.stringify(str));
      assert.equal(q.milliValue(), milli);
      assert.equal(q.value(), value);
    });
  }

  const bad: [string, string][] = [
    ['', quantityFormatError],
    ['1.2.3', quantityFormatError],
    ['abc', quantityFormatError],
    ['1 Gi', quantityFormatError],
    ['1Gb', quantityFormatError],
    ['1Ki5', quantitySuffixError],
    ['1mm', quantitySuffixError],
  ];
  for (const [input, msg] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => Quantity.parse(input), { message: msg });
      assert.equal(tryParseQuantity(input), msg);
    });
  }

  it('compares and adds exactly', () => {
    const a = Quantity.parse('500m');
    const b = Quantity.parse('0.5');
    assert.equal(a.cmp(b), 0);
    assert.equal(a.cmp(Quantity.parse('1')), -1);
    assert.equal(a.add(b).toString(), '1');
    assert.equal(tryParseQuantity(null), quantityFormatError);
  });
});
