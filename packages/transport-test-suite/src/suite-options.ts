import type { Location, Transport } from '@bentoport/spec';

/** How {@link runTransportSuite} reaches the transport under test. */
export interface TransportSuiteOptions {
  /** Shown in the test names: `transport conformance: <name>`. */
  name: string;
  /**
   * The transport, or a function making it. The function is called once, while vitest collects
   * the tests (the suite reads `capabilities` to decide what to skip), so keep it cheap.
   */
  transport: Transport | (() => Transport | Promise<Transport>);
  /**
   * A location under a scratch root that is fresh for this test file. `''` must give the scratch
   * root itself (listed by the list and abort checks). Checks use flat names (`ranged.bin`), so
   * the root must accept writes directly under it; create it in `setup` where the protocol needs that.
   */
  location(relativePath: string): Location | Promise<Location>;
  /** Runs once before the checks (vitest `beforeAll`): create the scratch root, start a server. */
  setup?(): void | Promise<void>;
  /** Runs once after the checks (vitest `afterAll`): remove the scratch root. */
  teardown?(): void | Promise<void>;
  /**
   * Bytes the transport deliberately buffers, when more than its streams' own
   * `readableHighWaterMark`/`writableHighWaterMark` (an S3 writer filling an 8 MiB part). The
   * backpressure checks allow about twice the larger of the two.
   * @default 0 (the streams' own high-water marks)
   */
  highWaterMark?: number;
}
