import { type FormEvent, useState } from "react";
import { checkAmount } from "../amount.ts";
import { type Call, describeError, type Funds, type Session } from "../api.ts";
import { credits, toInput } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { ErrorBox, Loading, Stat, type WriteState, WriteStatus } from "../ui.tsx";
import { communityCreditAbi, contractsOnce, energyMarketAbi, signAndRelay, signingSupport } from "../wallet.ts";

type Kind = "deposit" | "withdraw";

/** Exact credits, for limits and messages. */
const exact = (micro: string) => credits(micro, 6);

/**
 * The household's money for buying: the settlement tokens in its wallet and those escrowed in the market,
 * with a deposit (approve, if the market may not take enough yet, then depositFor) and a withdrawal, each
 * signed in the browser. The balances are the chain's, reloaded after each write and on the live feed.
 */
export function FundsCard({
  session,
  call,
  version,
}: {
  session: Session;
  call: Call;
  /** Changes when the page reloads on the live feed (an account's escrow moved, an interval settled). */
  version: number;
}) {
  const me = session.address.toLowerCase();
  const funds = useLoad(() => call<Funds>(`/api/accounts/${me}/funds`), [me, call, version]);
  const [values, setValues] = useState<Record<Kind, string>>({ deposit: "", withdraw: "" });
  const [errors, setErrors] = useState<Partial<Record<Kind, string>>>({});
  const [status, setStatus] = useState<Record<Kind, WriteState>>({ deposit: { state: "idle" }, withdraw: { state: "idle" } });
  const support = signingSupport(session);
  const f = funds.data;

  const submit = async (kind: Kind, e: FormEvent) => {
    e.preventDefault();
    if (!f) return;
    const checked =
      kind === "deposit"
        ? checkAmount(values.deposit, BigInt(f.walletMicro), "your wallet")
        : checkAmount(values.withdraw, BigInt(f.escrowMicro), "your escrow");
    setErrors((x) => ({ ...x, [kind]: "error" in checked ? checked.error : undefined }));
    if ("error" in checked) {
      document.getElementById(`funds-${kind}`)?.focus();
      return;
    }
    const amount = checked.value;
    const set = (s: WriteState) => setStatus((x) => ({ ...x, [kind]: s }));
    const what = kind === "deposit" ? `Depositing ${exact(amount.toString())}` : `Withdrawing ${exact(amount.toString())}`;
    try {
      let result: Awaited<ReturnType<typeof signAndRelay>>;
      if (kind === "deposit") {
        // The market takes the tokens with transferFrom: allow it this amount first, unless it may already.
        const fresh = await call<Funds>(`/api/accounts/${me}/funds`);
        const approve = BigInt(fresh.allowanceMicro) < amount;
        if (approve) {
          set({ state: "pending", what: `Allowing the market to take ${exact(amount.toString())} (1 of 2)` });
          await signAndRelay(session, call, {
            endpoint: `/api/accounts/${me}/approve`,
            method: "POST",
            contract: "settlementToken",
            abi: communityCreditAbi,
            functionName: "approve",
            args: [(await contractsOnce()).market, amount],
          });
        }
        set({ state: "pending", what: approve ? `${what} (2 of 2)` : what });
        result = await signAndRelay(session, call, {
          endpoint: `/api/accounts/${me}/deposit`,
          method: "POST",
          contract: "market",
          abi: energyMarketAbi,
          functionName: "depositFor",
          args: [me, amount],
        });
      } else {
        set({ state: "pending", what });
        result = await signAndRelay(session, call, {
          endpoint: `/api/accounts/${me}/withdraw`,
          method: "POST",
          contract: "market",
          abi: energyMarketAbi,
          functionName: "withdraw",
          args: [amount],
        });
      }
      set({
        state: "done",
        what: kind === "deposit" ? `Deposited ${exact(amount.toString())}` : `Withdrew ${exact(amount.toString())}`,
        hash: result.hash,
        blockNumber: result.blockNumber,
      });
      setValues((v) => ({ ...v, [kind]: "" }));
    } catch (error) {
      set({ state: "failed", what, error: describeError(error) });
    }
    funds.reload();
  };

  const form = (kind: Kind) => {
    const label = kind === "deposit" ? "Deposit (credits)" : "Withdraw (credits)";
    const limit = f ? (kind === "deposit" ? f.walletMicro : f.escrowMicro) : "0";
    const hint =
      f && limit === "0"
        ? kind === "deposit"
          ? "your wallet holds no settlement tokens: withdraw some from escrow, or get some from the community operator"
          : "nothing in escrow to withdraw"
        : kind === "deposit"
          ? `from your wallet into escrow; at most ${toInput(limit, 6)}`
          : `from escrow back to your wallet; at most ${toInput(limit, 6)}`;
    const pending = status[kind].state === "pending";
    return (
      <form onSubmit={(e) => void submit(kind, e)} noValidate aria-describedby="funds-signing" className="field">
        <label htmlFor={`funds-${kind}`}>{label}</label>
        <input
          id={`funds-${kind}`}
          inputMode="decimal"
          autoComplete="off"
          value={values[kind]}
          onChange={(e) => setValues((v) => ({ ...v, [kind]: e.target.value }))}
          aria-invalid={errors[kind] ? true : undefined}
          aria-describedby={`funds-${kind}-hint${errors[kind] ? ` funds-${kind}-error` : ""}`}
        />
        <span id={`funds-${kind}-hint`} className="hint">
          {hint}
        </span>
        {errors[kind] ? (
          <p id={`funds-${kind}-error`} className="field-error">
            {label}: {errors[kind]}
          </p>
        ) : null}
        <button type="submit" disabled={!support.ok || !f || pending}>
          {pending ? "Signing…" : kind === "deposit" ? "Sign and deposit" : "Sign and withdraw"}
        </button>
      </form>
    );
  };

  return (
    <section aria-labelledby="funds-title" className="card">
      <h2 id="funds-title">Funds</h2>
      <p className="hint">
        What you buy from neighbours and the grid is paid from your escrow in the market; what you sell is paid into it. Deposit
        settlement tokens from your wallet to keep buying, or withdraw them back.
      </p>
      {funds.error ? <ErrorBox title="Could not load your funds" error={funds.error} onRetry={funds.reload} /> : null}
      {!f && funds.loading ? <Loading what="your funds" /> : null}
      {f ? (
        <dl className="stats">
          <Stat id="funds-wallet" label="In your wallet" value={exact(f.walletMicro)} hint="settlement tokens you hold" />
          <Stat id="funds-escrow" label="In escrow" value={exact(f.escrowMicro)} hint="what buying is paid from" />
        </dl>
      ) : null}
      <div className="form-grid">
        {form("deposit")}
        {form("withdraw")}
      </div>
      <WriteStatus status={status.deposit} id="funds-deposit-status" />
      <WriteStatus status={status.withdraw} id="funds-withdraw-status" />
      <p id="funds-signing" className="hint">
        {support.ok ? `Signed with ${support.how}.` : support.why}
      </p>
    </section>
  );
}
