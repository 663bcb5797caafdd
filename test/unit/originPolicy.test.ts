import { describe, expect, it } from 'vitest';
import {
  InvalidAllowedOriginsError,
  originAllowed,
  originHeader,
  parseAllowedOrigins,
} from '../../src/core/originPolicy.js';

describe('allowed WebSocket origins', () => {
  const allowed = parseAllowedOrigins(' https://App.Example.com:443/ , http://localhost:5173');

  it('normalises the configured list (case, default port, trailing slash)', () => {
    expect(allowed).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(parseAllowedOrigins(undefined)).toEqual([]);
    expect(parseAllowedOrigins(' ')).toEqual([]);
  });

  it('refuses a configuration entry that is not an http(s) origin', () => {
    expect(() => parseAllowedOrigins('https://ok.example,app.example.com')).toThrow(
      InvalidAllowedOriginsError,
    );
    expect(() => parseAllowedOrigins('ftp://files.example')).toThrow('"ftp://files.example"');
  });

  it('allows listed origins only, compared after normalisation', () => {
    expect(originAllowed('https://app.example.com', allowed)).toBe(true);
    expect(originAllowed('HTTPS://APP.EXAMPLE.COM', allowed)).toBe(true);
    expect(originAllowed('http://localhost:5173', allowed)).toBe(true);
    expect(originAllowed('https://evil.example', allowed)).toBe(false);
    expect(originAllowed('https://app.example.com.evil.example', allowed)).toBe(false);
    expect(originAllowed('http://app.example.com', allowed)).toBe(false);
    expect(originAllowed('null', allowed)).toBe(false);
  });

  it('allows clients that send no Origin (not a browser page), and anything when the list is empty', () => {
    expect(originAllowed(undefined, allowed)).toBe(true);
    expect(originAllowed('https://evil.example', [])).toBe(true);
  });

  it('finds the Origin header whatever its case', () => {
    expect(originHeader({ Origin: 'https://a.example' })).toBe('https://a.example');
    expect(originHeader({ origin: 'https://b.example', host: 'x' })).toBe('https://b.example');
    expect(originHeader({ host: 'x' })).toBeUndefined();
    expect(originHeader(null)).toBeUndefined();
  });
});
