import fc from 'fast-check';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cgroupCores, quotaCores, usableCores, type ReadText } from '../../src/core/cores.js';

/** A file system of the given files only. */
const filesOf =
  (files: Record<string, string>): ReadText =>
  (path) =>
    files[path];

describe('usable cores', () => {
  it('counts the whole cores a CPU quota holds, at least one, and none from a missing or unlimited one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 ** 9 }),
        fc.integer({ min: 1, max: 10 ** 7 }),
        (quota, period) => {
          const cores = quotaCores(quota, period) as number;
          expect(cores).toBeGreaterThanOrEqual(1);
          // the most whole cores the quota holds (a quota under one core still runs one thread)
          if (quota >= period) expect(cores * period).toBeLessThanOrEqual(quota);
          else expect(cores).toBe(1);
          expect((cores + 1) * period).toBeGreaterThan(quota);
        },
      ),
    );
    for (const [quota, period] of [
      [-1, 100000],
      [0, 100000],
      [NaN, 100000],
      [200000, 0],
    ])
      expect(quotaCores(quota, period)).toBeUndefined();
  });

  it("reads cgroup v2's cpu.max in the process's group and at the root, the smaller quota winning", () => {
    expect(
      cgroupCores(
        filesOf({
          '/proc/self/cgroup': '0::/kubepods/pod1/container\n',
          '/sys/fs/cgroup/kubepods/pod1/container/cpu.max': '250000 100000\n',
        }),
      ),
    ).toBe(2);
    // a container sees its own group at the root
    expect(
      cgroupCores(filesOf({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '300000 100000\n' })),
    ).toBe(3);
    expect(
      cgroupCores(
        filesOf({
          '/proc/self/cgroup': '0::/a\n',
          '/sys/fs/cgroup/a/cpu.max': '800000 100000\n',
          '/sys/fs/cgroup/cpu.max': '100000 100000\n',
        }),
      ),
    ).toBe(1);
    expect(
      cgroupCores(filesOf({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' })),
    ).toBeUndefined();
  });

  it("reads cgroup v1's cfs quota and period under the cpu controller's mount, and nothing without a quota", () => {
    expect(
      cgroupCores(
        filesOf({
          '/proc/self/cgroup': '5:memory:/x\n4:cpu,cpuacct:/docker/abc\n0::/\n',
          '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '350000\n',
          '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
        }),
      ),
    ).toBe(3);
    expect(
      cgroupCores(
        filesOf({
          '/proc/self/cgroup': '1:cpu:/\n',
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
        }),
      ),
    ).toBeUndefined();
    // a group reached through the usual cpu link
    expect(
      cgroupCores(
        filesOf({
          '/proc/self/cgroup': '3:cpuacct,cpu:/job\n',
          '/sys/fs/cgroup/cpu/job/cpu.cfs_quota_us': '100000\n',
          '/sys/fs/cgroup/cpu/job/cpu.cfs_period_us': '100000\n',
        }),
      ),
    ).toBe(1);
    // no cgroup file at all (another operating system)
    expect(cgroupCores(filesOf({}))).toBeUndefined();
  });

  it("counts this process's cores: at least one, at most the machine's, and its own quota's", () => {
    const cores = usableCores();
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(availableParallelism());
    const quota = cgroupCores();
    if (quota !== undefined) expect(cores).toBeLessThanOrEqual(quota);
  });
});
