/**
 * The shutdown order. Whatever needs closing registers one step under a stage when it is built;
 * `run()` goes through the stages in this order, running a stage's steps together, and carries on
 * past a failing step so that everything after it still closes (the first failure is rethrown).
 */
export const SHUTDOWN_STAGES = [
  /** Stop starting outgoing work (webhook connections). */
  'intake',
  /** Let in-flight work finish (fast-path publishes) while the bus is still open. */
  'drain',
  /** The bus sender and its client. */
  'bus',
  /** Other clients: files, secrets, telemetry. */
  'clients',
  /** The document store, last: everything above may still write to it. */
  'store',
] as const;

export type ShutdownStage = (typeof SHUTDOWN_STAGES)[number];

export class Shutdown {
  private readonly steps: { stage: ShutdownStage; name: string; close: () => void | Promise<void> }[] = [];
  private running?: Promise<void>;

  add(stage: ShutdownStage, name: string, close: () => void | Promise<void>): void {
    this.steps.push({ stage, name, close });
  }

  /** Names of the registered steps in the order they will run (for tests and diagnostics). */
  plan(): string[] {
    return SHUTDOWN_STAGES.flatMap((stage) => this.steps.filter((s) => s.stage === stage).map((s) => s.name));
  }

  /** Runs once; later calls wait for the same run. */
  run(): Promise<void> {
    this.running ??= this.runStages();
    return this.running;
  }

  private async runStages(): Promise<void> {
    let firstFailure: { error: unknown } | undefined;
    for (const stage of SHUTDOWN_STAGES) {
      const steps = this.steps.filter((s) => s.stage === stage);
      const outcomes = await Promise.allSettled(steps.map(async (s) => s.close()));
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') firstFailure ??= { error: outcome.reason };
      }
    }
    if (firstFailure) throw firstFailure.error;
  }
}
