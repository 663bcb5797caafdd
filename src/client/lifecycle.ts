/**
 * The host's hints that a connection is worth retrying now: a browser coming back online, a tab
 * becoming visible again, a page restored from the back/forward cache. In Node there are none.
 */
export interface Lifecycle {
  /** False while the host knows it is offline (no attempt is made then). */
  online(): boolean;
  /** Calls `wake` on every hint; returns a function that stops listening. */
  listen(wake: () => void): () => void;
}

type Target = {
  addEventListener(name: string, listener: () => void): void;
  removeEventListener(name: string, listener: () => void): void;
};
type BrowserGlobals = Partial<Target> & {
  navigator?: { onLine?: boolean };
  document?: Target & { visibilityState?: string };
};

/** The browser's lifecycle, or a quiet one where there is no `window` (Node, workers without DOM). */
export function hostLifecycle(): Lifecycle {
  const host = globalThis as BrowserGlobals;
  return {
    online: () => host.navigator?.onLine !== false,
    listen(wake) {
      const { addEventListener, removeEventListener, document } = host;
      if (typeof addEventListener !== 'function' || typeof removeEventListener !== 'function')
        return () => {};
      const onVisible = (): void => {
        if (document?.visibilityState !== 'hidden') wake();
      };
      addEventListener.call(host, 'online', wake);
      addEventListener.call(host, 'pageshow', wake);
      document?.addEventListener('visibilitychange', onVisible);
      return () => {
        removeEventListener.call(host, 'online', wake);
        removeEventListener.call(host, 'pageshow', wake);
        document?.removeEventListener('visibilitychange', onVisible);
      };
    },
  };
}
