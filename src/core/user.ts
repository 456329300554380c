// Who runs this process, as the operating system says: recorded with every publish and alias move.

/** The OS user name from the environment, or "unknown". */
export function currentUser(): string {
  return process.env.USER || process.env.USERNAME || 'unknown';
}
