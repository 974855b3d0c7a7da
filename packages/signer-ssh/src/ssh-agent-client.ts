import { connect, type Socket } from 'node:net';
import { WireReader, wireString, wireUint32 } from './ssh-wire.js';

/** The agent protocol's message numbers (draft-miller-ssh-agent). */
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;
const FAILURE = 5;
/** Asks for `rsa-sha2-512` rather than SHA-1 `ssh-rsa` from an RSA key. */
const RSA_SHA2_512 = 4;
/** An agent answer larger than this is not an agent talking. */
const MAX_MESSAGE_BYTES = 256 * 1024;

/** A key the agent holds. */
export interface AgentIdentity {
  blob: Buffer;
  comment: string;
}

/** One request, one answer, on a fresh connection: an agent serves any number of those. */
async function exchange(socketPath: string, request: Buffer, timeoutMs: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const message = Buffer.concat([wireUint32(request.length), request]);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(socketPath);
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error: Error | undefined, answer?: Buffer): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error === undefined) resolve(answer as Buffer);
      else reject(error);
    };
    const onAbort = (): void => finish(new Error('aborted'));
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => socket.write(message));
    socket.on('error', (error) => finish(error));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      const all = Buffer.concat(chunks, received);
      if (all.length < 4) return;
      const length = all.readUInt32BE(0);
      if (length > MAX_MESSAGE_BYTES) finish(new Error(`the agent sent a ${length}-byte message`));
      else if (all.length >= 4 + length) finish(undefined, all.subarray(4, 4 + length));
    });
    socket.on('end', () => finish(new Error('the agent closed the connection without answering')));
  });
}

/** The keys the agent at `socketPath` holds. */
export async function agentIdentities(socketPath: string, timeoutMs: number, signal?: AbortSignal): Promise<AgentIdentity[]> {
  const answer = new WireReader(await exchange(socketPath, Buffer.from([REQUEST_IDENTITIES]), timeoutMs, signal));
  const type = answer.byte();
  if (type !== IDENTITIES_ANSWER) throw new Error(`the agent answered message ${type} to a key listing`);
  const count = answer.uint32();
  const identities: AgentIdentity[] = [];
  for (let index = 0; index < count; index++) identities.push({ blob: answer.string(), comment: answer.text() });
  return identities;
}

/** Has the agent sign `data` with the key `keyBlob`: SSH's signature encoding comes back. */
export async function agentSign(socketPath: string, keyBlob: Buffer, data: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  const keyType = new WireReader(keyBlob).text();
  const flags = keyType === 'ssh-rsa' ? RSA_SHA2_512 : 0;
  const request = Buffer.concat([Buffer.from([SIGN_REQUEST]), wireString(keyBlob), wireString(data), wireUint32(flags)]);
  const answer = new WireReader(await exchange(socketPath, request, timeoutMs, signal));
  const type = answer.byte();
  if (type === FAILURE) throw new Error('the agent refused to sign (the key may need confirmation, or was removed)');
  if (type !== SIGN_RESPONSE) throw new Error(`the agent answered message ${type} to a sign request`);
  return answer.string();
}
