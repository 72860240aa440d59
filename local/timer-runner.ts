import { InvocationContext } from '@azure/functions';
import { CronExpressionParser } from 'cron-parser';
import { randomUUID } from 'node:crypto';
import type { Registration } from './function-registry';

/** Drives an app.timer registration on its six-field NCRONTAB schedule (seconds first, UTC). */
export class TimerRunner {
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly registration: Registration,
    private readonly log: (level: string, message: string) => void,
  ) {}

  start(): void {
    this.scheduleNext();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const expression = CronExpressionParser.parse(String(this.registration.options.schedule), {
      currentDate: new Date(),
      tz: 'UTC',
    });
    const next = expression.next().getTime();
    this.timer = setTimeout(
      () => {
        this.current = this.fire(next).finally(() => this.scheduleNext());
      },
      Math.max(0, next - Date.now()),
    );
    this.timer.unref();
  }

  private async fire(scheduledAt: number): Promise<void> {
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: this.registration.name,
      logHandler: (level, ...args) =>
        this.log(level, `${this.registration.name}: ${args.map(String).join(' ')}`),
    });
    try {
      await this.registration.options.handler(
        { isPastDue: Date.now() - scheduledAt > 1000, schedule: { adjustForDST: false }, scheduleStatus: {} },
        context,
      );
    } catch (error) {
      this.log('error', `${this.registration.name} failed: ${String(error)}`);
    }
  }
}
