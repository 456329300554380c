// Opens the model registry that pipewright.yaml's `registry` section names: a folder in the project
// (the default) or an S3 bucket. The S3 client is imported only when an S3 registry is used.
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../core/config.js';
import { errors } from '../core/errors.js';
import { signerFromEnv, verifierFromConfig } from './signing.js';
import { FolderRegistry } from './folder.js';
import type { ModelRegistry } from './types.js';

export type RegistryConfig = Config['registry'];

export * from './types.js';

/**
 * The registry for a project. `config` is the whole config or its `registry` section; a folder
 * path is resolved from `projectDir`.
 */
export async function openRegistry(
  config: Config | RegistryConfig,
  projectDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ModelRegistry> {
  const settings: RegistryConfig = 'registry' in config ? config.registry : config;
  const signer = signerFromEnv(env);
  const verifier = verifierFromConfig(settings, projectDir);
  const options = { ...(signer ? { signer } : {}), ...(verifier ? { verifier } : {}) };
  if (settings.type === 's3') {
    if (!settings.bucket) {
      throw new errors.PW_CONFIG_INVALID('registry.type is s3 but registry.bucket is not set', {
        hint: 'Set registry.bucket in pipewright.yaml, or set registry.type to folder.',
      });
    }
    const { S3Registry } = await import('./s3.js');
    return new S3Registry({
      bucket: settings.bucket,
      prefix: settings.prefix,
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.force_path_style,
      timeoutMs: settings.timeout_ms,
      ...options,
    });
  }
  return new FolderRegistry(
    isAbsolute(settings.path) ? settings.path : resolve(projectDir, settings.path),
    options,
  );
}
