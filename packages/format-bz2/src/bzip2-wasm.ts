import { readFileSync } from 'node:fs';

/**
 * libbzip2 1.0.8 compiled to WebAssembly (`wasm/build.sh`, committed as `libbzip2.wasm` beside
 * this file and copied into `dist` by the build), so no install needs a C compiler and no
 * platform needs a prebuilt binary. The module is compiled once per process and handed to each
 * worker thread, which instantiates its own copy (its own memory and its own bz_stream).
 */
let compiled: WebAssembly.Module | undefined;

export function bzip2Module(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(new URL('./libbzip2.wasm', import.meta.url)));
  return compiled;
}

/** libbzip2's return codes that the workers name in their messages. */
export const BZIP2_STATUS_NAMES: Readonly<Record<number, string>> = {
  [-1]: 'BZ_SEQUENCE_ERROR',
  [-2]: 'BZ_PARAM_ERROR',
  [-3]: 'BZ_MEM_ERROR',
  [-4]: 'BZ_DATA_ERROR',
  [-5]: 'BZ_DATA_ERROR_MAGIC',
};
