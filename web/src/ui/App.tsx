import { useCallback, useEffect, useState } from "react";

import { conversationIn } from "../conversation";
import { ConversationView } from "./ConversationView";
import { Home } from "./Home";

function fromAddress(): { id: string | null; error: string } {
  return conversationIn(new URL(window.location.href));
}

/** The whole app: the home page, or a conversation (``?conversation=<id>``, a shareable link). */
export function App() {
  const [{ id, error }, setLocation] = useState(fromAddress);

  useEffect(() => {
    const onPopState = () => setLocation(fromAddress());
    window.addEventListener("popstate", onPopState);
    return () => window.removeEventListener("popstate", onPopState);
  }, []);

  const open = useCallback((conversation: string | null) => {
    const url = new URL("/", window.location.href);
    if (conversation) url.searchParams.set("conversation", conversation);
    window.history.pushState(null, "", url);
    setLocation({ id: conversation, error: "" });
  }, []);

  useEffect(() => {
    document.title = id ? `${id} · Captionist` : "Captionist";
  }, [id]);

  return id ? (
    <ConversationView key={id} conversation={id} onOpen={open} />
  ) : (
    <Home error={error} onOpen={open} />
  );
}
