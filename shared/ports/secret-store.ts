/**
 * Named secrets (API keys of model providers, webhook signing material, …), shaped after Azure Key
 * Vault: values are read and written by name; listings carry names and metadata, never values.
 */

/** Key Vault's rule for secret names; names are case-insensitive. */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9-]{1,127}$/;
export const SECRET_NAME_RULE = 'must be 1-127 characters: letters, digits and "-"';
/** Key Vault accepts values up to 25 KiB. */
export const SECRET_VALUE_MAX_LENGTH = 25 * 1024;

export interface SecretMetadata {
  name: string;
  enabled: boolean;
  /** Where the value lives: Key Vault, a BRIDGE_SECRET_<NAME> setting, or the embedded secrets file. */
  source: 'keyvault' | 'setting' | 'file';
  /** Settings-backed secrets cannot be written through the bridge. */
  readOnly: boolean;
  contentType?: string;
  createdOn?: string;
  updatedOn?: string;
}

export interface SecretStore {
  /** The current value, or undefined when there is no such secret. */
  get(name: string): Promise<string | undefined>;
  /** Creates or replaces a secret (a new version in Key Vault). */
  set(name: string, value: string): Promise<SecretMetadata>;
  /** Every secret's name and metadata, sorted by name; never values. */
  list(): Promise<SecretMetadata[]>;
  close(): Promise<void>;
}

export type SecretStoreErrorCode = 'read-only';

export class SecretStoreError extends Error {
  constructor(
    readonly code: SecretStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecretStoreError';
  }
}

export const isSecretStoreError = (error: unknown, code?: SecretStoreErrorCode): error is SecretStoreError =>
  error instanceof SecretStoreError && (code === undefined || error.code === code);
