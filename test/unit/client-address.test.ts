import { describe, expect, it } from 'vitest';
import { clientAddress, toClientKey } from '../../src/adapters/web/client-limits.js';
import { loadConfig } from '../../src/config.js';

describe('the client address', () => {
  it('is the socket peer unless TRUST_PROXY says otherwise: a client cannot name itself in X-Forwarded-For', () => {
    expect(clientAddress('203.0.113.9', '1.2.3.4', undefined)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:203.0.113.9', undefined, undefined)).toBe('203.0.113.9');
  });

  it('behind N trusted proxies is the address the nearest proxy saw, whatever the client wrote before it', () => {
    // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy (10.0.0.2) appended the real address.
    expect(clientAddress('10.0.0.2', '6.6.6.6, 198.51.100.7', { hops: 1 })).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.2', '198.51.100.7, 10.0.0.1', { hops: 2 })).toBe('198.51.100.7');
    // Fewer entries than hops: the furthest one known.
    expect(clientAddress('10.0.0.2', undefined, { hops: 1 })).toBe('10.0.0.2');
  });

  it('behind listed proxies skips only addresses in the list, from the nearest outwards', () => {
    const trust = { proxies: ['10.0.0.0/8', '::1'] };
    expect(clientAddress('::1', '6.6.6.6, 198.51.100.7, 10.1.2.3', trust)).toBe('198.51.100.7');
    expect(clientAddress('198.51.100.8', '6.6.6.6', trust)).toBe('198.51.100.8');
  });

  it('counts IPv6 clients by their /64 network, IPv4 clients by address', () => {
    expect(toClientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(toClientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(toClientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(toClientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('reads TRUST_PROXY as false, a hop count, or proxy addresses and networks; anything else is an error', () => {
    expect(loadConfig({}).safety.clients.trustProxy).toBeUndefined();
    expect(loadConfig({ TRUST_PROXY: 'false' }).safety.clients.trustProxy).toBeUndefined();
    expect(loadConfig({ TRUST_PROXY: '2' }).safety.clients.trustProxy).toEqual({ hops: 2 });
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).safety.clients.trustProxy).toEqual({ proxies: ['10.0.0.0/8', '::1'] });
    for (const bad of ['true', '10.0.0.0/33', 'proxy.internal', '99']) expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
  });
});
