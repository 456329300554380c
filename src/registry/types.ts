// The model registry contract shared by the folder and S3 backends: immutable numbered versions,
// movable aliases and an append-only history. Bundles are opaque bytes here; their format lives in
// src/ml/bundle.ts.
import type { BundleSigner, BundleVerifier } from './signing.js';

/** What the caller knows about a bundle when publishing it; extra keys are kept as they are. */
export interface PublishMeta {
  runId: string;
  metrics: Record<string, number>;
  schemaFingerprint: string;
  task?: string;
  modelType?: string;
  dataHash?: string;
  [key: string]: unknown;
}

/** One published version, as its manifest records it. Never changes once written. */
export interface VersionInfo {
  /** `v1`, `v2`, … */
  version: string;
  number: number;
  createdAt: string;
  createdBy: string;
  /** Bundle size in bytes. */
  size: number;
  /** sha256 of the bundle bytes, hex. */
  sha256: string;
  runId: string;
  metrics: Record<string, number>;
  schemaFingerprint: string;
  task?: string;
  modelType?: string;
  dataHash?: string;
  /** The publish metadata beyond the fields above. */
  meta: Record<string, unknown>;
}

export interface ListedVersion extends VersionInfo {
  /** The aliases that point at this version now. */
  aliases: string[];
}

export interface AliasInfo {
  name: string;
  version: string;
  /** The version this alias pointed at before its last move; what `rollback` returns to. */
  previous: string | null;
  updatedAt: string;
  updatedBy: string;
}

export type HistoryAction = 'publish' | 'alias' | 'rollback';

export interface HistoryEvent {
  time: string;
  action: HistoryAction;
  /** The alias moved (absent for a publish). */
  alias?: string;
  /** The version the alias pointed at before (null when it was created). */
  from?: string | null;
  /** The version published, or the version the alias now points at. */
  to: string;
  who: string;
  reason?: string;
  runId?: string;
}

export interface LoadedBundle {
  info: VersionInfo;
  bytes: Uint8Array;
}

export interface AliasOptions {
  /** Why the alias moved; kept in the history. */
  reason?: string;
}

export interface RollbackResult {
  alias: string;
  from: string;
  to: string;
}

export interface ModelRegistry {
  /** Where the registry lives, for messages: a folder path or `s3://bucket/prefix`. */
  readonly location: string;
  /** Stores a new immutable version; concurrent publishers always get distinct versions. */
  publish(bundle: Uint8Array, meta: PublishMeta): Promise<VersionInfo>;
  /** Points `name` at a version (or at whatever another alias points at), atomically. */
  setAlias(name: string, versionOrAlias: string, options?: AliasOptions): Promise<AliasInfo>;
  /** The alias, or undefined when no alias has that name. */
  getAlias(name: string): Promise<AliasInfo | undefined>;
  /** The version an alias points at, read as cheaply as the backend allows (for hot-reload polling). */
  aliasVersion(name: string): Promise<string | undefined>;
  resolve(aliasOrVersion: string): Promise<VersionInfo>;
  /** The bundle bytes, checked against the manifest's size and sha256. */
  load(aliasOrVersion: string): Promise<LoadedBundle>;
  /** Every version, oldest first, with the aliases pointing at each. */
  list(): Promise<ListedVersion[]>;
  aliases(): Promise<AliasInfo[]>;
  /** Every publish and alias move, oldest first. */
  history(): Promise<HistoryEvent[]>;
  /** Moves `alias` back to the version it pointed at before its last move. */
  rollback(alias: string, options?: AliasOptions): Promise<RollbackResult>;
  /** Releases connections; the registry is unusable afterwards. */
  close(): Promise<void>;
}

/** Publish steps after which storage holds something durable, in the order a publish reaches them. */
export type PublishStep =
  'bundle-written' | 'manifest-written' | 'claimed' | 'version-installed' | 'alias-written';

export interface RegistryOptions {
  /** Who publishes and moves aliases, recorded in manifests and the history (default: the OS user). */
  user?: string;
  /** Called as a publish passes each durable step (the crash test stops the process there). */
  onStep?: (step: PublishStep) => void | Promise<void>;
  /** Signs every published bundle (the key comes from the environment). */
  signer?: BundleSigner;
  /** Checks every loaded bundle's signature against the configured public key. */
  verifier?: BundleVerifier;
}
