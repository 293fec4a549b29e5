/** Conversation ids in the page's address: what a shared link carries. */

import { CONVERSATION_ID } from "./protocol";

/** A fresh id: 12 random characters from the contract's alphabet (about 71 bits). */
export function newConversationId(
  random: (bytes: Uint8Array<ArrayBuffer>) => void = (b) => crypto.getRandomValues(b),
): string {
  const alphabet = "abcdefghijkmnopqrstuvwxyz23456789"; // no l/1/0: the id may be read aloud
  const bytes = new Uint8Array(12);
  random(bytes);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join("");
}

/** The conversation ``url`` names (``?conversation=``): the id, ``null`` if none, or an error. */
export function conversationIn(url: URL): { id: string | null; error: string } {
  const id = url.searchParams.get("conversation");
  if (id === null || id === "") return { id: null, error: "" };
  if (!CONVERSATION_ID.test(id)) {
    return {
      id: null,
      error: `"${id.slice(0, 80)}" is not a conversation id (1 to 64 letters, digits, - or _).`,
    };
  }
  return { id, error: "" };
}

/** The link that opens ``conversation`` on this site. */
export function shareLink(conversation: string, page: Location = window.location): string {
  const url = new URL("/", page.href);
  url.searchParams.set("conversation", conversation);
  return url.toString();
}

/** A conversation id from what a user pasted: a shared link or the bare id. */
export function parseJoinInput(input: string): string | null {
  const text = input.trim();
  if (CONVERSATION_ID.test(text)) return text;
  try {
    return conversationIn(new URL(text)).id;
  } catch {
    return null;
  }
}
