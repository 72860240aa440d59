/**
 * The Telemetry adapter: no connection string → the silent no-op; a malformed one → one warning
 * and the no-op; a good one → the Application Insights SDK (v3), checked end to end against a fake
 * ingestion endpoint (HTTPS on 127.0.0.1, the SDK's real exporter) in a child process.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generate } from 'selfsigned';
import {
  AppInsightsTelemetry,
  connectionStringProblem,
  createTelemetry,
} from '../../../shared/adapters/azure/app-insights-telemetry';
import { loadConfig } from '../../../shared/config';
import {
  currentTelemetryOperation,
  noopTelemetry,
  operationFromTraceParent,
  runWithTelemetryOperation,
} from '../../../shared/ports/telemetry';
import { makeTestServices } from '../../helpers/test-services';

const IKEY = '00000000-0000-4000-8000-000000000001';
const REPO = path.join(__dirname, '..', '..', '..');

describe('createTelemetry', () => {
  it('without a connection string is the silent no-op', () => {
    const warn = jest.fn();
    expect(createTelemetry(undefined, warn)).toBe(noopTelemetry);
    expect(createTelemetry('  ', warn)).toBe(noopTelemetry);
    expect(warn).not.toHaveBeenCalled();
    expect(noopTelemetry.enabled).toBe(false);
    expect(() => {
      noopTelemetry.trackMetric('bridge.sync.latency_ms', 1);
      noopTelemetry.trackEvent('x');
      noopTelemetry.trackException(new Error('x'));
    }).not.toThrow();
  });

  it.each([
    ['garbage', 'it is not a list of key=value pairs separated by ";"'],
    ['InstrumentationKey=not-a-guid', 'InstrumentationKey is not a GUID'],
    ['IngestionEndpoint=https://x.in.applicationinsights.azure.com/', 'InstrumentationKey is missing'],
    [`InstrumentationKey=${IKEY};IngestionEndpoint=ftp://x`, 'IngestionEndpoint is not an http(s) URL'],
    [`InstrumentationKey=${IKEY};LiveEndpoint=nope`, 'LiveEndpoint is not an http(s) URL'],
    [';;;', 'it is empty'],
  ])('a malformed string (%j) warns once, saying it falls back to no-op, and never throws', (cs, problem) => {
    const warn = jest.fn();
    expect(createTelemetry(cs, warn)).toBe(noopTelemetry);
    expect(warn).toHaveBeenCalledTimes(1);
    const message = warn.mock.calls[0][0] as string;
    expect(message).toContain('APPLICATIONINSIGHTS_CONNECTION_STRING is malformed');
    expect(message).toContain(problem);
    expect(message).toContain('no-op');
    expect(connectionStringProblem(cs)).toBe(problem);
  });

  it('accepts the usual forms', () => {
    expect(connectionStringProblem(`InstrumentationKey=${IKEY}`)).toBeUndefined();
    expect(
      connectionStringProblem(
        `InstrumentationKey=${IKEY};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;` +
          'LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/;ApplicationId=abc',
      ),
    ).toBeUndefined();
  });

  it('the container wires it from config: no setting → no-op; a bad one → no-op, the bridge still starts', async () => {
    const plain = makeTestServices();
    expect(plain.services.telemetry).toBe(noopTelemetry);
    await plain.cleanup();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const bad = makeTestServices({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=oops' });
      expect(bad.services.telemetry).toBe(noopTelemetry);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('telemetry is disabled (no-op)'));
      await bad.cleanup();
    } finally {
      warn.mockRestore();
    }
    expect(
      loadConfig({ BRIDGE_ADMIN_KEY: 'k'.repeat(32), APPLICATIONINSIGHTS_CONNECTION_STRING: 'x' }).telemetry,
    ).toEqual({
      connectionString: 'x',
    });
  });
});

describe('operations (correlation)', () => {
  it('reads a W3C traceparent and carries it across awaits', async () => {
    const op = operationFromTraceParent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(op).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', parentId: 'b7ad6b7169203331' });
    for (const bad of [
      undefined,
      '',
      'nope',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ]) {
      expect(operationFromTraceParent(bad)).toBeUndefined();
    }
    await runWithTelemetryOperation(op, async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(currentTelemetryOperation()).toEqual(op);
    });
    expect(currentTelemetryOperation()).toBeUndefined();
  });
});

interface Envelope {
  name: string;
  tags: Record<string, string>;
  data: { baseType: string; baseData: Record<string, unknown> & { properties?: Record<string, string> } };
}

describe('Application Insights over a fake ingestion endpoint', () => {
  let server: https.Server;
  let caFile: string;
  let port: number;
  const envelopes: Envelope[] = [];
  const paths: string[] = [];
  const authorizations: (string | undefined)[] = [];

  beforeAll(async () => {
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-ai-')), 'ca.pem');
    fs.writeFileSync(caFile, pems.cert);
    server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        paths.push(req.url ?? '');
        authorizations.push(req.headers.authorization);
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const items = JSON.parse(body.toString('utf8')) as Envelope[];
        envelopes.push(...items);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
  });

  it('sends custom metrics (aggregated), events and exceptions; events and exceptions carry operation_Id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--require',
          path.join(REPO, 'tests/helpers/register-ts.js'),
          path.join(__dirname, 'telemetry-child.ts'),
        ],
        {
          cwd: REPO,
          env: {
            PATH: process.env.PATH,
            NODE_EXTRA_CA_CERTS: caFile,
            APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
            TEST_CONNECTION_STRING: `InstrumentationKey=${IKEY};IngestionEndpoint=https://127.0.0.1:${port}/`,
            TEST_TRACEPARENT: `00-${traceId}-${parentId}-01`,
            TEST_STUB_TOKEN: 'entra-token',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('exit', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`)),
      );
    });
    expect(JSON.parse(output)).toEqual({ enabled: true, warnings: [] });
    expect(paths.every((p) => p === '/v2.1/track')).toBe(true);
    // With a credential (APPLICATIONINSIGHTS_AUTHENTICATION_STRING in Azure), exports are Entra-authenticated.
    expect(authorizations.length).toBeGreaterThan(0);
    expect(authorizations.every((a) => a === 'Bearer entra-token')).toBe(true);

    const byName = (baseType: string, name?: string) =>
      envelopes.filter(
        (e) => e.data.baseType === baseType && (name === undefined || e.data.baseData.name === name),
      );
    const [event] = byName('EventData', 'bridge.test.event');
    expect(event?.tags['ai.operation.id']).toBe(traceId);
    expect(event?.tags['ai.operation.parentId']).toBe(parentId);
    expect(event?.data.baseData.properties).toMatchObject({ userId: 'ann', attempt: '2' });
    expect(event?.data.baseData.measurements).toEqual({ bytes: 42 });
    const [outside] = byName('EventData', 'bridge.test.outside');
    expect(outside).toBeDefined();
    expect(outside?.tags['ai.operation.id']).not.toBe(traceId);

    const [exception] = byName('ExceptionData');
    expect(exception?.tags['ai.operation.id']).toBe(traceId);
    expect(JSON.stringify(exception?.data.baseData)).toContain('boom');

    const metrics = byName('MetricData').flatMap((e) =>
      (e.data.baseData.metrics as { name: string; value: number; count: number }[]).map((m) => ({
        ...m,
        properties: e.data.baseData.properties,
      })),
    );
    expect(metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'bridge.sync.latency_ms',
          value: 32,
          count: 2,
          properties: { outcome: 'succeeded' },
        }),
        expect.objectContaining({
          name: 'bridge.sync.conflicts',
          value: 1,
          count: 1,
          properties: { writer: 'admin' },
        }),
      ]),
    );
    // A NaN is dropped, never sent.
    expect(metrics.find((m) => m.name === 'bridge.propagation.latency_ms')).toBeUndefined();
  }, 60_000);

  it('in this process (the SDK loads on this Node): an export it cannot make never reaches the caller', async () => {
    const warn = jest.fn();
    // This process does not trust the fake's certificate, so every export fails inside the SDK.
    const telemetry = createTelemetry(
      `InstrumentationKey=${IKEY};IngestionEndpoint=https://127.0.0.1:${port}/`,
      warn,
    );
    expect(telemetry).toBeInstanceOf(AppInsightsTelemetry);
    expect(telemetry.enabled).toBe(true);
    expect(() => {
      telemetry.trackMetric('bridge.sync.latency_ms', 5, { outcome: 'succeeded' });
      telemetry.trackEvent('e');
      telemetry.trackException('not even an Error');
    }).not.toThrow();
    await expect(telemetry.close()).resolves.toBeUndefined();
    expect(warn).not.toHaveBeenCalled();
  });
});
