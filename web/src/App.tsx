import { useCallback, useEffect, useRef, useState } from "react";
import type { Session } from "./api.ts";
import { Link, navigate, usePath } from "./router.tsx";
import { Community } from "./views/Community.tsx";
import { BlockPage, Explorer, TxPage } from "./views/Explorer.tsx";
import { Household } from "./views/Household.tsx";
import { Market } from "./views/Market.tsx";
import { Operator } from "./views/Operator.tsx";
import { SignIn } from "./views/SignIn.tsx";
import { TradePage } from "./views/Trade.tsx";

const STORAGE = "peergrid.session";

function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

export function App() {
  const path = usePath();
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const saveSession = useCallback((s: Session | undefined) => {
    if (s) sessionStorage.setItem(STORAGE, JSON.stringify(s));
    else sessionStorage.removeItem(STORAGE);
    setSession(s);
  }, []);
  // A renewed demo session replaces the token without re-rendering the views that use it.
  const renew = useCallback((s: Session) => sessionStorage.setItem(STORAGE, JSON.stringify(s)), []);
  const signOut = async () => {
    if (session) {
      await fetch("/api/auth/signout", { method: "POST", headers: { authorization: `Bearer ${session.token}` } }).catch(() => {});
    }
    saveSession(undefined);
    navigate("/signin");
  };

  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  const main = useRef<HTMLElement>(null);
  const shownPath = useRef(path);
  useEffect(() => {
    if (shownPath.current === path) return; // the first page keeps the browser's focus
    shownPath.current = path;
    main.current?.querySelector<HTMLElement>("h1")?.focus();
  }, [path]);

  let page: React.ReactNode;
  let title = "PeerGrid";
  const tx = /^\/explorer\/tx\/(0x[0-9a-fA-F]{64})$/.exec(path);
  const block = /^\/explorer\/block\/(\d+)$/.exec(path);
  const trade = /^\/explorer\/trade\/(\d+)\/(\d+)$/.exec(path);
  const isOperator = session?.roles.some((r) => r === "operator" || r === "gridOperator") ?? false;
  if (path === "/signin" || ((path === "/" || path === "/household") && !session)) {
    title = "Sign in · PeerGrid";
    page = (
      <SignIn
        onSignedIn={(s) => {
          saveSession(s);
          const operator = s.roles.some((r) => r === "operator" || r === "gridOperator");
          navigate(operator && !s.roles.includes("household") ? "/operator" : "/household");
        }}
      />
    );
  } else if ((path === "/" || path === "/household") && session) {
    title = "Household · PeerGrid";
    page = <Household key={session.token} session={session} renew={renew} />;
  } else if (path === "/operator") {
    title = "Operator · PeerGrid";
    page = session ? (
      <Operator key={session.token} session={session} renew={renew} />
    ) : (
      <section>
        <h1 tabIndex={-1}>Operator</h1>
        <p>
          <Link href="/signin">Sign in</Link> with an operator's or grid operator's wallet to use this page.
        </p>
      </section>
    );
  } else if (path === "/community") {
    title = "Community · PeerGrid";
    page = <Community />;
  } else if (trade?.[1] && trade[2]) {
    title = `Trade ${trade[2]} of interval ${trade[1]} · PeerGrid`;
    page = <TradePage interval={trade[1]} idx={trade[2]} />;
  } else if (path === "/market") {
    title = "Market · PeerGrid";
    page = <Market />;
  } else if (path === "/explorer") {
    title = "Explorer · PeerGrid";
    page = <Explorer />;
  } else if (tx?.[1]) {
    title = "Transaction · PeerGrid";
    page = <TxPage hash={tx[1].toLowerCase()} />;
  } else if (block?.[1]) {
    title = `Block ${block[1]} · PeerGrid`;
    page = <BlockPage number={block[1]} />;
  } else {
    title = "Not found · PeerGrid";
    page = (
      <section>
        <h1 tabIndex={-1}>Page not found</h1>
        <p>
          There is no page at <code>{path}</code>. <Link href="/">Go to the start page</Link>.
        </p>
      </section>
    );
  }
  useEffect(() => {
    document.title = title;
  }, [title]);

  const current = (prefix: string) =>
    (prefix === "/household" ? session !== undefined && (path === "/" || path === "/household") : path.startsWith(prefix))
      ? ("page" as const)
      : undefined;
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          PeerGrid
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link href="/household" aria-current={current("/household")}>
                Household
              </Link>
            </li>
            <li>
              <Link href="/market" aria-current={current("/market")}>
                Market
              </Link>
            </li>
            <li>
              <Link href="/community" aria-current={current("/community")}>
                Community
              </Link>
            </li>
            <li>
              <Link href="/explorer" aria-current={current("/explorer")}>
                Explorer
              </Link>
            </li>
            {isOperator ? (
              <li>
                <Link href="/operator" aria-current={current("/operator")}>
                  Operator
                </Link>
              </li>
            ) : null}
          </ul>
        </nav>
        <div className="who">
          {session ? (
            <>
              <span className="hint mono" title={session.address} data-testid="signed-in-as">
                {session.label?.split(" (")[0] ?? `${session.address.slice(0, 8)}…`}
              </span>
              <button type="button" className="link" onClick={() => void signOut()}>
                Sign out
              </button>
            </>
          ) : (
            <Link href="/signin">Sign in</Link>
          )}
        </div>
      </header>
      <main id="main" ref={main}>
        {page}
      </main>
      <footer className="foot">
        <a href="/api/docs">API</a> · Energy in kWh, money in community credits
      </footer>
    </>
  );
}
