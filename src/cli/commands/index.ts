// Every command, registered in the order `pipewright --help` lists them.
import type { Command } from 'commander';
import type { Wrap } from '../wrap.js';
import { register as init } from './init.js';
import { register as check } from './check.js';
import { register as schema } from './schema.js';
import { register as sample } from './sample.js';
import { register as push } from './push.js';
import { register as data } from './data.js';
import { register as run } from './run.js';
import { register as runs } from './runs.js';
import { register as report } from './report.js';
import { register as models } from './models.js';
import { register as predict } from './predict.js';
import { register as serve } from './serve.js';
import { register as monitor } from './monitor.js';

export const commands: ((program: Command, wrap: Wrap) => void)[] = [
  init,
  check,
  schema,
  sample,
  push,
  data,
  run,
  runs,
  report,
  models,
  predict,
  serve,
  monitor,
];
