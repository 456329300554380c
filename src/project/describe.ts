// Human descriptions of where a project's data lives, with credentials redacted.
import { redact } from '../core/redact.js';
import type { Config } from '../core/config.js';

export function describeStore(
  project: { config: Config; path(relative: string): string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const url = env.MONGODB_URL;
  if (url)
    return `mongodb ${redact(url)} database ${project.config.store.database}, collection ${project.config.store.collection}`;
  return `embedded ${project.path(project.config.store.path)}, collection ${project.config.store.collection}`;
}
