/**
 * The SSRF policy for webhook URLs. Production mode (the default) accepts only `https://` URLs
 * whose host is a public address; dev mode (`OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS=true`, set by
 * the offline runtime) also accepts `http://` and loopback receivers, nothing else private.
 *
 * This module checks a URL at registration and before each attempt. The address a name resolves
 * to is checked again at connect time by the HTTP client (`src/aws/webhookDelivery.ts`, with
 * `request-filtering-agent` and `checkResolvedAddress` below), so DNS rebinding does not get round it.
 * Pure: no I/O.
 */
import { BlockList, isIP } from 'node:net';
import { InvalidSettingError } from './envSettings.js';
import { type AddressRefusalCode, AddressRefusedError } from './webhookErrors.js';

export const ALLOW_PRIVATE_WEBHOOKS_ENV = 'OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS';
/** Comma-separated ports webhook URLs may use (`webhookAllowedPorts` in the stack config). */
export const WEBHOOK_ALLOWED_PORTS_ENV = 'WEBHOOK_ALLOWED_PORTS';
/** Only the HTTPS port by default: other ports of a public host are often admin or internal services. */
export const DEFAULT_WEBHOOK_PORTS: readonly number[] = [443];

export interface AddressPolicy {
  readonly mode: 'production' | 'dev';
  /** Whether `http://` URLs are accepted (dev mode only, or an explicit test seam). */
  readonly allowPlainHttp: boolean;
  /** Addresses or CIDRs accepted although they are not public (dev mode: loopback), on any port. */
  readonly allowedAddresses: readonly string[];
  /** Ports a URL may name (the scheme's default when it names none). @default DEFAULT_WEBHOOK_PORTS */
  readonly allowedPorts?: readonly number[];
}

export const PRODUCTION_POLICY: AddressPolicy = {
  mode: 'production',
  allowPlainHttp: false,
  allowedAddresses: [],
  allowedPorts: DEFAULT_WEBHOOK_PORTS,
};

export const LOOPBACK_CIDRS = ['127.0.0.0/8', '::1/128'] as const;

export const DEV_POLICY: AddressPolicy = {
  mode: 'dev',
  allowPlainHttp: true,
  allowedAddresses: LOOPBACK_CIDRS,
  allowedPorts: [443, 80],
};

/** Production unless the dev setting is exactly `true` (or `1`): a typo must not open the gate. */
export function addressPolicyFromEnv(env: Readonly<Record<string, string | undefined>>): AddressPolicy {
  const raw = env[ALLOW_PRIVATE_WEBHOOKS_ENV]?.trim().toLowerCase();
  const base = raw === 'true' || raw === '1' ? DEV_POLICY : PRODUCTION_POLICY;
  const ports = parseAllowedPorts(env[WEBHOOK_ALLOWED_PORTS_ENV]);
  return ports === undefined ? base : { ...base, allowedPorts: ports };
}

/** `443,8443` → [443, 8443]; absent or empty → undefined (the default); a bad entry throws. */
export function parseAllowedPorts(raw: string | undefined): readonly number[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((part) => {
    const port = Number(part.trim());
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new InvalidSettingError(WEBHOOK_ALLOWED_PORTS_ENV, raw, 'comma-separated ports from 1 to 65535');
    }
    return port;
  });
}

export type AddressCategory =
  | 'public'
  | 'private'
  | 'loopback'
  | 'link_local'
  | 'unique_local'
  | 'unspecified'
  | 'reserved';

