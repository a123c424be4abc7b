/**
 * The part of the WebAssembly JavaScript API the server uses. Node provides it as a global; the
 * ES library this project compiles against does not declare it (it lives in the DOM library).
 */
declare namespace WebAssembly {
  class Module {
    private constructor();
  }
  function compile(bytes: Uint8Array): Promise<Module>;
}
