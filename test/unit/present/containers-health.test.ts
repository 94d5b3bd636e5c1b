// ps and inspect of a container with health checks (src/present/containers.ts): Docker's status
// text, the health= filter, State.Health and Config.Healthcheck.
import { describe, expect, it } from 'vitest';
import { inspectContainer, statusText } from '../../../src/present/containers.js';
import { parseContainerFilters, parseFilterFlags, selectContainers } from '../../../src/filters/index.js';
import { healthStatusOf } from '../../../src/runtime/health.js';
import type { ContainerRecord, ContainerState } from '../../../src/runtime/container-store.js';
import type { HealthState } from '../../../src/runtime/health.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');
function container(state: Partial<ContainerState>, healthcheck?: ContainerRecord['healthcheck']): ContainerRecord {
  return {
    id: 'a'.repeat(64),
    name: 'web',
    image: 'busybox',
    imageId: 'b'.repeat(64),
    created: '2026-01-01T00:00:00Z',
    command: ['sleep', '1d'],
    rootfs: { lower: [], upper: '/u', work: '/w' },
    autoRemove: false,
    cgroupParent: 'hull',
    state: { status: 'running', startedAt: '2026-01-01T00:07:00Z', ...state },
    ...(healthcheck ? { healthcheck } : {}),
  };
}
const health = (Status: HealthState['Status']): HealthState => ({ Status, FailingStreak: Status === 'unhealthy' ? 3 : 0, Log: [], checker: 'x' });

describe('containers with health checks', () => {
  it("adds Docker's health text to a running container's status, not to a paused or stopped one", () => {
    expect(statusText(container({ health: health('starting') }), NOW)).toBe('Up 3 minutes (health: starting)');
    expect(statusText(container({ health: health('healthy') }), NOW)).toBe('Up 3 minutes (healthy)');
    expect(statusText(container({ health: health('unhealthy') }), NOW)).toBe('Up 3 minutes (unhealthy)');
    expect(statusText(container({ health: health('healthy'), paused: true }), NOW)).toBe('Up 3 minutes (Paused)');
    expect(statusText(container({ status: 'exited', exitCode: 0, finishedAt: '2026-01-01T00:09:00Z', health: health('healthy') }), NOW)).toBe(
      'Exited (0) About a minute ago',
    );
    expect(statusText(container({}), NOW)).toBe('Up 3 minutes');
  });

  it('filters on health=starting|healthy|unhealthy|none through healthStatusOf, refusing another value with Docker’s text', () => {
    const healthy = { ...container({ health: health('healthy') }), name: 'healthy' };
    const none = { ...container({}), name: 'none' };
    const shown = (...flags: string[]) =>
      selectContainers([healthy, none], { filters: parseContainerFilters(parseFilterFlags(flags)) }, { health: healthStatusOf }).map((c) => c.name);
    expect(shown('health=healthy')).toEqual(['healthy']);
    expect(shown('health=unhealthy')).toEqual([]);
    expect(shown('health=unhealthy', 'health=healthy')).toEqual(['healthy']);
    expect(shown('health=none')).toEqual(['none']);
    expect(shown('health=starting')).toEqual([]);
    expect(() => parseContainerFilters(parseFilterFlags(['health=sick']))).toThrow('Unrecognised filter value for health: sick');
  });

  it('inspect: State.Health without hull’s token, Config.Healthcheck as merged; neither without health checks', () => {
    const config = { Test: ['CMD-SHELL', 'true'], Interval: 200e6 };
    const paths = { logPath: '/l', runDir: '/r', cgroupPath: '/c' };
    const shown = inspectContainer(container({ health: health('unhealthy') }, config), undefined, paths) as {
      State: Record<string, unknown>;
      Config: Record<string, unknown>;
    };
    expect(shown.State.Health).toEqual({ Status: 'unhealthy', FailingStreak: 3, Log: [] });
    expect(shown.Config.Healthcheck).toEqual(config);
    const plain = inspectContainer(container({}), undefined, paths) as { State: Record<string, unknown>; Config: Record<string, unknown> };
    expect('Health' in plain.State).toBe(false);
    expect('Healthcheck' in plain.Config).toBe(false);
  });
});
