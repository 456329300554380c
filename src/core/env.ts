// The environment: `.env` in the project is loaded when present (real environment variables win),
// and the values of secret variables are registered for redaction before anything is logged.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { readFileSync } from 'node:fs';
import { registerSecretsFromEnv } from './redact.js';

export function loadEnv(projectDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const loaded: string[] = [];
  if (projectDir) {
    const file = join(projectDir, '.env');
    if (existsSync(file)) {
      const values = parse(readFileSync(file));
      for (const [name, value] of Object.entries(values)) {
        if (env[name] === undefined) {
          env[name] = value;
          loaded.push(name);
        }
      }
    }
  }
  registerSecretsFromEnv(env);
  return loaded;
}
