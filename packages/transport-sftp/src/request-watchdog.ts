import { timeoutError } from '@bentoport/plugin-kit';

/**
 * Notices a connection that stopped answering: while requests are outstanding, some reply must
 * come back every `timeoutMs`. A slow link still passes (each reply is progress, however long
 * the whole transfer takes); a server that accepted a request and went silent does not. SSH
 * keep-alives cannot tell, because a server whose SFTP subsystem is wedged still answers them,
 * and they keep the socket from ever looking idle.
 */
export class RequestWatchdog {
  #pending = 0;
  #lastReply = 0;
  #timer: NodeJS.Timeout | undefined;
  #stall: Error | undefined;
  /** How to fail each request still outstanding, should the connection stall. */
  readonly #outstanding = new Set<(error: Error) => void>();

  /** `onStall` runs once, when the connection is found stalled: close it there. */
  constructor(
    private readonly timeoutMs: number,
    private readonly onStall: () => void,
  ) {}

  /**
   * The request's own outcome, or a transient ETIMEDOUT once the connection stalled. Not
   * `Promise.race` with one long-lived stall promise: each race leaves a reaction on it that keeps
   * the race's result reachable, so every READ's buffer stayed in memory for the connection's life
   * (a 128 MiB download held 128 MiB).
   */
  track<T>(request: Promise<T>): Promise<T> {
    if (this.#stall !== undefined) return Promise.reject(this.#stall);
    if (this.#pending === 0) this.#lastReply = Date.now();
    this.#pending++;
    this.#arm(this.timeoutMs);
    return new Promise<T>((resolve, reject) => {
      this.#outstanding.add(reject);
      const settled = (): void => {
        this.#pending--;
        this.#lastReply = Date.now();
        this.#outstanding.delete(reject);
      };
      request.then(
        (value) => {
          settled();
          resolve(value);
        },
        (error: unknown) => {
          settled();
          reject(error);
        },
      );
    });
  }

  /** Stop watching (the connection closed). */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.#check(), delay);
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#pending === 0 || this.#stall !== undefined) return;
    const quiet = Date.now() - this.#lastReply;
    if (quiet < this.timeoutMs) {
      this.#arm(this.timeoutMs - quiet);
      return;
    }
    const stall = timeoutError('no reply from the SFTP server', this.timeoutMs, 'timeoutMs');
    this.#stall = stall;
    for (const fail of this.#outstanding) fail(stall);
    this.#outstanding.clear();
    this.onStall();
  }
}
