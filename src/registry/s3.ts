// The S3 registry (any S3-compatible store): bundles stored once by content hash, one manifest per
// version, one object per alias and one object per history event (S3 cannot append). Versions are
// allocated with conditional writes where the store supports them, otherwise with claim objects.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { errors, isPipewrightError } from '../core/errors.js';
import { registerSecret, registerSecretsFromEnv } from '../core/redact.js';
import { processAlive } from '../core/lock.js';
import { BaseRegistry, mapWithLimit, sameAlias } from './base.js';
import { buildVersionInfo, checkAliasName, parseAlias, parseManifest } from './manifest.js';
import type { AliasInfo, HistoryEvent, PublishMeta, RegistryOptions, VersionInfo } from './types.js';

export interface S3RegistrySettings extends RegistryOptions {
  bucket: string;
  /** Key prefix under which the registry lives, e.g. `pipewright/`. */
  prefix?: string;
  region?: string;
  /** For S3-compatible stores (MinIO, Ceph, R2, …). */
  endpoint?: string;
  forcePathStyle?: boolean;
  /**
   * How long a request may go without a byte moving, in either direction, before it is abandoned
   * (config registry.timeout_ms). An abandoned request is tried again, up to REQUEST_ATTEMPTS in all,
   * so an operation on a store that stops answering fails within about that many times this.
   */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Tries of one request (the first and the retries) when it times out or the store answers 5xx. */
const REQUEST_ATTEMPTS = 3;

/** A claim older than this belongs to a publisher that died: its version number is free again. */
const STALE_CLAIM_MS = 15 * 60 * 1000;
const MAX_ALLOCATION_ATTEMPTS = 500;
const MAX_CONTESTED_ROUNDS = 8;
const MANIFEST_KEY = /^versions\/v([1-9][0-9]*)\/manifest\.json$/;

export class S3Registry extends BaseRegistry {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private conditionalSupport: Promise<boolean> | undefined;
  private readonly aliasTags = new Map<string, { etag: string; version: string }>();
  private readonly timeoutMs: number;

  constructor(private readonly settings: S3RegistrySettings) {
    super(settings);
    // Credentials come from the standard provider chain; their values must never reach a message.
    registerSecretsFromEnv();
    this.bucket = settings.bucket;
    this.prefix = normalizePrefix(settings.prefix ?? '');
    this.location = `s3://${this.bucket}/${this.prefix}`;
    this.timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.client = new S3Client({
      region:
        settings.region ??
        process.env.AWS_REGION ??
        process.env.AWS_DEFAULT_REGION ??
        (settings.endpoint ? 'us-east-1' : undefined),
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle ?? false,
      // Without a limit, a store that accepts a request and then stops answering would hold the
      // publish, the load or the alias move for ever; a request that makes no progress for this long
      // fails and is tried again.
      requestHandler: { connectionTimeout: this.timeoutMs, socketTimeout: this.timeoutMs },
      maxAttempts: REQUEST_ATTEMPTS,
      // The default checksum mode streams bodies with trailing checksums that some S3-compatible
      // stores save as part of the object, silently adding bytes; a bundle must stay byte-exact.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    // Credentials may come from a profile file, SSO or an instance role rather than the environment:
    // whichever provider answers, its values join the redactor before any request can fail with them.
    void Promise.resolve()
      .then(() => this.client.config.credentials())
      .then((credentials) => {
        registerSecret(credentials.accessKeyId);
        registerSecret(credentials.secretAccessKey);
        registerSecret(credentials.sessionToken);
      })
      .catch(() => undefined);
  }

  protected async storeVersion(
    bytes: Uint8Array,
    meta: PublishMeta,
    digest: { sha256: string; size: number },
  ): Promise<VersionInfo> {
    // Stored by content before any version number is taken: identical bytes land on the same key,
    // so racing or repeated publishes of the same bundle cannot clash, and a rerun after a crash
    // reuses the object the crashed publish left.
    await this.put(bundleKey(digest.sha256), bytes, 'upload the bundle', {
      ContentType: 'application/octet-stream',
    });
    await this.reached('bundle-written');
    let number = 0;
    let contestedRounds = 0;
    // Grows with every contested round and is kept across numbers: publishers that just lost a
    // race stay spread out instead of colliding again on the next number.
    let backoff = 0;
    for (let attempt = 0; attempt < MAX_ALLOCATION_ATTEMPTS; attempt++) {
      const listed = Math.max(0, ...(await this.versionNumbers())) + 1;
      // A number stays contested when a claimer is slow or died moments ago; after a few rounds
      // the next number is taken instead, leaving a gap rather than waiting.
      if (number === 0 || contestedRounds >= MAX_CONTESTED_ROUNDS) {
        number = Math.max(number + 1, listed);
        contestedRounds = 0;
      } else {
        number = Math.max(number, listed);
      }
      const info = buildVersionInfo(number, digest, meta, this.user);
      const outcome = await this.claim(info);
      if (outcome === 'won') {
        await this.reached('version-installed');
        await this.sweepAbandonedClaims();
        return info;
      }
      if (outcome === 'taken') {
        number += 1;
        contestedRounds = 0;
      } else {
        contestedRounds += 1;
        backoff = Math.min(backoff + 1, 5);
      }
      if (backoff > 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 20 * 2 ** backoff)));
      }
    }
    throw new errors.PW_REGISTRY_FAILED(
      `Could not allocate a version number at ${this.location} after ${MAX_ALLOCATION_ATTEMPTS} attempts`,
      {
        hint: 'Many publishers are racing for this registry: publish again in a moment.',
      },
    );
  }

