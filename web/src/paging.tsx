import { useCallback, useState } from "react";
import { type Loaded, useLoad } from "./hooks.ts";

/** One page of an API list (newest first) and the cursor of the next, older page (null: the list ends here). */
export type CursorPage<T> = { items: T[]; nextBefore: string | null };

/** Rows per page when the URL does not say (`?pageSize=`). */
export const DEFAULT_PAGE_SIZE = 20;

/**
 * The page size of a view's lists: `?pageSize=N` in the address (1–100), else `fallback`. A reader can ask
 * for longer pages, and the browser tests for short ones over the demo community's real data.
 */
export function pageSizeFromUrl(fallback = DEFAULT_PAGE_SIZE, search = window.location.search): number {
  const asked = new URLSearchParams(search).get("pageSize");
  if (asked === null || !/^\d{1,3}$/.test(asked)) return fallback;
  return Math.min(100, Math.max(1, Number(asked)));
}

export type CursorPages<P extends CursorPage<unknown>> = Loaded<P> & {
  /** 0 for the newest page. */
  index: number;
  older(): void;
  newer(): void;
};

/**
 * Pages of a list the API hands out newest first with `before` cursors: "older" follows the page's
 * `nextBefore`, "newer" goes back to the cursor it came from. A reload (the live feed) refetches the page
 * shown; cursors are positions in the list, so an older page stays as it was when newer rows arrive.
 */
export function useCursorPages<P extends CursorPage<unknown>>(
  fetchPage: (before: string | undefined) => Promise<P>,
  deps: readonly unknown[],
): CursorPages<P> {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const before = cursors[cursors.length - 1];
  const page = useLoad(() => fetchPage(before), [...deps, before]);
  const next = page.data?.nextBefore ?? null;
  const older = useCallback(() => {
    if (next !== null) setCursors((c) => (c[c.length - 1] === before ? [...c, next] : c));
  }, [next, before]);
  const newer = useCallback(() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)), []);
  return { ...page, index: cursors.length - 1, older, newer };
}

/**
 * "Newer" / "Load older" buttons under a list, with how many rows are shown ("Showing trades 21–40")
 * and the end of the list. The buttons stay focusable when they cannot act (aria-disabled), so the
 * keyboard focus is not lost at either end.
 */
export function Pager({
  id,
  what,
  pages,
  pageSize,
  labels = { newer: "Newer", older: "Load older" },
}: {
  /** Prefix of the test ids (`${id}-range`) and the element ids. */
  id: string;
  /** The rows' name, plural: "trades". */
  what: string;
  pages: CursorPages<CursorPage<unknown>>;
  pageSize: number;
  /** The buttons' names: "Newer" / "Load older" for lists in time order, others for e.g. address order. */
  labels?: { newer: string; older: string };
}) {
  const data = pages.data;
  if (!data || (pages.index === 0 && data.items.length === 0)) return null;
  const first = pages.index * pageSize + 1;
  const last = first + data.items.length - 1;
  const end = data.nextBefore === null;
  const hasNewer = pages.index > 0;
  return (
    <nav className="pager" aria-label={`Pages of ${what}`}>
      <p className="pager-range" id={`${id}-range`} data-testid={`${id}-range`} aria-live="polite" aria-busy={pages.loading}>
        Showing {what} {first}–{last}
        {end ? " · end of the list" : ""}
        {pages.loading ? " · loading…" : ""}
      </p>
      {/* One page holds the whole list: nothing to page through. */}
      {pages.index === 0 && end ? null : (
        <div className="pager-buttons">
          <button
            type="button"
            className="secondary"
            aria-disabled={!hasNewer || pages.loading}
            aria-describedby={`${id}-range`}
            onClick={() => {
              if (hasNewer && !pages.loading) pages.newer();
            }}
          >
            {labels.newer}
          </button>
          <button
            type="button"
            className="secondary"
            aria-disabled={end || pages.loading}
            aria-describedby={`${id}-range`}
            onClick={() => {
              if (!end && !pages.loading) pages.older();
            }}
          >
            {labels.older}
          </button>
        </div>
      )}
    </nav>
  );
}
