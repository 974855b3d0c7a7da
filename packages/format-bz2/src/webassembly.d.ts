// The part of the WebAssembly global that this package uses on the main thread. TypeScript
// declares it only in its DOM libraries and @types/node 20 not at all; Node has it in every
// version this package supports.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
}
