/** The infra/ templates, loaded once for the infra tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  declaration,
  loadBicepFiles,
  objectEntries,
  stringLiteral,
  type BicepFile,
  type Entry,
} from './bicep-text';

export const root = path.join(__dirname, '../../..');
export const infraDir = path.join(root, 'infra');
export const bicepFiles = loadBicepFiles(infraDir);

export function bicep(rel: string): BicepFile {
  const file = bicepFiles.find((f) => f.rel === rel);
  if (!file) throw new Error(`infra/${rel} is missing`);
  return file;
}

export const main = bicep('main.bicep');
export const functionAppModule = bicep('modules/functionapp.bicep');

/** The one place every app setting is set: `var appSettings = { ... }` of the function app module. */
export function appSettingEntries(): Entry[] {
  const body = declaration(functionAppModule, 'var', 'appSettings').body;
  if (!body) throw new Error('modules/functionapp.bicep: var appSettings is not an object literal');
  return objectEntries(body);
}

/** An app setting's value when the Bicep gives it as a literal (directly or through a literal var). */
export function literalValue(file: BicepFile, value: string): string | undefined {
  const direct = stringLiteral(value);
  if (direct !== undefined) return direct;
  if (/^[A-Za-z_]\w*$/.test(value)) {
    const v = file.declarations.find((d) => d.kind === 'var' && d.name === value);
    const m = v && /^\s*=\s*('(?:[^'\\]|\\.)*')\s*$/.exec(v.rest);
    if (m) return stringLiteral(m[1] as string);
  }
  return undefined;
}

export const busTopologyJson = JSON.parse(
  fs.readFileSync(path.join(infraDir, 'bus-topology.json'), 'utf8'),
) as {
  duplicateDetectionHistoryTimeWindow: string;
  topics: { name: string }[];
  subscriptions: { topic: string; name: string; maxDeliveryCount: number; sqlFilter: string }[];
  queues: { name: string; maxDeliveryCount: number }[];
};

/** ISO 8601 duration (PT#H#M#S, the shape Service Bus uses) in milliseconds. */
export function isoDurationMs(iso: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) throw new Error(`Not an ISO 8601 duration: ${iso}`);
  const [d, h, min, s] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
  ];
  return (((d * 24 + h) * 60 + min) * 60 + s) * 1000;
}
