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
  readonly #stalled: Promise<never>;
  #fail: (error: Error) => void = () => {};

  /** `onStall` runs once, when the connection is found stalled: close it there. */
  constructor(
    private readonly timeoutMs: number,
    private readonly onStall: () => void,
  ) {
    this.#stalled = new Promise<never>((_resolve, reject) => {
      this.#fail = reject;
    });
    this.#stalled.catch(() => {});
  }

  /** The request's own outcome, or a transient ETIMEDOUT once the connection stalled. */
  track<T>(request: Promise<T>): Promise<T> {
    if (this.#stall !== undefined) return Promise.reject(this.#stall);
    if (this.#pending === 0) this.#lastReply = Date.now();
    this.#pending++;
    this.#arm(this.timeoutMs);
    const settled = (): void => {
      this.#pending--;
      this.#lastReply = Date.now();
    };
    request.then(settled, settled);
    return Promise.race([request, this.#stalled]);
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
    this.#stall = timeoutError('no reply from the SFTP server', this.timeoutMs, 'timeoutMs');
    this.#fail(this.#stall);
    this.onStall();
  }
}
