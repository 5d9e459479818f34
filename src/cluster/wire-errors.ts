// How an error crosses the cluster wire: a SerializedError (src/errors.ts) as JSON, read back with
// every field checked, so bytes from elsewhere can never pose as something else.

import type { ErrorCode, SerializedError } from '../errors.js';
import { readRecord, readString, wireFault } from './wire-values.js';

/** Causes nest at most this deep on the wire (deeper ones are dropped when sending, refused when read). */
const MAX_CAUSES = 8;
const CODE = /^[A-Z0-9_]{1,64}$/;
const TEXT_DETAILS = ['sessionKey', 'exportName'] as const;
const NUMBER_DETAILS = ['exitCode', 'signal', 'completed', 'limit', 'workerId'] as const;

/** The JSON form: only the fields a SerializedError has. */
export function encodeSerializedError(error: SerializedError, depth = 0): unknown {
  const out: Record<string, unknown> = { code: String(error.code), message: String(error.message) };
  for (const name of TEXT_DETAILS) if (typeof error[name] === 'string') out[name] = error[name];
  for (const name of NUMBER_DETAILS) if (Number.isFinite(error[name])) out[name] = error[name];
  if (error.cause !== undefined && depth < MAX_CAUSES) out['cause'] = encodeSerializedError(error.cause, depth + 1);
  return out;
}

/** Reads a serialized error back; throws ERR_INVALID_ARGUMENT for anything malformed. */
export function decodeSerializedError(json: unknown, depth = 0): SerializedError {
  const given = readRecord(json, 'error');
  const code = readString(given['code'], 'error code');
  if (!CODE.test(code)) throw wireFault('error code', code);
  const out: SerializedError = { code: code as ErrorCode, message: readString(given['message'], 'error message') };
  for (const name of TEXT_DETAILS) {
    const value = given[name];
    if (value !== undefined) out[name] = readString(value, `error ${name}`);
  }
  for (const name of NUMBER_DETAILS) {
    const value = given[name];
    if (value === undefined) continue;
    if (typeof value !== 'number') throw wireFault(`error ${name}`, value);
    out[name] = value;
  }
  if (given['cause'] !== undefined) {
    if (depth >= MAX_CAUSES) throw wireFault('error (causes nested too deep)', depth);
    out.cause = decodeSerializedError(given['cause'], depth + 1);
  }
  return out;
}
