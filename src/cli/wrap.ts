// The contract between the program and its commands: how a command's action is wrapped with its
// context. Its own module so that command modules need not import the program that registers them.
import type { CommandContext } from './context.js';

export type Action = (context: CommandContext, ...args: any[]) => Promise<number | void> | number | void;

export interface ActionOptions {
  /** The project folder for commands that make one (init), from the command's arguments. */
  projectDir?: (...args: any[]) => string | undefined;
}

/** Wraps a command's action: builds its context, runs it and records its exit code. */
export type Wrap = (
  name: string,
  action: Action,
  options?: ActionOptions,
) => (...args: any[]) => Promise<void>;
