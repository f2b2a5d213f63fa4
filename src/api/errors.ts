/**
 * An error the API answers with its HTTP status and this JSON body:
 * `{ "error": { "code": "reading_bad_signature", "message": "…", "details": …, "hint": "…" } }`.
 * `code` is stable (clients branch on it), `message` is for people, `details` says which input was wrong
 * (for a validation error: one entry per bad field, with its path).
 * @example throw new ApiError(404, "meter_not_found", `no meter ${id}`)
 */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { details?: unknown; hint?: string } = {},
  ) {
    super(message);
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}

export type ErrorBody = { error: { code: string; message: string; details?: unknown; hint?: string } };