  /**
   * Writes the manifest of `info` unless its number is taken (a manifest exists) or contested
   * (another publisher is claiming it right now).
   */
  private async claim(info: VersionInfo): Promise<'won' | 'taken' | 'contested'> {
    const manifestKey = versionManifestKey(info.version);
    const body = `${JSON.stringify(info, null, 2)}\n`;
    if (await this.conditionalWrites()) {
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key(manifestKey),
            Body: body,
            ContentType: 'application/json',
            IfNoneMatch: '*',
          }),
        );
        return 'won';
      } catch (error) {
        if (isPreconditionFailure(error)) return 'taken';
        throw this.failure(`write the manifest of ${info.version}`, error);
      }
    }
    // Without conditional writes: announce a claim, then look. Of two publishers that claim the same
    // number, the later one always sees the earlier one's claim, so at most one of them goes on.
    const claimPrefix = `claims/${info.version}/`;
    // The key names the claimer's machine and process, so that a claim left by a publisher that
    // died on this machine is recognised without reading it.
    const claimKey = `${claimPrefix}${Date.now()}~${randomBytes(6).toString('hex')}~${process.pid}~${safeHost()}.json`;
    await this.put(
      claimKey,
      JSON.stringify({
        host: hostname(),
        pid: process.pid,
        who: this.user,
        time: new Date().toISOString(),
      }),
      `claim ${info.version}`,
    );
    try {
      const others = (await this.listObjects(claimPrefix)).filter(
        (object) => object.Key !== this.key(claimKey),
      );
      await this.reached('claimed');
      let contested = false;
      for (const other of others) {
        if (this.abandoned(other)) await this.deleteQuietly(other.Key!);
        else contested = true;
      }
      if (await this.exists(manifestKey)) return 'taken';
      if (contested) return 'contested';
      await this.put(manifestKey, body, `write the manifest of ${info.version}`, {
        ContentType: 'application/json',
      });
      // Read back: if a publisher that ignored the claims wrote after us, the version is theirs.
      return (await this.getText(manifestKey)) === body ? 'won' : 'taken';
    } finally {
      await this.deleteQuietly(this.key(claimKey));
    }
  }

  /**
   * Deletes claims left by publishers that died after installing their version (their number is
   * never contested again, so nothing else would look at those claims).
   */
  private async sweepAbandonedClaims(): Promise<void> {
    if (await this.conditionalWrites()) return;
    for (const claim of await this.listObjects('claims/')) {
      if (this.abandoned(claim)) await this.deleteQuietly(claim.Key!);
    }
  }

  /** A claim is abandoned when it is old, or when its publisher ran on this machine and is gone. */
  private abandoned(claim: _Object): boolean {
    const age = Date.now() - (claim.LastModified?.getTime() ?? Date.now());
    if (age > STALE_CLAIM_MS) return true;
    const match = /~(\d+)~([^~/]+)\.json$/.exec(claim.Key!);
    return match !== null && match[2] === safeHost() && !processAlive(Number(match[1]));
  }

  /** Whether the store honours `If-None-Match: *` on PutObject (AWS S3 does since 2024). */
  private conditionalWrites(): Promise<boolean> {
    this.conditionalSupport ??= this.probeConditionalWrites().catch((error: unknown) => {
      this.conditionalSupport = undefined;
      throw error;
    });
    return this.conditionalSupport;
  }

  private async probeConditionalWrites(): Promise<boolean> {
    const probeKey = this.key(`probes/${Date.now()}-${randomBytes(6).toString('hex')}`);
    const write = () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: probeKey, Body: 'probe', IfNoneMatch: '*' }),
      );
    try {
      await write();
      try {
        await write();
        // The second write of the same key was accepted: the store ignores the condition.
        return false;
      } catch (error) {
        if (isPreconditionFailure(error)) return true;
        if (isUnsupported(error)) return false;
        throw error;
      }
    } catch (error) {
      if (isUnsupported(error)) return false;
      throw this.failure('write to the bucket', error);
    } finally {
      await this.deleteQuietly(probeKey);
    }
  }

  protected async versionNumbers(): Promise<number[]> {
    const objects = await this.listObjects('versions/');
    const numbers: number[] = [];
    for (const object of objects) {
      const match = MANIFEST_KEY.exec(object.Key!.slice(this.prefix.length));
      if (match) numbers.push(Number(match[1]));
    }
    return numbers;
  }

  protected async readManifest(version: string): Promise<VersionInfo | undefined> {
    const key = versionManifestKey(version);
    const text = await this.getText(key);
    if (text === undefined) return undefined;
    const where = `${this.location}${key}`;
    try {
      return parseManifest(JSON.parse(text), where);
    } catch (error) {
      if (isPipewrightError(error)) throw error;
      throw new errors.PW_BUNDLE_INVALID(`${where} is not valid JSON`, { where, cause: error });
    }
  }

  protected async readBundle(info: VersionInfo): Promise<Uint8Array> {
    const key = bundleKey(info.sha256);
    const bytes = await this.getBytes(key, `download the bundle of ${info.version}`);
    if (bytes === undefined) {
      throw new errors.PW_BUNDLE_INVALID(`The bundle of ${info.version} is missing: ${this.location}${key}`, {
        hint: 'Restore the object from a backup or bucket versioning, or promote another version with `pipewright models promote <version>`.',
      });
    }
    return bytes;
  }

  protected async readAlias(name: string): Promise<AliasInfo | undefined> {
    const key = aliasKey(name);
    const text = await this.getText(key);
    if (text === undefined) return undefined;
    return this.parseAliasText(text, name);
  }

  protected async replaceAlias(alias: AliasInfo, expected: AliasInfo | undefined): Promise<boolean> {
    const key = aliasKey(alias.name);
    let etag: string | undefined;
    let current: AliasInfo | undefined;
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }),
      );
      current = this.parseAliasText(await response.Body!.transformToString(), alias.name);
      etag = response.ETag;
    } catch (error) {
      if (!isMissing(error)) throw this.failure(`read alias ${alias.name}`, error);
    }
    if (!sameAlias(current, expected)) return false;
    // The write is conditional on the object being the one just compared (If-Match on its ETag, or
    // If-None-Match when there was none), so a concurrent move makes this one fail instead of
    // overwriting it. A store without conditional writes gets the plain write: the window between
    // the read above and this write is the only one left.
    const condition = (await this.conditionalWrites())
      ? etag
        ? { IfMatch: etag }
        : { IfNoneMatch: '*' }
      : {};
    try {
      // One PutObject replaces the whole object: readers see the old alias or the new one, never a mix.
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(key),
          Body: `${JSON.stringify(alias, null, 2)}\n`,
          ContentType: 'application/json',
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (statusOf(error) === 412 || statusOf(error) === 409) return false;
      throw this.failure(`move alias ${alias.name}`, error);
    }
  }

  protected async aliasNames(): Promise<string[]> {
    const objects = await this.listObjects('aliases/');
    return objects
      .map((object) => object.Key!.slice(this.prefix.length + 'aliases/'.length))
      .filter((name) => name.endsWith('.json') && !name.includes('/'))
      .map((name) => name.slice(0, -'.json'.length));
  }

  /** Polls cheaply: the alias object is fetched only when its ETag changed since the last call. */
  override async aliasVersion(name: string): Promise<string | undefined> {
    checkAliasName(name);
    const cached = this.aliasTags.get(name);
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(aliasKey(name)),
          ...(cached ? { IfNoneMatch: cached.etag } : {}),
        }),
      );
      const alias = this.parseAliasText(await response.Body!.transformToString(), name);
      if (response.ETag) this.aliasTags.set(name, { etag: response.ETag, version: alias.version });
      return alias.version;
    } catch (error) {
      if (cached && statusOf(error) === 304) return cached.version;
      if (isMissing(error)) {
        this.aliasTags.delete(name);
        return undefined;
      }
      throw this.failure(`read alias ${name}`, error);
    }
  }

  protected async appendHistory(event: HistoryEvent): Promise<void> {
    // Keys sort by time, and the random tail keeps two events of the same millisecond apart.
    const stamp = event.time.replace(/[-:]/g, '');
    await this.put(
      `history/${stamp}-${randomBytes(4).toString('hex')}.json`,
      JSON.stringify(event),
      'record the history',
      {
        ContentType: 'application/json',
      },
    );
  }

  async history(): Promise<HistoryEvent[]> {
    const objects = (await this.listObjects('history/')).sort((a, b) => (a.Key! < b.Key! ? -1 : 1));
    const events = await mapWithLimit(objects, 16, async (object) => {
      const text = await this.getText(object.Key!.slice(this.prefix.length));
      try {
        return text === undefined ? undefined : (JSON.parse(text) as HistoryEvent);
      } catch {
        return undefined;
      }
    });
    return events.filter((event): event is HistoryEvent => event !== undefined);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private parseAliasText(text: string, name: string): AliasInfo {
    const where = `${this.location}${aliasKey(name)}`;
    try {
      return parseAlias(JSON.parse(text), where);
    } catch (error) {
      if (isPipewrightError(error)) throw error;
      throw new errors.PW_REGISTRY_FAILED(`${where} is not valid JSON`, {
        where,
        cause: error,
        hint: `Set the alias again with \`pipewright models promote <version> --alias ${name}\`.`,
      });
    }
  }

  private key(path: string): string {
    return `${this.prefix}${path}`;
  }

  private async put(
    path: string,
    body: string | Uint8Array,
    action: string,
    extra: { ContentType?: string } = {},
  ): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(path),
          Body: body,
          ContentLength: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
          ...extra,
        }),
      );
    } catch (error) {
      throw this.failure(action, error);
    }
  }

  private async getBytes(path: string, action = `read ${path}`): Promise<Uint8Array | undefined> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }),
      );
      return await response.Body!.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure(action, error);
    }
  }

  private async getText(path: string): Promise<string | undefined> {
    const bytes = await this.getBytes(path);
    return bytes === undefined
      ? undefined
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw this.failure(`check ${path}`, error);
    }
  }

  private async deleteQuietly(fullKey: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: fullKey })).catch(() => {});
  }

  private async listObjects(path: string): Promise<_Object[]> {
    const objects: _Object[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.key(path),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        for (const object of page.Contents ?? []) if (object.Key) objects.push(object);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.failure(`list ${this.location}${path}`, error);
    }
    return objects;
  }

  private failure(action: string, error: unknown): Error {
    if (isPipewrightError(error)) return error;
    const failure = error as {
      name?: string;
      message?: string;
      code?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const name = failure?.name ?? 'Error';
    const status = failure?.$metadata?.httpStatusCode;
    const network = networkCode(error);
    const endpoint = this.settings.endpoint ?? 'the S3 endpoint';
    let hint: string;
    if (name === 'NoSuchBucket') {
      hint = `Create the bucket ${this.bucket}, or fix registry.bucket in pipewright.yaml.`;
    } else if (
      name === 'CredentialsProviderError' ||
      /could not load credentials/i.test(failure?.message ?? '')
    ) {
      hint =
        'No AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, in the environment or in .env (never in pipewright.yaml).';
    } else if (/region is missing/i.test(failure?.message ?? '')) {
      hint = 'Set registry.region in pipewright.yaml or AWS_REGION in the environment.';
    } else if (
      [
        'InvalidAccessKeyId',
        'SignatureDoesNotMatch',
        'AccessDenied',
        'ExpiredToken',
        'InvalidToken',
        'Forbidden',
      ].includes(name) ||
      status === 403
    ) {
      hint = `The store refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), and that they may read and write ${this.location}.`;
    } else if (name === 'TimeoutError') {
      hint = `${endpoint} did not answer within ${this.timeoutMs} ms, ${REQUEST_ATTEMPTS} times: the store is stalled or unreachable. Check the store and the network, or raise registry.timeout_ms in pipewright.yaml for a slow link.`;
    } else if (network) {
      hint = `Cannot reach ${endpoint}${network ? ` (${network})` : ''}: check registry.endpoint in pipewright.yaml and the network.`;
    } else {
      hint = `Check the registry settings in pipewright.yaml (bucket ${this.bucket}, endpoint ${endpoint}) and the credentials in the environment.`;
    }
    const detail = failure?.message && failure.message !== name ? `${name}: ${failure.message}` : name;
    return new errors.PW_REGISTRY_FAILED(`Could not ${action} at ${this.location}: ${detail}`, {
      cause: error,
      hint,
      details: { s3Error: name, ...(status ? { status } : {}) },
    });
  }
}

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '_');
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

function bundleKey(sha256: string): string {
  return `bundles/${sha256}.json`;
}

function versionManifestKey(version: string): string {
  return `versions/${version}/manifest.json`;
}

function aliasKey(name: string): string {
  return `aliases/${name}.json`;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isMissing(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(error) === 404 && name !== 'NoSuchBucket');
}

function isPreconditionFailure(error: unknown): boolean {
  const name = (error as Error)?.name;
  const status = statusOf(error);
  return (
    name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409
  );
}

function isUnsupported(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === 'NotImplemented' || statusOf(error) === 501;
}

function networkCode(error: unknown): string | undefined {
  const codes = [
    'ECONNREFUSED',
    'ENOTFOUND',
    'ETIMEDOUT',
    'ECONNRESET',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
  ];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: string }).code;
    if (code && codes.includes(code)) return code;
    const nested = (current as { errors?: unknown[] }).errors?.[0];
    current = nested ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}
