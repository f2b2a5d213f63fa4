import { type FormEvent, useRef, useState } from "react";
import { type Block, type ChainEvent, get, type Interval, type Trade, type Tx } from "../api.ts";
import { dateTime, kwh, pricePerKwh, shortHex } from "../format.ts";
import { useLive, useLoad } from "../hooks.ts";
import { Pager, pageSizeFromUrl, useCursorPages } from "../paging.tsx";
import { Link, navigate } from "../router.tsx";
import { Empty, ErrorBox, LiveBadge, Loading } from "../ui.tsx";

/** Recent blocks holding PeerGrid transactions and the latest decoded events; search by hash or number. */
export function Explorer() {
  const pageSize = pageSizeFromUrl(15);
  const blocks = useCursorPages(
    async (before) => {
      const page = await get<{ blocks: Block[]; nextBefore: string | null }>(
        `/api/explorer/blocks?limit=${pageSize}${before ? `&before=${before}` : ""}`,
      );
      return { items: page.blocks, nextBefore: page.nextBefore };
    },
    [pageSize],
  );
  const events = useCursorPages(
    async (before) => {
      const page = await get<{ events: ChainEvent[]; nextBefore: string | null }>(
        `/api/explorer/events?limit=${pageSize}${before ? `&before=${encodeURIComponent(before)}` : ""}`,
      );
      return { items: page.events, nextBefore: page.nextBefore };
    },
    [pageSize],
  );
  const latest = useLoad(async () => {
    const interval = (await get<{ intervals: Interval[] }>("/api/intervals?limit=1")).intervals[0];
    const trades = interval
      ? (await get<{ trades: Trade[] }>(`/api/intervals/${interval.interval}/trades`)).trades.slice(0, 20)
      : [];
    return { interval, trades };
  }, []);
  const reloadSoon = useRef<ReturnType<typeof setTimeout>>(undefined);
  const live = useLive(["block", "interval"], () => {
    clearTimeout(reloadSoon.current);
    reloadSoon.current = setTimeout(() => {
      blocks.reload();
      events.reload();
      latest.reload();
    }, 300);
  });
  const [query, setQuery] = useState("");
  const [queryError, setQueryError] = useState<string>();
  const search = (e: FormEvent) => {
    e.preventDefault();
    const q = query.trim();
    if (/^0x[0-9a-fA-F]{64}$/.test(q)) navigate(`/explorer/tx/${q.toLowerCase()}`);
    else if (/^\d{1,15}$/.test(q)) navigate(`/explorer/block/${q}`);
    else setQueryError("Enter a transaction hash (0x and 64 hex digits) or a block number.");
  };
  return (
    <section aria-labelledby="explorer-title">
      <div className="title-row">
        <h1 id="explorer-title" tabIndex={-1}>
          Explorer
        </h1>
        <LiveBadge status={live} />
      </div>
      <search>
        <form className="search" onSubmit={search}>
          <label htmlFor="explorer-query">Transaction hash or block number</label>
          <div className="row">
            <input
              id="explorer-query"
              value={query}
              onChange={(e) => {
                setQuery(e.target.value);
                setQueryError(undefined);
              }}
              aria-invalid={queryError ? true : undefined}
              aria-describedby={queryError ? "explorer-query-error" : undefined}
              autoComplete="off"
              spellCheck={false}
            />
            <button type="submit">Go</button>
          </div>
          {queryError ? (
            <p id="explorer-query-error" className="field-error">
              {queryError}
            </p>
          ) : null}
        </form>
      </search>
      {blocks.error || events.error || latest.error ? (
        <ErrorBox
          title="Could not load the explorer"
          error={(blocks.error ?? events.error ?? latest.error) as string}
          onRetry={() => {
            blocks.reload();
            events.reload();
            latest.reload();
          }}
        />
      ) : null}
      <div className="columns">
        <section className="card" aria-labelledby="blocks-title">
          <h2 id="blocks-title">Recent blocks</h2>
          {!blocks.data && blocks.loading ? <Loading what="blocks" /> : null}
          {blocks.data?.items.length === 0 ? <Empty>No block holds a PeerGrid transaction yet.</Empty> : null}
          {blocks.data && blocks.data.items.length > 0 ? (
            <ul className="list" data-testid="blocks" aria-describedby="blocks-pages-range">
              {blocks.data.items.map((b) => (
                <li key={b.number}>
                  <Link href={`/explorer/block/${b.number}`}>Block {b.number}</Link>
                  <span className="hint">
                    {" "}
                    · {b.transactions} tx · {dateTime(b.timestamp)}
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
          <Pager id="blocks-pages" what="blocks" pages={blocks} pageSize={pageSize} />
        </section>
        <section className="card" aria-labelledby="trades-title">
          <h2 id="trades-title">
            {latest.data?.interval ? `Trades of interval ${latest.data.interval.interval}` : "Latest trades"}
          </h2>
          {!latest.data && latest.loading ? <Loading what="the latest trades" /> : null}
          {latest.data?.trades.length === 0 ? <Empty>No trade in the latest settled interval.</Empty> : null}
          {latest.data && latest.data.trades.length > 0 ? (
            <ul className="list" data-testid="latest-trades">
              {latest.data.trades.map((t) => (
                <li key={`${t.interval}-${t.index}`}>
                  <Link href={`/explorer/trade/${t.interval}/${t.index}`}>
                    Trade {t.index}: {kwh(t.energyWh)}
                  </Link>
                  <span className="hint">
                    {" "}
                    · {t.kind} · {pricePerKwh(t.buyerPriceMicroPerKwh)} · {shortHex(t.seller)} → {shortHex(t.buyer)}
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
        </section>
        <section className="card" aria-labelledby="events-title">
          <h2 id="events-title">Latest events</h2>
          {!events.data && events.loading ? <Loading what="events" /> : null}
          {events.data?.items.length === 0 ? <Empty>No events yet.</Empty> : null}
          {events.data && events.data.items.length > 0 ? (
            <ul className="list" data-testid="events" aria-describedby="events-pages-range">
              {events.data.items.map((e) => (
                <li key={`${e.txHash}-${e.logIndex}`} data-block={e.blockNumber} data-log-index={e.logIndex}>
                  <Link href={`/explorer/tx/${e.txHash}`}>{e.name}</Link>
                  <span className="hint">
                    {" "}
                    · {e.contract} · block {e.blockNumber}
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
          <Pager id="events-pages" what="events" pages={events} pageSize={pageSize} />
        </section>
      </div>
    </section>
  );
}

export function BlockPage({ number }: { number: string }) {
  const data = useLoad(() => get<Block & { txs: Tx[] }>(`/api/explorer/blocks/${number}`), [number]);
  return (
    <section aria-labelledby="block-title">
      <p>
        <Link href="/explorer">← Explorer</Link>
      </p>
      <h1 id="block-title" tabIndex={-1}>
        Block {number}
      </h1>
      {data.error ? <ErrorBox title="Block not found" error={data.error} onRetry={data.reload} /> : null}
      {!data.data && data.loading ? <Loading what="the block" /> : null}
      {data.data ? (
        <>
          <dl className="kv card">
            <dt>Hash</dt>
            <dd className="mono wrap">{data.data.hash}</dd>
            <dt>Parent</dt>
            <dd className="mono wrap">{data.data.parentHash}</dd>
            <dt>Time</dt>
            <dd>{dateTime(data.data.timestamp)}</dd>
          </dl>
          <section className="card" aria-labelledby="block-txs">
            <h2 id="block-txs">PeerGrid transactions</h2>
            <ul className="list">
              {data.data.txs.map((t) => (
                <li key={t.hash}>
                  <Link href={`/explorer/tx/${t.hash}`}>{shortHex(t.hash, 8)}</Link>
                  <span className="hint">
                    {" "}
                    · {t.contract ?? "?"}.{t.functionName ?? "?"} · {t.status}
                  </span>
                </li>
              ))}
            </ul>
          </section>
        </>
      ) : null}
    </section>
  );
}

function Value({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <>–</>;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return <span className="mono wrap">{String(value)}</span>;
  }
  return <pre className="mono wrap">{JSON.stringify(value, null, 1)}</pre>;
}

/** A transaction with its decoded events. */
export function TxPage({ hash }: { hash: string }) {
  const data = useLoad(() => get<Tx & { events: ChainEvent[] }>(`/api/explorer/tx/${hash}`), [hash]);
  const tx = data.data;
  return (
    <section aria-labelledby="tx-title">
      <p>
        <Link href="/explorer">← Explorer</Link>
      </p>
      <h1 id="tx-title" tabIndex={-1}>
        Transaction
      </h1>
      <p className="mono wrap" data-testid="tx-hash">
        {hash}
      </p>
      {data.error ? <ErrorBox title="Transaction not found" error={data.error} onRetry={data.reload} /> : null}
      {!tx && data.loading ? <Loading what="the transaction" /> : null}
      {tx ? (
        <>
          <dl className="kv card">
            <dt>Call</dt>
            <dd data-testid="tx-call">
              {tx.contract ?? "?"}.{tx.functionName ?? "?"}
            </dd>
            <dt>Status</dt>
            <dd>{tx.status}</dd>
            <dt>Block</dt>
            <dd>
              <Link href={`/explorer/block/${tx.blockNumber}`}>{tx.blockNumber}</Link> (index {tx.index})
            </dd>
            <dt>From</dt>
            <dd className="mono wrap">{tx.from}</dd>
            <dt>To</dt>
            <dd className="mono wrap">{tx.to ?? "–"}</dd>
            <dt>Gas used</dt>
            <dd>{tx.gasUsed}</dd>
          </dl>
          <section aria-labelledby="tx-events">
            <h2 id="tx-events">Events ({tx.events.length})</h2>
            {tx.events.length === 0 ? <Empty>This transaction logged no event.</Empty> : null}
            <ol className="events">
              {tx.events.map((e) => (
                <li key={e.logIndex} className="card" data-testid="tx-event">
                  <h3>
                    {e.name}{" "}
                    <span className="hint">
                      · {e.contract} · log {e.logIndex}
                    </span>
                  </h3>
                  {e.args && typeof e.args === "object" ? (
                    <dl className="kv">
                      {Object.entries(e.args as Record<string, unknown>).map(([k, v]) => (
                        <div key={k} className="kv-row">
                          <dt>{k}</dt>
                          <dd>
                            <Value value={v} />
                          </dd>
                        </div>
                      ))}
                    </dl>
                  ) : (
                    <Value value={e.args} />
                  )}
                </li>
              ))}
            </ol>
          </section>
        </>
      ) : null}
    </section>
  );
}
