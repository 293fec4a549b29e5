import { useSyncExternalStore } from "react";

import type { Store } from "../store";

/** The current value of ``store``, re-rendering when it changes. */
export function useStore<T>(store: Store<T>): T {
  return useSyncExternalStore(store.subscribe, store.get);
}