type Family = 'ipv4' | 'ipv6';
const RANGES: Record<Exclude<AddressCategory, 'public'>, readonly [string, number, Family][]> = {
  unspecified: [
    ['0.0.0.0', 8, 'ipv4'],
    ['::', 128, 'ipv6'],
  ],
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  private: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    // Carrier-grade NAT space: not routable on the internet, often internal in clouds.
    ['100.64.0.0', 10, 'ipv4'],
  ],
  // 169.254.169.254 (instance metadata) lives here.
  link_local: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  unique_local: [['fc00::', 7, 'ipv6']],
  reserved: [
    ['192.0.0.0', 24, 'ipv4'],
    ['192.0.2.0', 24, 'ipv4'],
    ['198.18.0.0', 15, 'ipv4'],
    ['198.51.100.0', 24, 'ipv4'],
    ['203.0.113.0', 24, 'ipv4'],
    ['224.0.0.0', 4, 'ipv4'],
    ['240.0.0.0', 4, 'ipv4'],
    ['ff00::', 8, 'ipv6'],
    ['2001:db8::', 32, 'ipv6'],
    ['100::', 64, 'ipv6'],
    // Translation and tunnelling prefixes embed an IPv4 address that may well be private.
    ['64:ff9b::', 96, 'ipv6'],
    ['64:ff9b:1::', 48, 'ipv6'],
    ['2002::', 16, 'ipv6'],
    ['2001::', 32, 'ipv6'],
    ['fec0::', 10, 'ipv6'],
  ],
};

const blockLists = Object.entries(RANGES).map(([category, ranges]) => {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return { category: category as Exclude<AddressCategory, 'public'>, list };
});

/** How an IPv6 address carries an IPv4 address in its last 32 bits. */
export type EmbeddingForm = 'mapped' | 'compatible' | 'translated' | 'nat64';

/**
 * The IPv4 address an IPv6 address embeds, in any spelling: IPv4-mapped `::ffff:0:0/96`,
 * IPv4-compatible `::/96` (except `::` and `::1`, which are IPv6's own unspecified and loopback),
 * IPv4-translated `::ffff:0:0:0/96` and NAT64's well-known `64:ff9b::/96`. Otherwise undefined.
 */
