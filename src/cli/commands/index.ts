// Every command, registered in the order `pipewright --help` lists them.
import type { Command } from 'commander';
import type { Wrap } from '../main.js';
import { register as init } from './init.js';
import { register as check } from './check.js';

export const commands: ((program: Command, wrap: Wrap) => void)[] = [init, check];
