import { existsSync } from 'node:fs';
import { PortcullisError } from '../domain/errors.js';
import { isValidDigest } from './digest.js';

/** Docker Hub as references name it, and the host its registry API really answers on. */
export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

/** An image in a registry, normalised the way Docker does (`ubuntu` -> docker.io/library/ubuntu:latest). */
export interface RegistryReference {
  transport: 'registry';
  /** The reference exactly as given. */
  input: string;
  /** Registry host with optional port, e.g. `docker.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/ubuntu`, `ns/repo`. */
  repository: string;
  /** Tag; `latest` when the reference names neither tag nor digest. */
  tag?: string;
  digest?: string;
}

/** An OCI image layout directory (`oci:DIR[:TAG]`) or an OCI layout tar (`oci-archive:FILE[:TAG]`). */
export interface OciReference {
  transport: 'oci' | 'oci-archive';
  input: string;
  path: string;
  /** Matched against `org.opencontainers.image.ref.name` in index.json. */
  tag?: string;
}

/** A `docker save` tarball (`docker-archive:FILE[:NAME:TAG | :@INDEX]`). */
export interface DockerArchiveReference {
  transport: 'docker-archive';
  input: string;
  path: string;
  /** `name:tag` matched against RepoTags, or `@N` for the N-th image of manifest.json. */
  image?: string;
}

/** A root filesystem directory (`dir:PATH`). */
export interface DirReference {
  transport: 'dir';
  input: string;
  path: string;
}

export type ImageReference = RegistryReference | OciReference | DockerArchiveReference | DirReference;

/** Options of {@link parseReference}. */
export interface ParseReferenceOptions {
  /** Existence test used to split `PATH:SUFFIX` when the path itself may contain `:`. */
  exists?: (path: string) => boolean;
}

/** Transports other tools know that Portcullis does not read, refused with a clear message. */
const UNSUPPORTED_TRANSPORTS = ['docker-daemon:', 'containers-storage:', 'ostree:', 'sif:', 'tarball:'];

/**
 * Parses an image reference: `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME]`,
 * `dir:PATH`, `docker://REF`, or a bare registry reference read as Docker reads it. Throws
 * E_REFERENCE for anything malformed (including an empty string) and E_UNSUPPORTED for transports
 * Portcullis does not read.
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): ImageReference {
  const exists = options.exists ?? existsSync;
  if (input.trim() === '') throw new PortcullisError('E_REFERENCE', 'reference: empty image reference');
  if (input.startsWith('docker://')) return parseRegistryReference(input.slice('docker://'.length), input);
  if (input.startsWith('oci:') || input.startsWith('oci-archive:')) {
    const transport = input.startsWith('oci:') ? 'oci' : 'oci-archive';
    const { path, suffix } = splitPath(input.slice(transport.length + 1), exists, input);
    return suffix === undefined ? { transport, input, path } : { transport, input, path, tag: suffix };
  }
  if (input.startsWith('docker-archive:')) {
    const { path, suffix } = splitPath(input.slice('docker-archive:'.length), exists, input);
    return suffix === undefined ? { transport: 'docker-archive', input, path } : { transport: 'docker-archive', input, path, image: suffix };
  }
  if (input.startsWith('dir:')) {
    const path = input.slice('dir:'.length);
    if (path === '') throw new PortcullisError('E_REFERENCE', `reference: ${JSON.stringify(input)} names no directory`, { input });
    return { transport: 'dir', input, path };
  }
  const unsupported = UNSUPPORTED_TRANSPORTS.find((t) => input.startsWith(t));
  if (unsupported) {
    throw new PortcullisError('E_UNSUPPORTED', `reference: the ${unsupported.slice(0, -1)} transport is not supported`, { input });
  }
  return parseRegistryReference(input, input);
}

/**
 * Splits `PATH[:SUFFIX]`. Paths may contain `:`, so the first prefix (at a `:`) that exists on disk is
 * the path; with none existing, the whole string is the path unless the part after the last `:`
 * cannot be part of a file name we would have found (then it is the suffix, and opening fails with a
 * not-found error naming the path).
 */
function splitPath(rest: string, exists: (p: string) => boolean, input: string): { path: string; suffix?: string } {
  if (rest === '') throw new PortcullisError('E_REFERENCE', `reference: ${JSON.stringify(input)} names no path`, { input });
  if (exists(rest)) return { path: rest };
  for (let i = rest.indexOf(':'); i > 0; i = rest.indexOf(':', i + 1)) {
    const prefix = rest.slice(0, i);
    const suffix = rest.slice(i + 1);
    if (suffix !== '' && exists(prefix)) return { path: prefix, suffix };
  }
  const last = rest.lastIndexOf(':');
  if (last > 0 && last < rest.length - 1 && !rest.slice(last + 1).includes('/')) {
    return { path: rest.slice(0, last), suffix: rest.slice(last + 1) };
  }
  return { path: rest };
}

// Grammar of github.com/distribution/reference, restated: lower-case path components joined by
// `.`, `_`, `__` or runs of `-`; a tag of up to 128 word characters; hosts with optional port.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const MAX_NAME_LENGTH = 255;

/**
 * Parses a registry reference (`[host[:port]/]path[:tag][@digest]`) the way Docker does: a first
 * segment containing `.` or `:`, equal to `localhost` or with upper-case letters is a host; otherwise
 * the host is docker.io, where one-segment names live under `library/`. `index.docker.io` is docker.io.
 * Without tag or digest the tag is `latest`. `input` is what the user typed (kept for reports).
 * Throws E_REFERENCE when any part is malformed.
 */
export function parseRegistryReference(text: string, input: string = text): RegistryReference {
  const bad = (why: string): PortcullisError =>
    new PortcullisError('E_REFERENCE', `reference: ${JSON.stringify(input)} is not a valid image reference: ${why}`, { input });
  if (text === '') throw bad('empty');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isValidDigest(digest)) throw bad(`bad digest ${JSON.stringify(digest)}`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`bad tag ${JSON.stringify(tag)}`);
  }
  if (rest === '') throw bad('no repository name');
  const slash = rest.indexOf('/');
  let registry = DOCKER_HUB;
  let path = rest;
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN.test(first)) throw bad(`bad registry host ${JSON.stringify(first)}`);
      registry = first === 'index.docker.io' ? DOCKER_HUB : first;
      path = rest.slice(slash + 1);
    }
  }
  const components = path.split('/');
  for (const c of components) {
    if (!PATH_COMPONENT.test(c)) throw bad(`bad repository path component ${JSON.stringify(c)}`);
  }
  if (registry === DOCKER_HUB && components.length === 1) path = `library/${path}`;
  if (registry.length + 1 + path.length > MAX_NAME_LENGTH) throw bad(`name longer than ${MAX_NAME_LENGTH} characters`);
  const ref: RegistryReference = { transport: 'registry', input, registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = 'latest';
  return ref;
}

/** `host/repo[:tag][@digest]`, the canonical spelling of a registry reference. */
export function formatRegistryReference(ref: Pick<RegistryReference, 'registry' | 'repository' | 'tag' | 'digest'>): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
