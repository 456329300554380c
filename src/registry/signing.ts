// Bundle signatures: a publisher holding an Ed25519 private key (PIPEWRIGHT_SIGNING_KEY, never in the
// registry or the config) signs each bundle's sha256; a reader configured with the public key refuses
// an unsigned bundle, or one whose bytes or manifest were changed by anyone without the key.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { errors } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { VersionInfo } from './types.js';

export const SIGNING_KEY_VARIABLE = 'PIPEWRIGHT_SIGNING_KEY';

/** What a manifest carries in `meta.signature`. */
export interface BundleSignature {
  algorithm: 'ed25519';
  /** The first 16 hex digits of the sha256 of the public key (DER), to tell keys apart. */
  key: string;
  /** Base64 Ed25519 signature of `pipewright-bundle:<sha256 of the bundle>`. */
  value: string;
}

export interface BundleSigner {
  sign(bundleSha256: string): BundleSignature;
}

export interface BundleVerifier {
  /** Refuse bundles without a signature (otherwise a present signature is still checked). */
  required: boolean;
  check(info: VersionInfo, location: string): void;
}

const HINT_KEYS =
  'Make a key pair with `openssl genpkey -algorithm ed25519 -out signing.pem` and `openssl pkey -in signing.pem -pubout -out public.pem`; the publisher gets signing.pem in PIPEWRIGHT_SIGNING_KEY, readers get public.pem as registry.public_key.';

function message(bundleSha256: string): Buffer {
  return Buffer.from(`pipewright-bundle:${bundleSha256}`);
}

function keyId(publicKey: KeyObject): string {
  return sha256(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

/** The signer for the key in the environment, or undefined when none is set. */
export function signerFromEnv(env: NodeJS.ProcessEnv): BundleSigner | undefined {
  const text = env[SIGNING_KEY_VARIABLE]?.trim();
  if (!text) return undefined;
  let privateKey: KeyObject;
  try {
    privateKey = text.includes('-----BEGIN')
      ? createPrivateKey(text)
      : createPrivateKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new errors.PW_CONFIG_INVALID(`${SIGNING_KEY_VARIABLE} is not a private key`, {
      cause,
      hint: HINT_KEYS,
    });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new errors.PW_CONFIG_INVALID(
      `${SIGNING_KEY_VARIABLE} is a ${privateKey.asymmetricKeyType} key; bundles are signed with Ed25519`,
      { hint: HINT_KEYS },
    );
  }
  const id = keyId(createPublicKey(privateKey));
  return {
    sign: (bundleSha256) => ({
      algorithm: 'ed25519',
      key: id,
      value: sign(null, message(bundleSha256), privateKey).toString('base64'),
    }),
  };
}

/** The verifier for `registry.public_key`, or undefined when the config names no key. */
export function verifierFromConfig(
  settings: { public_key?: string | undefined; require_signature?: boolean | undefined },
  projectDir: string,
): BundleVerifier | undefined {
  if (!settings.public_key) {
    if (settings.require_signature) {
      throw new errors.PW_CONFIG_INVALID(
        'registry.require_signature is true but registry.public_key is not set',
        {
          hint: HINT_KEYS,
        },
      );
    }
    return undefined;
  }
  const file = isAbsolute(settings.public_key)
    ? settings.public_key
    : resolve(projectDir, settings.public_key);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new errors.PW_CONFIG_INVALID(`registry.public_key ${file} is not a readable public key (PEM)`, {
      cause,
      where: file,
      hint: HINT_KEYS,
    });
  }
  const id = keyId(publicKey);
  return {
    required: Boolean(settings.require_signature),
    check(info, location) {
      const signature = info.meta?.signature as Partial<BundleSignature> | undefined;
      if (signature === undefined) {
        if (!this.required) return;
        throw new errors.PW_SIGNATURE_INVALID(`${info.version} in ${location} is not signed`, {
          details: { version: info.version },
        });
      }
      const valid =
        signature.algorithm === 'ed25519' &&
        typeof signature.value === 'string' &&
        signature.key === id &&
        verify(null, message(info.sha256), publicKey, Buffer.from(signature.value, 'base64'));
      if (!valid) {
        throw new errors.PW_SIGNATURE_INVALID(
          `The signature of ${info.version} in ${location} does not match ${signature.key === id ? 'its bundle' : 'the configured public key'}`,
          { details: { version: info.version, key: signature.key ?? null, expectedKey: id } },
        );
      }
    },
  };
}
