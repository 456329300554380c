// Reads a Dockerfile into stages and instructions, and decides which paths a .dockerignore keeps out of
// the build context, with the builder's rules, so the image definitions can be checked without Docker.

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  keyword: string;
  /** The text after the keyword, continuation lines joined. */
  text: string;
  /** The arguments: the JSON array in exec form, else the words (flags included). */
  args: string[];
  /** Whether the arguments were written as a JSON array. */
  execForm: boolean;
  line: number;
}

export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

function words(text: string): string[] {
  const out: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) out.push(match[1] ?? match[2] ?? match[3]);
  return out;
}

function parseArguments(text: string): { args: string[]; execForm: boolean } {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string'))
        return { args: parsed, execForm: true };
    } catch {
      // not JSON: the shell form, as the builder reads it
    }
  }
  return { args: words(trimmed), execForm: false };
}

/** The instructions of a Dockerfile, with backslash continuations joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  let current: { text: string; line: number } | undefined;
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (current === undefined) {
      if (/^\s*(#|$)/.test(line)) return;
      current = { text: '', line: index + 1 };
    } else if (/^\s*#/.test(line)) {
      // A comment inside a continued instruction is skipped by the builder.
      return;
    }
    const continued = /\\\s*$/.test(line);
    current.text += `${continued ? line.replace(/\\\s*$/, '') : line} `;
    if (!continued) {
      const match = /^\s*(\w+)\s+([\s\S]*)$/.exec(current.text.trim());
      if (!match) throw new Error(`Dockerfile line ${current.line}: cannot read "${current.text.trim()}"`);
      const keyword = match[1].toUpperCase();
      const rest = match[2].trim();
      instructions.push({ keyword, text: rest, ...parseArguments(rest), line: current.line });
      current = undefined;
    }
  });
  if (current)
    throw new Error(`Dockerfile line ${current.line}: the file ends inside a continued instruction`);
  return instructions;
}

/** The stages of a Dockerfile, in order. */
export function dockerStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of parseDockerfile(text)) {
    if (instruction.keyword === 'FROM') {
      const args = instruction.args.filter((arg) => !arg.startsWith('--'));
      const asIndex = args.findIndex((arg) => arg.toUpperCase() === 'AS');
      stages.push({ image: args[0], name: asIndex >= 0 ? args[asIndex + 1] : undefined, instructions: [] });
    } else {
      if (stages.length === 0) {
        if (instruction.keyword === 'ARG') continue;
        throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} before any FROM`);
      }
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

export interface CopyInstruction {
  from: string | undefined;
  flags: Record<string, string>;
  sources: string[];
  destination: string;
  line: number;
}

/** COPY and ADD as sources, destination and flags (`--from`, `--chown`, ...). */
export function copyParts(instruction: Instruction): CopyInstruction {
  const flags: Record<string, string> = {};
  const rest: string[] = [];
  for (const arg of instruction.args) {
    const flag = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (flag && rest.length === 0) flags[flag[1]] = flag[2] ?? 'true';
    else rest.push(arg);
  }
  return {
    from: flags.from,
    flags,
    sources: rest.slice(0, -1),
    destination: rest[rest.length - 1],
    line: instruction.line,
  };
}

interface IgnorePattern {
  exclusion: boolean;
  regex: RegExp;
  source: string;
}

function cleanPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/** A .dockerignore pattern as a regular expression: `*` and `?` stay within one path segment, `**` spans any. */
function patternRegex(pattern: string): RegExp {
  let out = '^';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '*') {
      if (pattern[index + 1] === '*') {
        index++;
        // `**/` also matches no folder at all.
        if (pattern[index + 1] === '/') {
          index++;
          out += '(?:.*/)?';
        } else {
          out += '.*';
        }
      } else {
        out += '[^/]*';
      }
    } else if (char === '?') {
      out += '[^/]';
    } else if (char === '[') {
      const end = pattern.indexOf(']', index + 1);
      if (end < 0) throw new Error(`.dockerignore: unterminated [ in "${pattern}"`);
      const body = pattern
        .slice(index + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\');
      out += `[${body}]`;
      index = end;
    } else if (char === '\\') {
      index++;
      out += pattern[index].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else {
      out += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`${out}$`);
}

export interface DockerIgnore {
  patterns: string[];
  /** Whether the builder leaves `path` (relative to the context, `/`-separated) out of the context. */
  ignores(path: string): boolean;
}

/**
 * The builder's rules: patterns are read in order and the last one that matches the path, or one of
 * the folders above it, decides; `!` brings a path back in.
 */
export function parseDockerIgnore(text: string): DockerIgnore {
  const patterns: IgnorePattern[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const exclusion = line.startsWith('!');
    if (exclusion) line = line.slice(1).trim();
    const cleaned = cleanPath(line);
    if (cleaned === '') continue;
    patterns.push({ exclusion, regex: patternRegex(cleaned), source: raw.trim() });
  }
  return {
    patterns: patterns.map((pattern) => pattern.source),
    ignores(path) {
      const file = cleanPath(path);
      const parts = file.split('/');
      let matched = false;
      for (const pattern of patterns) {
        // Only a pattern that could change the outcome is evaluated, as the builder does.
        if (pattern.exclusion !== matched) continue;
        let match = pattern.regex.test(file);
        for (let depth = 1; !match && depth < parts.length; depth++) {
          match = pattern.regex.test(parts.slice(0, depth).join('/'));
        }
        if (match) matched = !pattern.exclusion;
      }
      return matched;
    },
  };
}
