import type { Format } from '@bentoport/spec';

/** How {@link runFormatSuite} reaches the format under test. */
export interface FormatSuiteOptions {
  /**
   * The format, or a function making it. The function is called once, while vitest collects the
   * tests (the suite reads `formats` and `capabilities` to decide what to run), so keep it cheap.
   */
  format: Format | (() => Format | Promise<Format>);
  /**
   * Shown in the test names: `format conformance: <name>`.
   * @default the format's `name`
   */
  name?: string;
  /**
   * The format tokens to test, each one of the format's `formats`. Token-specific checks run once
   * per token.
   * @default every token in the format's `formats`
   */
  formats?: readonly string[];
  /**
   * Bytes the encoder deliberately reads ahead of a slow consumer beyond the suite's allowance of
   * 16 MiB: a parallel compressor holding `concurrency` blocks of input. The backpressure check
   * fails an encoder that pulls more than 16 MiB plus this from bodies nobody has asked it to encode yet.
   * @default 0
   */
  readAheadBytes?: number;
  /**
   * Checks not to run, by id (`abort/decode-stalled-source`; the README lists them), each with the
   * reason, shown in the skipped test's name. Meant for a known bug whose fix is under way: name it.
   * @default {}
   */
  skip?: Readonly<Record<string, string>>;
}
