import { z } from 'zod';
import {
  isSecretStoreError,
  SECRET_VALUE_MAX_LENGTH,
  SECRET_NAME_PATTERN,
  SECRET_NAME_RULE,
  type SecretMetadata,
  type SecretStore,
} from '../ports/secret-store';
import { ServiceError } from './errors';

/** PUT /api/secrets/{name}: the value only. */
export const secretPutSchema = z.strictObject({
  value: z.string().min(1).max(SECRET_VALUE_MAX_LENGTH),
});

/**
 * Secrets by name. Values go in (write-only over HTTP) and come out only to the bridge's own
 * services (`get`); listings carry names and metadata, never values.
 */
export class SecretService {
  constructor(private readonly store: SecretStore) {}

  /** For the bridge's own use (provider API keys, …); never exposed over HTTP. */
  get(name: string): Promise<string | undefined> {
    return this.store.get(checkName(name));
  }

  async put(name: string, value: string): Promise<SecretMetadata> {
    try {
      return await this.store.set(checkName(name), value);
    } catch (error) {
      if (isSecretStoreError(error, 'read-only')) throw new ServiceError('conflict', error.message);
      throw error;
    }
  }

  list(): Promise<SecretMetadata[]> {
    return this.store.list();
  }
}

function checkName(name: string): string {
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new ServiceError('validation', 'Invalid secret name.', [
      { path: 'name', message: SECRET_NAME_RULE },
    ]);
  }
  return name;
}
