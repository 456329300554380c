// A live display of steps on a terminal: a spinner line for the running step that turns into a
// check mark (or a cross) with the step's timing and summary. Off a terminal it prints nothing.
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const MARKS: Record<string, string> = {
  ok: '\x1b[32m✓\x1b[0m',
  cached: '\x1b[36m↺\x1b[0m',
  failed: '\x1b[31m✗\x1b[0m',
  skipped: '\x1b[90m–\x1b[0m',
};

export class Progress {
  private readonly stream: NodeJS.WriteStream | undefined;
  private current: { name: string; started: number; fraction?: number; text?: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;

  /** `stream` is used only when it is a terminal. */
  constructor(stream: NodeJS.WriteStream | undefined) {
    this.stream = stream?.isTTY ? stream : undefined;
  }

  get enabled(): boolean {
    return this.stream !== undefined;
  }

  start(name: string): void {
    if (!this.stream) return;
    this.current = { name, started: performance.now() };
    this.timer ??= setInterval(() => this.draw(), 100);
    this.timer.unref();
    this.draw();
  }

  update(name: string, fraction: number | undefined, text?: string): void {
    if (!this.current || this.current.name !== name) return;
    this.current.fraction = fraction;
    this.current.text = text;
  }

  finish(name: string, status: string, detail?: string, seconds?: number): void {
    if (!this.stream) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.current = undefined;
    const time = seconds === undefined ? '' : ` \x1b[90m${seconds.toFixed(2)} s\x1b[0m`;
    const label = status === 'cached' ? ' (reused)' : status === 'skipped' ? ' (skipped)' : '';
    this.stream.write(
      `\r\x1b[2K${MARKS[status] ?? ' '} ${name.padEnd(9)}${label}${time}${detail ? `  ${detail}` : ''}\n`,
    );
  }

  private draw(): void {
    if (!this.stream || !this.current) return;
    const { name, started, fraction, text } = this.current;
    const elapsed = ((performance.now() - started) / 1000).toFixed(1);
    const bar = fraction === undefined ? '' : ` ${renderBar(fraction)} ${Math.round(fraction * 100)}%`;
    this.frame = (this.frame + 1) % FRAMES.length;
    this.stream.write(
      `\r\x1b[2K${FRAMES[this.frame]} ${name.padEnd(9)}${bar} ${elapsed} s${text ? `  ${text}` : ''}`,
    );
  }
}

export function renderBar(fraction: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
