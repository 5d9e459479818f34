// The type of a compiled module in the package's declarations, written so they compile in a
// Node.js project whose `lib` has no DOM (TypeScript declares the `WebAssembly` namespace only there).

/**
 * A compiled `WebAssembly.Module`: exactly that type where the program has the `WebAssembly`
 * declarations (`"lib": ["DOM"]`), otherwise any object. Either way the pool checks it with
 * `instanceof WebAssembly.Module` at run time.
 */
export type CompiledModule = typeof globalThis extends { readonly WebAssembly: { readonly Module: abstract new (...args: never[]) => infer M } } ? M : object;
