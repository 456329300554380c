// Entry point of a bootstrap's worker thread (ResampleThread in resample.ts): moves the generator past
// the calling thread's resamples, then draws its own and writes each one's sums for the calling thread.
import { workerData } from 'node:worker_threads';
import { Random } from '../core/random.js';
import { CONTROL, Resampler, type ResampleJob } from './resample.js';

const job = workerData as ResampleJob;
const control = new Int32Array(job.control);
const sums = new Float64Array(job.sums);
try {
  const random = new Random();
  random.restoreState(job.state);
  const resampler = Resampler.create(job.rows, job.ranked);
  resampler.skip(random, job.first);
  for (let r = 0; r < job.count && Atomics.load(control, CONTROL.cancel) === 0; r++) {
    resampler.draw(random);
    const { tp, fp, area, precisionSum, tpAtThreshold, fpAtThreshold } = resampler.rankedSums();
    sums.set([tp, fp, area, precisionSum, tpAtThreshold, fpAtThreshold], 6 * r);
    Atomics.store(control, CONTROL.done, r + 1);
    Atomics.notify(control, CONTROL.done);
  }
} catch {
  // the calling thread draws what is left
  Atomics.store(control, CONTROL.failed, 1);
  Atomics.notify(control, CONTROL.done);
}
