/**
 * One line per request, written in batches once per event-loop turn: stdout to a pipe or file is
 * a synchronous write on Linux, and one syscall per request would cap throughput.
 */
export class AccessLog {
  private lines: string[] = [];
  private scheduled = false;

  constructor(
    private readonly enabled: boolean,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  request(method: string, url: string, status: number, ms: number): void {
    if (!this.enabled) return;
    this.lines.push(`${new Date().toISOString()} ${method} ${url} ${status} ${ms.toFixed(1)}ms\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const chunk = this.lines.join('');
    this.lines = [];
    this.out.write(chunk);
  }
}