export function embeddedIpv4(address: string): { ipv4: string; form: EmbeddingForm } | undefined {
  if (isIP(address) !== 6) return undefined;
  const hextets = expandIpv6(address);
  if (hextets === undefined) return undefined;
  const [h0, h1, h2, h3, h4, h5, high = 0, low = 0] = hextets;
  const zeroTo = (n: number) => hextets.slice(0, n).every((h) => h === 0);
  let form: EmbeddingForm | undefined;
  if (zeroTo(5) && h5 === 0xffff) form = 'mapped';
  else if (zeroTo(4) && h4 === 0xffff && h5 === 0) form = 'translated';
  else if (zeroTo(6) && high === 0 && low <= 1) form = undefined;
  else if (zeroTo(6)) form = 'compatible';
  else if (h0 === 0x64 && h1 === 0xff9b && h2 === 0 && h3 === 0 && h4 === 0 && h5 === 0) form = 'nat64';
  if (form === undefined) return undefined;
  return { ipv4: [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.'), form };
}

function expandIpv6(address: string): number[] | undefined {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const octets = tail.split('.').map(Number);
    if (octets.length !== 4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const restParts = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headParts.length - restParts.length;
  if (rest === undefined && missing !== 0) return undefined;
  const parts = [...headParts, ...Array.from({ length: Math.max(missing, 0) }, () => '0'), ...restParts];
  return parts.map((part) => Number.parseInt(part, 16));
}

/** Which kind of address an IP literal is. IPv6 forms embedding an IPv4 address are judged by it. */
export function classifyAddress(address: string): AddressCategory {
  const bare = stripBrackets(address);
  const version = isIP(bare);
  if (version === 0) throw new TypeError(`not an IP address: ${address}`);
  const embedded = embeddedIpv4(bare);
  if (embedded !== undefined) {
    const inner = classifyAddress(embedded.ipv4);
    // A public IPv4 address in an embedding form is still refused: only the plain form is accepted.
    return inner === 'public' ? 'reserved' : inner;
  }
  const family: Family = version === 4 ? 'ipv4' : 'ipv6';
  for (const { category, list } of blockLists) {
    if (list.check(bare, family)) return category;
  }
  return 'public';
}

function isExplicitlyAllowed(address: string, policy: AddressPolicy): boolean {
  if (policy.allowedAddresses.length === 0) return false;
  const bare = stripBrackets(address);
  const list = new BlockList();
  for (const entry of policy.allowedAddresses) {
    const [network = '', prefix] = entry.split('/');
    const family: Family = isIP(network) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(network, family);
    else list.addSubnet(network, Number(prefix), family);
  }
  return list.check(bare, isIP(bare) === 6 ? 'ipv6' : 'ipv4');
}

const CATEGORY_REFUSAL: Record<
  Exclude<AddressCategory, 'public'>,
  { code: AddressRefusalCode; words: string }
> = {
  private: { code: 'private_address', words: 'a private address' },
  loopback: { code: 'loopback_address', words: 'a loopback address' },
  link_local: {
    code: 'link_local_address',
    words: 'a link-local address (this includes the instance metadata service)',
  },
  unique_local: { code: 'unique_local_address', words: 'a unique-local IPv6 address' },
  unspecified: { code: 'unspecified_address', words: 'the unspecified address' },
  reserved: { code: 'reserved_address', words: 'a reserved or special-purpose address' },
};

/** Returns the refusal for an IP address under the policy, or undefined when it may be contacted. */
export function refusalForAddress(address: string, policy: AddressPolicy): AddressRefusedError | undefined {
  const category = classifyAddress(address);
  if (category === 'public' || isExplicitlyAllowed(address, policy)) return undefined;
  const { code, words } = CATEGORY_REFUSAL[category];
  const bare = stripBrackets(address);
  const embedded = embeddedIpv4(bare);
  const shown = embedded === undefined ? bare : `${bare} (IPv4-${embedded.form} ${embedded.ipv4})`;
  return new AddressRefusedError(code, `${shown} is ${words}; webhooks may only reach public addresses`);
}

/** Connect-time check of the address a host name resolved to (DNS rebinding defence). */
export function checkResolvedAddress(host: string, address: string, policy: AddressPolicy): void {
  const refusal = refusalForAddress(address, policy);
  if (refusal) {
    throw new AddressRefusedError(
      'resolved_to_refused_address',
      `${host} resolved to ${address}: ${refusal.message}`,
    );
  }
}

/**
 * Checks a webhook URL against the policy without any network access. The WHATWG URL parser
 * normalises every IPv4 spelling first (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1` all become
 * `127.0.0.1`), so encodings cannot smuggle an address past the check.
 */
export function checkWebhookUrl(raw: string, policy: AddressPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AddressRefusedError('invalid_url', `"${raw}" is not a valid absolute URL`);
  }
  const allowedSchemes = policy.allowPlainHttp ? ['https:', 'http:'] : ['https:'];
  if (!allowedSchemes.includes(url.protocol)) {
    const hint = policy.mode === 'production' ? ' (production mode accepts https only)' : '';
    throw new AddressRefusedError(
      'scheme_not_allowed',
      `scheme ${url.protocol.replace(':', '')} is not allowed${hint}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new AddressRefusedError(
      'credentials_in_url',
      'URLs must not carry credentials; they would be logged',
    );
  }
  const host = stripBrackets(url.hostname);
  if (isIP(host) !== 0) {
    const refusal = refusalForAddress(host, policy);
    if (refusal) throw refusal;
    if (!isExplicitlyAllowed(host, policy)) checkPort(url, policy);
    return url;
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) {
    if (!isExplicitlyAllowed('127.0.0.1', policy)) {
      throw new AddressRefusedError(
        'loopback_address',
        `${name} is a loopback name; webhooks may only reach public addresses`,
      );
    }
    return url;
  }
  checkPort(url, policy);
  return url;
}

/** The port a URL connects to: the one it names, else its scheme's default. */
export function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'http:' ? 80 : 443;
}

function checkPort(url: URL, policy: AddressPolicy): void {
  const allowed = policy.allowedPorts ?? DEFAULT_WEBHOOK_PORTS;
  const port = effectivePort(url);
  if (!allowed.includes(port)) {
    throw new AddressRefusedError(
      'port_not_allowed',
      `port ${port} is not allowed; webhook URLs may use port${allowed.length === 1 ? '' : 's'} ${allowed.join(', ')}`,
    );
  }
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
