/** Identifier rules shared by routes and services: bounded length, URL-safe characters only. */

export const USER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
export const STATE_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
export const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const API_KEY_ID_PATTERN = /^[a-z0-9]{16}$/;

/** Keys that would reach an object's prototype if ever assigned with obj[key] = … */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const USER_ID_RULE =
  'must be 1-128 characters: letters, digits, ".", "_", "@", "-", starting with a letter or digit';
export const STATE_KEY_RULE =
  'must be 1-200 characters: letters, digits, ".", "_", ":", "-", starting with a letter or digit';
export const FIELD_NAME_RULE =
  'must be 1-64 characters: letters, digits, "_", ".", "-", starting with a letter or "_"';

/**
 * Ids of records the bridge generates (subscriptions `sub_…`, operations `op_…`, dead letters
 * `dl_…`, API keys): always valid store ids, so a path id outside this form is a 400, never a 500.
 */
export const RECORD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$/;
export const RECORD_ID_RULE =
  'must be 1-255 characters: letters, digits, ".", "_", ":", "-", starting with a letter or digit';
