//! Reference WASI reactor for reactor-pool.
//!
//! Exports `_initialize` (run once by the host before any other export),
//! `inc`, and `memory`. There is no `_start`: this is a reactor, not a command.
//! Built by `scripts/build-reactor.sh` (Zig 0.15.2, wasm32-wasi, ReleaseSmall).

const std = @import("std");

/// Per-instance state. Each instance of the module has its own copy.
var s: i32 = 0;

/// WASI reactor initializer: the host calls this exactly once after
/// instantiation and before any other export.
export fn _initialize() void {
    s = 20;
    std.debug.print("s = {d}\n", .{s});
}

/// Adds `n` to the state and returns the new value (wrapping on overflow).
export fn inc(n: i32) i32 {
    s +%= n;
    return s;
}
