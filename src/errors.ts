/**
 * The one error hierarchy of hull. Every error the library throws on purpose is a HullError;
 * the CLI prints `hull: <message>` and exits with `exitCode` (Docker's codes: 125 for hull's own
 * failures, 126 when the command cannot be invoked, 127 when it is not found).
 */

export const EXIT_RUNTIME_ERROR = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

export class HullError extends Error {
  /** The exit status the CLI uses when this error ends a command. */
  readonly exitCode: number = EXIT_RUNTIME_ERROR;
  /** A stable machine-readable code, e.g. 'ENOENT' or 'IMAGE_NOT_FOUND'. */
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'HULL_ERROR';
  }
}

/** Bad input from the user: a malformed flag value, reference, env file line, … */
export class UsageError extends HullError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'USAGE', ...options });
  }
}

/**
 * A Go template (`--format`) that does not parse or fails while executing, with Go's own message
 * (`template: :1: unclosed action`, `template: :1:2: executing "" at <.X>: …`). `output` is what
 * the template wrote before it failed (Docker keeps it for table headers). The exit status is the
 * one Docker gives the command (64 for a template `inspect` cannot parse, else 1).
 */
export class TemplateError extends UsageError {
  override readonly exitCode: number;
  readonly output: string;

  constructor(message: string, options: { output?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.output = options.output ?? '';
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Something the runtime could not do (the parent of system-level failures). */
export class RuntimeError extends HullError {}

/** A failed system call made by hull itself, with the operation, path and errno name. */
export class SystemError extends RuntimeError {
  readonly syscall: string;
  readonly path: string | undefined;
  readonly errno: string;

  constructor(syscall: string, path: string | undefined, errno: string, detail?: string) {
    const where = path === undefined ? '' : ` ${path}`;
    super(`${syscall}${where}: ${errno}${detail ? ` (${detail})` : ''}`, { code: errno });
    this.syscall = syscall;
    this.path = path;
    this.errno = errno;
  }
}

/** An OCI hook that failed (exit status, signal, timeout, or could not run): names its kind and path. */
export class HookError extends RuntimeError {
  constructor(kind: string, path: string, why: string) {
    super(`error running ${kind} hook ${path}: ${why}`, { code: 'HOOK_FAILED' });
  }
}

/** A mount that failed; `target` is where it was to be mounted. */
export class MountError extends SystemError {}

/**
 * A step of the container's start-up plan failed inside the new process, before execve.
 * Carries which step (1-based, of how many), the syscall, the path and the errno name.
 */
export class ContainerStartError extends RuntimeError {
  override readonly exitCode: number;
  readonly step: number;
  readonly steps: number;
  readonly syscall: string;
  readonly errno: string;
  readonly detail: string;

  constructor(fields: { step: number; steps: number; syscall: string; errno: string; detail: string }) {
    super(`${fields.detail}: ${fields.errno} (step ${fields.step} of ${fields.steps})`, { code: fields.errno });
    this.step = fields.step;
    this.steps = fields.steps;
    this.syscall = fields.syscall;
    this.errno = fields.errno;
    this.detail = fields.detail;
    // Docker's convention for the command itself: not found 127, found but not runnable 126.
    if (fields.syscall === 'execve') {
      this.exitCode = fields.errno === 'ENOENT' || fields.errno === 'ENOTDIR' ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE;
    } else {
      this.exitCode = EXIT_RUNTIME_ERROR;
    }
  }
}

export class ImageNotFoundError extends HullError {
  constructor(
    readonly reference: string,
    message = `image not found: ${reference}`,
  ) {
    super(message, { code: 'IMAGE_NOT_FOUND' });
  }
}

export class ContainerNotFoundError extends HullError {
  /** `message`: another front door's words (the OCI runtime's "container does not exist"). */
  constructor(idOrName: string, message = `no such container: ${idOrName}`) {
    super(message, { code: 'CONTAINER_NOT_FOUND' });
  }
}

/** A path that is not in a container (`cp`), in Docker's words. */
export class ContainerPathNotFoundError extends HullError {
  readonly path: string;
  readonly container: string;
  constructor(path: string, container: string) {
    super(`Could not find the file ${path} in container ${container}`, { code: 'PATH_NOT_FOUND' });
    this.path = path;
    this.container = container;
  }
}

export class VolumeNotFoundError extends HullError {
  constructor(name: string) {
    super(`no such volume: ${name}`, { code: 'VOLUME_NOT_FOUND' });
  }
}

/** No pod by that name or id, in Podman's words. */
export class PodNotFoundError extends HullError {
  constructor(nameOrId: string) {
    super(`no pod with name or ID ${nameOrId} found: no such pod`, { code: 'POD_NOT_FOUND' });
  }
}

/** `pod rm` without force of a pod whose containers run (Podman exits 2 for it). */
export class PodRunningError extends HullError {
  override readonly exitCode: number = 2;
  constructor(message: string) {
    super(message, { code: 'POD_RUNNING' });
  }
}

export class ConflictError extends HullError {
  constructor(message: string) {
    super(message, { code: 'CONFLICT' });
  }
}

/** The client typed the detach keys (`attach`, `exec -it`): the container goes on; Docker's CLI says this and exits 1. */
export class DetachedError extends HullError {
  override readonly exitCode: number = 1;
  constructor() {
    super('read escape sequence', { code: 'DETACHED' });
  }
}

/** An image archive, manifest or config that is not what its format says it must be. */
export class InvalidImageError extends HullError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'INVALID_IMAGE', ...options });
  }
}

