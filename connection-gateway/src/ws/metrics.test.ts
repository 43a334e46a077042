import { seriesValue } from '@parley/tests/support/metrics';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from './metrics';
import { Session, type SocketLike } from './session';

const limits = { perSecond: 100, burst: 100, strikes: 10 };

describe('GatewayMetrics', () => {
  it('counts a socket closed for a full send buffer as a slow-reader close, once', async () => {
    const registry = new Registry();
    const metrics = new GatewayMetrics(registry);
    const closes: number[] = [];
    const socket: SocketLike = {
      send: () => undefined,
      close: (code) => closes.push(code),
      bufferedAmount: 5 * 1024 * 1024,
    };
    const s = new Session('s1', 'u_a', 0, socket, limits, metrics);
    expect(s.send({ type: 'pong' })).toBe(false);
    expect(s.send({ type: 'pong' })).toBe(false);
    expect(closes).toEqual([1013]);
    expect(await seriesValue(registry, 'parley_gateway_slow_reader_closes_total')).toBe(1);
    expect(await seriesValue(registry, 'parley_gateway_frames_out_total', { type: 'pong' })).toBe(
      0,
    );
  });

  it('has every series at 0 from the start, and shares its metrics on one registry', async () => {
    const registry = new Registry();
    new GatewayMetrics(registry);
    const again = new GatewayMetrics(registry);
    again.delivered('typing', 3);
    again.delivered('typing', 0);
    const text = await registry.metrics();
    expect(text).toContain('parley_gateway_fanout_deliveries_total{kind="presence"} 0');
    expect(text).toContain('parley_gateway_fanout_deliveries_total{kind="typing"} 3');
    expect(text).toContain('parley_gateway_handshakes_refused_total{reason="origin"} 0');
    expect(text).toContain('parley_gateway_frames_in_total{type="invalid"} 0');
  });

  it('observes nothing for an unusable sentAt, and a clock behind the sender’s as 0', async () => {
    const registry = new Registry();
    const metrics = new GatewayMetrics(registry);
    metrics.sendDelivered(undefined);
    metrics.sendDelivered('yesterday-ish');
    expect(await registry.getSingleMetricAsString('parley_gateway_send_deliver_seconds')).toContain(
      'parley_gateway_send_deliver_seconds_count 0',
    );
    const now = Date.parse('2026-01-01T00:00:00.000Z');
    metrics.sendDelivered('2026-01-01T00:00:00.250Z', now);
    const text = await registry.getSingleMetricAsString('parley_gateway_send_deliver_seconds');
    expect(text).toContain('parley_gateway_send_deliver_seconds_bucket{le="0.005"} 1');
    expect(text).toContain('parley_gateway_send_deliver_seconds_count 1');
  });
});
