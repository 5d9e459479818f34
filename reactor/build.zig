//! Build script for the reference reactor (Zig 0.15.2).
//!
//!   python3 -m ziglang build            # -> zig-out/bin/reactor.wasm
//!
//! Prefer `scripts/build-reactor.sh`, which checks the Zig version and copies
//! the result to reactor/reactor.wasm.
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.resolveTargetQuery(.{
        .cpu_arch = .wasm32,
        .os_tag = .wasi,
    });

    const exe = b.addExecutable(.{
        .name = "reactor",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src/main.zig"),
            .target = target,
            .optimize = .ReleaseSmall,
            .strip = true,
        }),
    });
    // A reactor: no `_start`, the host calls `_initialize` instead.
    exe.wasi_exec_model = .reactor;
    exe.entry = .disabled;
    // Keep every `export fn` as a wasm export.
    exe.rdynamic = true;
    // Every session owns an instance, so linear memory is paid per session. Zig's default 16 MiB
    // stack would make each instance 257 pages; 64 KiB is ample for this reactor.
    exe.stack_size = 64 * 1024;

    b.installArtifact(exe);
}
