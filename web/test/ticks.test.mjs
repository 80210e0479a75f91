// Unit tests of src/ticks.ts (the charts' axis labels), run by web's TestTickLabels:
//
//   node --test test/ticks.test.mjs
//
// The TypeScript module is transpiled with the project's own typescript package into a
// temporary directory and imported from there (no bundler, no test framework).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'ticks.ts');
const out = ts.transpileModule(readFileSync(src, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
const dir = mkdtempSync(join(tmpdir(), 'streamsql-ticks-'));
writeFileSync(join(dir, 'ticks.mjs'), out.outputText);
const { tickLabels, decimalsFor, lastValue, secondsQuantity, bytesQuantity, countQuantity } = await import(pathToFileURL(join(dir, 'ticks.mjs')).href);
rmSync(dir, { recursive: true, force: true });

const distinct = (labels) => new Set(labels.filter((l) => l !== '')).size === labels.filter((l) => l !== '').length;

test('a narrow watermark lag range gets distinct labels (was 2.7 s three times)', () => {
  assert.deepEqual(tickLabels(secondsQuantity, [2.7, 2.71, 2.72], 0.01), ['2.70 s', '2.71 s', '2.72 s']);
  assert.deepEqual(tickLabels(secondsQuantity, [2.695, 2.7, 2.705], 0.005), ['2.695 s', '2.700 s', '2.705 s']);
});

test('the unit follows the largest tick, so the base of a ms axis is 0 ms', () => {
  assert.deepEqual(tickLabels(secondsQuantity, [0, 0.002, 0.004], 0.002), ['0 ms', '2 ms', '4 ms']);
  assert.deepEqual(tickLabels(secondsQuantity, [0, 0.0025, 0.005], 0.0025), ['0.0 ms', '2.5 ms', '5.0 ms']);
  assert.deepEqual(tickLabels(secondsQuantity, [0, 2e-4, 4e-4], 2e-4), ['0 µs', '200 µs', '400 µs']);
  assert.deepEqual(tickLabels(secondsQuantity, [0, 1800, 3600], 1800), ['0 min', '30 min', '60 min']);
  assert.deepEqual(tickLabels(secondsQuantity, [0], 1), ['0 s']);
});

test('bytes ticks on powers of two read as whole KiB, and close ticks stay distinct', () => {
  assert.deepEqual(tickLabels(bytesQuantity, [0, 1024, 2048, 3072, 4096], 1024), ['0 KiB', '1 KiB', '2 KiB', '3 KiB', '4 KiB']);
  assert.deepEqual(tickLabels(bytesQuantity, [0, 256, 512, 768], 256), ['0 B', '256 B', '512 B', '768 B']);
  const close = tickLabels(bytesQuantity, [3840, 3856, 3872], 16);
  assert.ok(distinct(close), close.join(', '));
});

test('counts: k above 10000, decimals from the increment, no -0', () => {
  assert.deepEqual(tickLabels(countQuantity, [0, 10, 20], 10), ['0', '10', '20']);
  assert.deepEqual(tickLabels(countQuantity, [20000, 20500, 21000], 500), ['20.0k', '20.5k', '21.0k']);
  assert.deepEqual(tickLabels(countQuantity, [-0.5, -0.000000000001, 0.5], 0.5), ['-0.5', '0.0', '0.5']);
  assert.deepEqual(tickLabels(countQuantity, [20.5, 20.75, 21], 0.25), ['20.50', '20.75', '21.00']);
});

test('log axes label each decade on its own and leave filtered ticks blank', () => {
  assert.deepEqual(tickLabels(countQuantity, [100, null, 1000, 10000, 100000], 1, true), ['100', '', '1000', '10k', '100k']);
});

test('adjacent ticks always differ, whatever the step and offset', () => {
  for (const q of [secondsQuantity, bytesQuantity, countQuantity]) {
    for (const incr of [1e-7, 3e-6, 0.001, 0.0025, 0.01, 0.2, 1, 2.5, 7, 15, 50, 100, 1000, 16, 1024, 5e5, 2e7]) {
      for (const base of [0, 2.7, 1234.5678, 86400 * 3, 3.9e9]) {
        if (incr < base * 1e-9) continue; // below a double's precision uPlot has no such ticks either
        const splits = [0, 1, 2, 3, 4].map((k) => base + k * incr);
        const labels = tickLabels(q, splits, incr);
        assert.ok(distinct(labels), `incr ${incr} base ${base}: ${labels.join(', ')}`);
      }
    }
  }
});

test('decimalsFor and lastValue', () => {
  assert.equal(decimalsFor(1), 0);
  assert.equal(decimalsFor(0.01), 2);
  assert.equal(decimalsFor(2.5), 1);
  assert.equal(decimalsFor(0.25), 2);
  assert.equal(decimalsFor(0), 0);
  assert.equal(lastValue([1, 2, null, null]), 2);
  assert.equal(lastValue([null]), null);
  assert.equal(lastValue(undefined), null);
});