export class DigestMismatchError extends InvalidImageError {
  readonly expected: string;
  readonly actual: string;
  constructor(what: string, expected: string, actual: string) {
    super(`${what}: digest mismatch: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A host that lacks something hull needs (cgroup2 mount, overlayfs, a kernel feature). */
export class HostUnsupportedError extends RuntimeError {}

/** Wraps a Node fs error (which carries code/syscall/path) into a SystemError. */
export function fromNodeError(err: unknown, fallbackSyscall: string, fallbackPath?: string): HullError {
  if (err instanceof HullError) return err;
  if (err instanceof Error && 'code' in err && typeof (err as NodeJS.ErrnoException).code === 'string') {
    const e = err as NodeJS.ErrnoException;
    const se = new SystemError(e.syscall ?? fallbackSyscall, e.path ?? fallbackPath, e.code ?? 'EIO');
    (se as { cause?: unknown }).cause = err;
    return se;
  }
  return new RuntimeError(`${fallbackSyscall}${fallbackPath ? ` ${fallbackPath}` : ''}: ${String(err)}`, { cause: err });
}

/**
 * A Dockerfile that cannot be parsed or built as written: names the file, the line and the
 * instruction (`Dockerfile:3: unknown instruction: RUNN (RUNN echo)`). `docker build` exits 1.
 */
export class DockerfileError extends HullError {
  override readonly exitCode: number = 1;
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: { no: number }, message: string, instruction?: string) {
    super(`${file}:${line.no}: ${message}${instruction ? ` (${instruction.length > 80 ? `${instruction.slice(0, 77)}...` : instruction})` : ''}`, {
      code: 'DOCKERFILE',
    });
    this.file = file;
    this.line = line.no;
  }
}

/** A build step that failed (a RUN that exited non-zero, a missing COPY source). `docker build` exits 1. */
export class BuildError extends HullError {
  override readonly exitCode: number = 1;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'BUILD', ...options });
  }
}

/** A RUN step whose command exited non-zero: the command and its status, which Docker's classic builder words its message from. */
export class RunStepError extends BuildError {
  constructor(
    message: string,
    readonly command: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** A registry that answered with an error, could not be reached, or sent what it must not. */
export class RegistryError extends HullError {
  /** The HTTP status, when the registry answered. */
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 'REGISTRY', cause: options.cause });
    this.status = options.status;
  }
}

/** 401/403 from a registry or its token service: missing, wrong or insufficient credentials. */
export class RegistryAuthError extends RegistryError {
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { ...options, code: 'UNAUTHORIZED' });
  }
}

/**
 * A request the change it asks for is already true of (start a running container, stop a stopped
 * one): the Engine API answers 304 Not Modified, as Docker's daemon does; the CLI never sees one.
 */
export class NotModifiedError extends HullError {
  constructor(message: string) {
    super(message, { code: 'NOT_MODIFIED' });
  }
}

/** A request body larger than the Engine API takes (Docker's daemon has no limit; hull's refuses with 413). */
export class RequestTooLargeError extends UsageError {
  readonly limit: number;
  constructor(limit: number) {
    super(`request body too large: more than ${limit} bytes`);
    this.limit = limit;
  }
}

/** An exec instance the Engine API does not know (never made, or forgotten after it ended). */
export class ExecNotFoundError extends HullError {
  constructor(id: string) {
    super(`No such exec instance: ${id}`, { code: 'EXEC_NOT_FOUND' });
  }
}
