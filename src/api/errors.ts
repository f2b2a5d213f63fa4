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

/** 401: the route needs a signed-in session. */
export const authRequired = () =>
  new ApiError(401, "auth_required", "sign in first: send Authorization: Bearer <token> from POST /api/auth/signin", {
    hint: "GET /api/auth/nonce, sign an EIP-4361 message with your wallet, POST /api/auth/signin",
  });

/** 403: signed in, but this account may not do this. */
export const forbidden = (message: string) => new ApiError(403, "forbidden", message);

/** 404 for a missing resource, with a code like `participant_not_found`. */
export const notFound = (what: string, message: string) => new ApiError(404, `${what}_not_found`, message);

/** 400 `validation_failed` for a check zod cannot express (one entry per bad field, with its path). */
export const validationFailed = (details: { path: string; message: string }[]) =>
  new ApiError(400, "validation_failed", "the request is not valid", { details });
