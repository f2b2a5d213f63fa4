import { type Address, compactSignatureToSignature, type Hex, recoverTypedDataAddress } from "viem";
import { readingTypes } from "../../../src/metering/readingTypes.ts";
import { get, type ReadingDomainJson, type SignedReadingJson, type TradeDetail } from "../api.ts";
import { credits, kwh, pricePerKwh } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { Link } from "../router.tsx";
import { Empty, ErrorBox, Loading } from "../ui.tsx";

export type Verification = { ok: true; recovered: string } | { ok: false; recovered?: string; reason: string };

/**
 * Recovers the signer of a reading from its compact (EIP-2098) signature over the EIP-712 domain
 * ("PeerGrid", "1", chainId, market) and checks it is the meter that reported it.
 */
export async function verifyReading(
  domain: ReadingDomainJson,
  interval: string,
  reading: SignedReadingJson,
): Promise<Verification> {
  try {
    const recovered = await recoverTypedDataAddress({
      domain: {
        name: domain.name,
        version: domain.version,
        chainId: domain.chainId,
        verifyingContract: domain.verifyingContract as Address,
      },
      types: readingTypes,
      primaryType: "Reading",
      message: {
        meter: reading.meter as Address,
        interval: BigInt(interval),
        exportWh: BigInt(reading.exportWh),
        importWh: BigInt(reading.importWh),
      },
      signature: compactSignatureToSignature({ r: reading.r as Hex, yParityAndS: reading.vs as Hex }),
    });
    if (recovered.toLowerCase() === reading.meter.toLowerCase()) return { ok: true, recovered };
    return { ok: false, recovered, reason: `the signature recovers ${recovered}, not the meter ${reading.meter}` };
  } catch (error) {
    return {
      ok: false,
      reason: `the signature cannot be recovered: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
    };
  }
}

/** One trade of a settled interval, its settlement transaction and the two signed readings, checked here. */
export function TradePage({ interval, idx }: { interval: string; idx: string }) {
  const data = useLoad(async () => {
    const trade = await get<TradeDetail>(`/api/intervals/${interval}/trades/${idx}`);
    const [seller, buyer] = await Promise.all(
      [trade.sellerReading, trade.buyerReading].map((r) => (r ? verifyReading(trade.domain, trade.interval, r) : undefined)),
    );
    return { trade, seller, buyer };
  }, [interval, idx]);
  const t = data.data?.trade;
  return (
    <section aria-labelledby="trade-title">
      <p>
        <Link href="/explorer">← Explorer</Link>
      </p>
      <h1 id="trade-title" tabIndex={-1}>
        Trade {idx} of interval {interval}
      </h1>
      {data.error ? <ErrorBox title="Could not load this trade" error={data.error} onRetry={data.reload} /> : null}
      {!t && data.loading ? <Loading what="the trade" /> : null}
      {t && data.data ? (
        <>
          <section className="card" aria-labelledby="trade-terms">
            <h2 id="trade-terms">The trade</h2>
            <dl className="kv">
              <div className="kv-row">
                <dt>Kind</dt>
                <dd data-testid="trade-kind">
                  {t.kind}
                  {t.agreementId ? ` (agreement ${t.agreementId})` : ""}
                </dd>
              </div>
              <div className="kv-row">
                <dt>Seller</dt>
                <dd className="mono mono-wrap" data-testid="trade-seller">
                  {t.seller}
                  {t.sellerMeterId !== null ? ` · meter ${t.sellerMeterId}` : ""}
                </dd>
              </div>
              <div className="kv-row">
                <dt>Buyer</dt>
                <dd className="mono mono-wrap" data-testid="trade-buyer">
                  {t.buyer}
                  {t.buyerMeterId !== null ? ` · meter ${t.buyerMeterId}` : ""}
                </dd>
              </div>
              <div className="kv-row">
                <dt>Energy</dt>
                <dd data-testid="trade-energy">{kwh(t.energyWh)}</dd>
              </div>
              <div className="kv-row">
                <dt>Seller's price</dt>
                <dd>{pricePerKwh(t.sellerPriceMicroPerKwh)}</dd>
              </div>
              <div className="kv-row">
                <dt>Buyer's price</dt>
                <dd>{pricePerKwh(t.buyerPriceMicroPerKwh)}</dd>
              </div>
              <div className="kv-row">
                <dt>Seller received</dt>
                <dd>{credits(t.sellerReceivedMicro, 6)}</dd>
              </div>
              <div className="kv-row">
                <dt>Buyer paid</dt>
                <dd>{credits(t.buyerPaidMicro, 6)}</dd>
              </div>
              {t.tokenId ? (
                <div className="kv-row">
                  <dt>Energy token</dt>
                  <dd className="mono mono-wrap">{t.tokenId}</dd>
                </div>
              ) : null}
              <div className="kv-row">
                <dt>Settlement</dt>
                <dd>
                  <Link href={`/explorer/tx/${t.txHash}`} className="mono mono-wrap" data-testid="trade-tx">
                    {t.txHash}
                  </Link>
                </dd>
              </div>
            </dl>
          </section>
          <div className="columns">
            <ReadingCard
              side="Seller"
              party={t.seller}
              reading={t.sellerReading}
              check={data.data.seller}
              interval={t.interval}
            />
            <ReadingCard side="Buyer" party={t.buyer} reading={t.buyerReading} check={data.data.buyer} interval={t.interval} />
          </div>
          <p className="hint">
            Each reading is checked in your browser: the EIP-712 signature over Reading(meter, interval, exportWh, importWh) in
            the domain “{t.domain.name}” version {t.domain.version}, chain {t.domain.chainId}, market{" "}
            <span className="mono mono-wrap">{t.domain.verifyingContract}</span>, must recover the meter's address.
          </p>
        </>
      ) : null}
    </section>
  );
}

function ReadingCard({
  side,
  party,
  reading,
  check,
  interval,
}: {
  side: string;
  party: string;
  reading: SignedReadingJson | null;
  check: Verification | undefined;
  interval: string;
}) {
  const id = `reading-${side.toLowerCase()}`;
  return (
    <section className="card" aria-labelledby={`${id}-title`} data-testid={id}>
      <h2 id={`${id}-title`}>{side}'s meter reading</h2>
      {!reading ? (
        <Empty>No signed reading: this side is not a metered household (e.g. the grid), or it was not indexed.</Empty>
      ) : (
        <>
          <dl className="kv">
            <div className="kv-row">
              <dt>Meter</dt>
              <dd className="mono mono-wrap">
                {reading.meter} (id {reading.meterId}, zone {reading.zone})
              </dd>
            </div>
            <div className="kv-row">
              <dt>Owner</dt>
              <dd className="mono mono-wrap" data-testid={`${id}-owner`}>
                {reading.owner}{" "}
                {reading.owner.toLowerCase() === party.toLowerCase() ? (
                  <span className="verified">(the {side.toLowerCase()})</span>
                ) : (
                  <span className="unverified">(not the {side.toLowerCase()}!)</span>
                )}
              </dd>
            </div>
            <div className="kv-row">
              <dt>Interval</dt>
              <dd>{interval}</dd>
            </div>
            <div className="kv-row">
              <dt>Fed in</dt>
              <dd>{kwh(reading.exportWh)}</dd>
            </div>
            <div className="kv-row">
              <dt>Drawn</dt>
              <dd>{kwh(reading.importWh)}</dd>
            </div>
            <div className="kv-row">
              <dt>Signature</dt>
              <dd className="mono mono-wrap secret">
                r {reading.r}
                <br />
                vs {reading.vs}
              </dd>
            </div>
            {reading.txHash ? (
              <div className="kv-row">
                <dt>Submitted in</dt>
                <dd>
                  <Link href={`/explorer/tx/${reading.txHash}`} className="mono mono-wrap">
                    {reading.txHash}
                  </Link>
                </dd>
              </div>
            ) : null}
          </dl>
          {check?.ok ? (
            <p className="verified" data-testid={`${id}-check`} data-valid="true">
              <span aria-hidden="true">✔ </span>signature valid: recovered{" "}
              <span className="mono mono-wrap">{check.recovered}</span> = meter
            </p>
          ) : (
            <p className="unverified" data-testid={`${id}-check`} data-valid="false" role="alert">
              <span aria-hidden="true">✘ </span>signature NOT valid: {check?.reason ?? "not checked"}
            </p>
          )}
        </>
      )}
    </section>
  );
}
