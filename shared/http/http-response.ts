import type { HttpResponseInit } from '@azure/functions';
import type { FieldError } from '../services/errors';

const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, body: JSON.stringify(body), headers: { 'content-type': JSON_TYPE, ...headers } };
}

export const ok = (body: unknown, headers?: Record<string, string>) => json(200, body, headers);
export const created = (body: unknown, headers?: Record<string, string>) => json(201, body, headers);
export const accepted = (body: unknown, headers?: Record<string, string>) => json(202, body, headers);
export const noContent = (): HttpResponseInit => ({ status: 204 });

export interface Problem {
  status: number;
  /** Short slug; becomes the problem `type` URI. */
  type: string;
  title: string;
  detail?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** RFC 9457 problem details; `type` is a stable URN so clients can branch on it. */
export function problem(p: Problem, headers: Record<string, string> = {}): HttpResponseInit {
  const { type, ...rest } = p;
  return {
    status: p.status,
    body: JSON.stringify({ type: `urn:portal-bridge:problem:${type}`, ...rest }),
    headers: { 'content-type': PROBLEM_TYPE, ...headers },
  };
}
