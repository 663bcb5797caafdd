import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidSettingError,
  readBoolean,
  readString,
  readWholeNumber,
  readWholeNumberList,
} from '../../src/core/envSettings.js';
import { RESUME_ENV, resumeSettingsFromEnv } from '../../src/core/resume.js';

const rule = { fallback: 7, min: 1, max: 100 };

describe('environment settings', () => {
  it('takes the default for an unset or blank variable', () => {
    expect(readWholeNumber({}, 'X', rule)).toBe(7);
    expect(readWholeNumber({ X: '   ' }, 'X', rule)).toBe(7);
    expect(readString({ X: '' }, 'X')).toBeUndefined();
    expect(readBoolean({}, 'X', true)).toBe(true);
    expect(readWholeNumberList({}, 'X', { fallback: [1, 2], min: 0 })).toEqual([1, 2]);
  });

  it('accepts every whole number in range and refuses every other string with the variable named', () => {
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const value = Number(raw.trim());
        const valid = raw.trim() !== '' && Number.isInteger(value) && value >= 1 && value <= 100;
        if (raw.trim() === '') return;
        if (valid) expect(readWholeNumber({ X: raw }, 'X', rule)).toBe(value);
        else {
          const error = (() => {
            try {
              readWholeNumber({ X: raw }, 'X', rule);
            } catch (caught) {
              return caught;
            }
          })();
          expect(error).toBeInstanceOf(InvalidSettingError);
          expect(error).toMatchObject({ variable: 'X', value: raw.trim() });
        }
      }),
    );
    expect(() => readWholeNumber({ X: '101' }, 'X', rule)).toThrow(
      'X="101" is not valid: expected a whole number from 1 to 100',
    );
  });

  it('is a RangeError, so callers that catch range errors keep working', () => {
    expect(() => readWholeNumber({ X: 'lots' }, 'X', rule)).toThrow(RangeError);
  });

  it('reads booleans in the spellings the docs allow, and refuses others', () => {
    for (const yes of ['true', 'TRUE', '1', 'on', ' On '])
      expect(readBoolean({ B: yes }, 'B', false)).toBe(true);
    for (const no of ['false', '0', 'off', 'OFF']) expect(readBoolean({ B: no }, 'B', true)).toBe(false);
    expect(() => readBoolean({ B: 'yes' }, 'B', true)).toThrow(InvalidSettingError);
  });

  it('reads comma-separated lists, refusing an empty or out-of-range entry', () => {
    expect(readWholeNumberList({ L: '50, 250' }, 'L', { fallback: [], min: 0, max: 10_000 })).toEqual([
      50, 250,
    ]);
    expect(() => readWholeNumberList({ L: '50,,250' }, 'L', { fallback: [], min: 0 })).toThrow(
      InvalidSettingError,
    );
    expect(() => readWholeNumberList({ L: '50,-1' }, 'L', { fallback: [], min: 0 })).toThrow(
      InvalidSettingError,
    );
  });

  it('resume settings refuse a bad value instead of falling back silently', () => {
    expect(() => resumeSettingsFromEnv({ [RESUME_ENV.maxEvents]: 'lots' })).toThrow(InvalidSettingError);
    expect(resumeSettingsFromEnv({ [RESUME_ENV.maxEvents]: '5' }).maxEvents).toBe(5);
  });
});

describe('where the environment is read', () => {
  it('no core module reads process.env: the edges pass it in', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const core = new URL('../../src/core/', import.meta.url);
    const readers = readdirSync(core)
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => {
        // Code only: comments may say where the environment comes from.
        const code = readFileSync(new URL(file, core), 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/\/\/.*$/gm, '');
        return /\bprocess\.env\b/.test(code);
      });
    expect(readers).toEqual([]);
  });
});
