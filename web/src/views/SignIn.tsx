import { useState } from "react";
import {
  ApiFailure,
  type DemoAccount,
  describeError,
  get,
  injectedWallet,
  type Session,
  signInWithDemoKey,
  signInWithInjectedWallet,
} from "../api.ts";
import { useLoad } from "../hooks.ts";
import { ErrorBox, Loading } from "../ui.tsx";

const GROUPS = [
  ["household", "Households"],
  ["operator", "Community operator"],
  ["gridOperator", "Grid operator"],
] as const;

/** Sign-in: the embedded demo's households from a picker, or a browser wallet (EIP-1193). */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const demo = useLoad(async () => {
    try {
      return await get<{ accounts: DemoAccount[]; warning: string }>("/api/demo/accounts");
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 404) return null; // not the embedded demo
      throw error;
    }
  }, []);
  const [chosen, setChosen] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const run = async (how: () => Promise<Session>) => {
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await how());
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const accounts = demo.data?.accounts ?? [];
  const account = accounts.find((a) => a.address === chosen) ?? accounts[0];

  return (
    <section aria-labelledby="signin-title" className="narrow">
      <h1 id="signin-title" tabIndex={-1}>
        Sign in
      </h1>
      <p>Sign in with Ethereum (EIP-4361): your wallet signs a one-time message; no transaction, no fee.</p>
      {error ? <ErrorBox title="Sign-in failed" error={error} /> : null}
      {demo.loading && !demo.data ? <Loading what="demo households" /> : null}
      {demo.error ? (
        <ErrorBox title="Could not ask the server for demo households" error={demo.error} onRetry={demo.reload} />
      ) : null}
      {account ? (
        <form
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => signInWithDemoKey(account));
          }}
        >
          <h2>Demo account</h2>
          <p className="hint">
            This server runs the embedded demo community; its households' and operators' keys derive from a public seed (demo
            only).
          </p>
          <label htmlFor="demo-account">Household or operator</label>
          <select id="demo-account" value={account.address} onChange={(e) => setChosen(e.target.value)} disabled={busy}>
            {GROUPS.map(([role, name]) => {
              const members = accounts.filter((a) => (a.role ?? "household") === role);
              return members.length === 0 ? null : (
                <optgroup key={role} label={name}>
                  {members.map((a) => (
                    <option key={a.address} value={a.address}>
                      {a.label} — {a.address.slice(0, 8)}…
                    </option>
                  ))}
                </optgroup>
              );
            })}
          </select>
          <button type="submit" disabled={busy}>
            {busy
              ? "Signing in…"
              : (account.role ?? "household") === "household"
                ? "Sign in as this household"
                : "Sign in as this operator"}
          </button>
        </form>
      ) : null}
      <div className="card">
        <h2>Your wallet</h2>
        {injectedWallet() ? (
          <p className="hint">Your browser wallet will ask you to sign the message.</p>
        ) : (
          <p className="hint">
            No browser wallet found. Install one (e.g. a browser extension) to sign in with your own account.
          </p>
        )}
        <button type="button" onClick={() => void run(signInWithInjectedWallet)} disabled={busy || !injectedWallet()}>
          Connect wallet
        </button>
      </div>
    </section>
  );
}
