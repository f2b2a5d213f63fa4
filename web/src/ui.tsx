import type { ReactNode } from "react";
import { Link } from "./router.tsx";

export function ErrorBox({ title, error, onRetry }: { title: string; error: string; onRetry?: () => void }) {
  return (
    <div className="notice error" role="alert">
      <strong>{title}</strong>
      <p>{error}</p>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="notice empty">{children}</p>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="notice loading" aria-busy="true">
      Loading {what}…
    </p>
  );
}

/** A labelled figure: `<dt>` label, `<dd>` value (with a test id for the end-to-end test). */
export function Stat({ label, value, id, hint }: { label: string; value: string; id: string; hint?: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd data-testid={id}>{value}</dd>
      {hint ? <dd className="hint">{hint}</dd> : null}
    </div>
  );
}

export function LiveBadge({ status }: { status: "connecting" | "live" | "reconnecting" }) {
  const text = status === "live" ? "Live" : status === "connecting" ? "Connecting…" : "Reconnecting…";
  return (
    <span className={`badge ${status}`} data-testid="live-status">
      <span aria-hidden="true">●</span> {text}
    </span>
  );
}

export const timeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** The outcome of a signed write: pending, mined (with its transaction), or the API's / wallet's error. */
export type WriteState =
  | { state: "idle" }
  | { state: "pending"; what: string }
  | { state: "done"; what: string; hash: string; blockNumber: string }
  | { state: "failed"; what: string; error: string };

export function WriteStatus({ status, id }: { status: WriteState; id: string }) {
  if (status.state === "idle") return <div aria-live="polite" data-testid={id} />;
  if (status.state === "pending")
    return (
      <div aria-live="polite" data-testid={id} className="notice loading" aria-busy="true">
        {status.what}: signing and sending…
      </div>
    );
  if (status.state === "failed")
    return (
      <div role="alert" data-testid={id} className="notice error" data-state="failed">
        <strong>{status.what} failed</strong>
        <p>{status.error}</p>
      </div>
    );
  return (
    <div aria-live="polite" data-testid={id} className="notice ok" data-state="done">
      {status.what}: done in block {status.blockNumber} ·{" "}
      <Link href={`/explorer/tx/${status.hash}`} className="mono">
        transaction {status.hash.slice(0, 10)}…
      </Link>
    </div>
  );
}
