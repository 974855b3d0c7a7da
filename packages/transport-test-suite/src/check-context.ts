import type { Location, Transport } from '@bentoport/spec';

/** What every conformance check receives. */
export interface CheckContext {
  readonly transport: Transport;
  /** A location under the scratch root; `''` is the scratch root itself. */
  location(relativePath: string): Promise<Location>;
  /** Extra bytes of buffering the backpressure checks allow (see `TransportSuiteOptions.highWaterMark`). */
  readonly highWaterMark?: number;
}
