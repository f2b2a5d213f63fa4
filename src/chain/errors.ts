import { type Abi, ContractFunctionRevertedError, decodeErrorResult, type Hex, BaseError as ViemBaseError } from "viem";

/**
 * The one error type of PeerGrid: a short message saying what was wrong, optional details, a hint
 * saying what to do next, and the cause chain. `retryable` tells callers whether trying again can help.
 */
export class PeerGridError extends Error {
  override name = "PeerGridError";
  readonly details: string | undefined;
  readonly hint: string | undefined;
  readonly retryable: boolean;

  constructor(message: string, options: { cause?: unknown; details?: string; hint?: string; retryable?: boolean } = {}) {
    super(
      [message, options.details && `Details: ${options.details}`, options.hint && `Hint: ${options.hint}`]
        .filter(Boolean)
        .join("\n"),
      { cause: options.cause },
    );
    this.details = options.details;
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
  }
}

/** A contract call reverted with one of our custom errors; `errorName` and `args` say which and why. */
export class ContractRevertError extends PeerGridError {
  override name = "ContractRevertError";
  constructor(
    readonly errorName: string,
    readonly args: Record<string, unknown>,
    readonly action: string,
    cause?: unknown,
  ) {
    const shown = Object.entries(args)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(", ");
    super(`${action} was refused by the contract: ${errorName}(${shown})`, { cause, hint: hints[errorName] });
  }
}

const hints: Record<string, string> = {
  InvalidReadingSignature: "the reading was not signed by this meter's key for this chain and market; drop it",
  UnknownMeter: "register the meter with the operator first (registry.registerMeter)",
  MeterInactive: "the meter was deactivated; register its replacement",
  IntervalNotEnded: "submit readings only after the interval has ended",
  ReadingWindowClosed: "the reading window has passed; the interval is settled without this reading",
  InsufficientEscrow: "deposit more settlement tokens into escrow, or lower the cap",
  InsufficientGridEscrow: "the grid account must deposit funds to buy the community's surplus",
  AccessControlUnauthorizedAccount: "this account lacks the role; ask the community operator",
  IntervalOutOfOrder: "settle intervals in order, starting with nextIntervalToSettle()",
  IntervalNotClosed: "wait until the interval's reading window has closed",
  IntervalAlreadySettled: "nothing to do: the interval is settled; its readings can no longer change",
  ReadingBeforeMeterRegistered: "a new meter reports from the first interval that starts after its registration",
  InvalidTiming: "intervals must last at least one second",
  ReadingsNotSorted: "send an interval's readings in increasing meter id (the keeper sorts them)",
  EntriesDoNotMatchReadings: "rebuild the entries from the recorded readings (market.readRecordedReadings), in book order",
  InvalidEnergyProof: "take the claim and proof from the interval's energy tree (settlementData.energyTree)",
  EnergyAlreadyClaimed: "nothing to do: these energy tokens were minted already",
  IntervalNotSettled: "energy can be claimed once the interval is settled",
  InvalidOrder: "give the buy side both a bid and a cap, or neither; each value must fit in 32 bits",
  NotAnActiveParticipant: "the operator must register (or reactivate) this account first",
  ClearingIncomplete: "list exactly one entry per reading recorded in the interval",
  PriceOutOfBounds: "recompute the clearing with the engine (src/core/clearing.ts); it gives the only valid one",
  PriceBoundNotEquilibrium: "recompute the clearing with the engine (src/core/clearing.ts); it gives the only valid one",
  PriceBoundNotExtreme: "recompute the clearing with the engine (src/core/clearing.ts); it gives the only valid one",
};

/** Finds revert data anywhere in a viem error's cause chain. */
function revertData(error: unknown): Hex | undefined {
  let e: unknown = error;
  while (e && typeof e === "object") {
    if (e instanceof ContractFunctionRevertedError && e.raw) return e.raw;
    const data = (e as { data?: unknown }).data;
    if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) return data as Hex;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns whatever a chain call threw into a PeerGridError: a decoded contract revert when the data
 * matches an error of `abi`, otherwise a generic error keeping the cause.
 * @example try { await send(...) } catch (e) { throw toPeerGridError(e, energyMarketAbi, "submitReadings") }
 */
export function toPeerGridError(error: unknown, abi: Abi, action: string): PeerGridError {
  if (error instanceof PeerGridError) return error;
  const data = revertData(error);
  if (data) {
    try {
      const decoded = decodeErrorResult({ abi, data });
      const inputs = abi.find((x) => x.type === "error" && x.name === decoded.errorName);
      const names = inputs && "inputs" in inputs ? inputs.inputs.map((i, n) => i.name || `arg${n}`) : [];
      const args = Object.fromEntries((decoded.args ?? []).map((v, i) => [names[i] ?? `arg${i}`, v]));
      return new ContractRevertError(decoded.errorName, args, action, error);
    } catch {}
  }
  const short = error instanceof ViemBaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  return new PeerGridError(`${action} failed: ${short}`, { cause: error, retryable: true });
}
