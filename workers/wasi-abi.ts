// The numbers of WASI preview1 the sealed surface speaks: errno values, file types, rights bits and
// the byte layouts of the records it writes into guest memory (witx `wasi_snapshot_preview1`).

/** errno values (preview1 `errno`). */
export const Errno = {
  SUCCESS: 0,
  BADF: 8,
  FAULT: 21,
  INVAL: 28,
  NOTDIR: 54,
  NOTSUP: 58,
  SPIPE: 70,
  NOTCAPABLE: 76,
} as const;

/** `filetype` values. */
export const Filetype = { CHARACTER_DEVICE: 2 } as const;

/** `rights` bits the virtual stdio descriptors carry. */
export const Rights = {
  FD_DATASYNC: 1n << 0n,
  FD_READ: 1n << 1n,
  FD_FDSTAT_SET_FLAGS: 1n << 3n,
  FD_SYNC: 1n << 4n,
  FD_WRITE: 1n << 6n,
  FD_FILESTAT_GET: 1n << 21n,
  POLL_FD_READWRITE: 1n << 27n,
} as const;

/** Every `fdflags` bit (append, dsync, nonblock, rsync, sync). */
export const FDFLAGS_ALL = 0x1f;

/** `clockid` values. */
export const Clock = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;

/** `eventtype` values, also the tags of a `subscription_u`. */
export const EventType = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;

/** `subclockflags`: the timeout is an absolute time on its clock. */
export const SUBSCRIPTION_CLOCK_ABSTIME = 1;
/** `eventrwflags`: the peer closed (our stdin reached its end). */
export const EVENT_FD_READWRITE_HANGUP = 1;

/** Sizes of the records, in bytes. */
export const SIZE = { subscription: 48, event: 32, fdstat: 24, filestat: 64, iovec: 8 } as const;

/** The 46 functions of `wasi_snapshot_preview1` (45 in the 2020 witx, plus `sock_accept` added in 2022). */
export const PREVIEW1_FUNCTIONS = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_fdstat_set_rights',
  'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread', 'fd_prestat_get', 'fd_prestat_dir_name',
  'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek', 'fd_sync', 'fd_tell', 'fd_write',
  'path_create_directory', 'path_filestat_get', 'path_filestat_set_times', 'path_link', 'path_open', 'path_readlink',
  'path_remove_directory', 'path_rename', 'path_symlink', 'path_unlink_file',
  'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get',
  'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
] as const;

export type Preview1Function = (typeof PREVIEW1_FUNCTIONS)[number];

/** What wasm passes to an import: i32 as number, i64 as bigint. */
export type WasiArg = number | bigint;
export type WasiFunction = (...args: WasiArg[]) => number;
