/**
 * The Engine API's one mapping from hull's error hierarchy (src/errors.ts) to Docker's HTTP
 * statuses. Every route throws the library's errors as they are; the server answers
 * `{"message": …}` with the status chosen here, and nowhere else.
 */
import {
  ConflictError,
  ContainerNotFoundError,
  ContainerPathNotFoundError,
  ExecNotFoundError,
  HullError,
  ImageNotFoundError,
  NotModifiedError,
  RegistryError,
  RequestTooLargeError,
  UsageError,
  VolumeNotFoundError,
} from '../errors.js';
import { NetworkNotFoundError } from '../network/store.js';

export interface ApiFailure {
  status: number;
  message: string;
}

/** Docker's status for an error: 404 missing, 409 conflict, 400 bad input, 304 nothing to do, 413 too large, else 500. */
export function failureOf(err: unknown): ApiFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof NotModifiedError) return { status: 304, message };
  if (err instanceof RequestTooLargeError) return { status: 413, message };
  // Docker's words for a missing image: docker-py (compose's `build:`, the SDK's images.get) knows one by "No such image".
  if (err instanceof ImageNotFoundError)
    return { status: 404, message: message === `image not found: ${err.reference}` ? `No such image: ${err.reference}` : message };
  if (err instanceof ContainerNotFoundError || err instanceof VolumeNotFoundError) return { status: 404, message };
  if (err instanceof NetworkNotFoundError) return { status: 404, message };
  if (err instanceof ContainerPathNotFoundError || err instanceof ExecNotFoundError) return { status: 404, message };
  if (err instanceof ConflictError) return { status: 409, message };
  if (err instanceof UsageError) return { status: 400, message };
  // A registry's "not found" is the image's (Docker's pull answers 404 for a missing repository or tag).
  if (err instanceof RegistryError && err.status === 404) return { status: 404, message };
  if (err instanceof HullError) return { status: 500, message };
  return { status: 500, message };
}
