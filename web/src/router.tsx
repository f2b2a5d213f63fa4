import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from "react";

/** The app's routes live in the URL path (the server answers index.html for them). */
export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    window.addEventListener("popstate", update);
    window.addEventListener("peergrid:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("peergrid:navigate", update);
    };
  }, []);
  return path;
}

export function navigate(to: string) {
  if (to === window.location.pathname) return;
  window.history.pushState(null, "", to);
  window.dispatchEvent(new Event("peergrid:navigate"));
  window.scrollTo(0, 0);
}

/** An ordinary link (keyboard, middle-click, copy) that navigates inside the app on a plain click. */
export function Link({ href, onClick, children, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const follow = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} {...rest} onClick={follow}>
      {children}
    </a>
  );
}
