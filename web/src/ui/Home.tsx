import { useState, type FormEvent } from "react";

import { newConversationId, parseJoinInput } from "../conversation";

/** Start a conversation, or join one from its id or shared link. */
export function Home({ error, onOpen }: { error: string; onOpen: (id: string) => void }) {
  const [joinText, setJoinText] = useState("");
  const [joinError, setJoinError] = useState("");

  const join = (event: FormEvent) => {
    event.preventDefault();
    const id = parseJoinInput(joinText);
    if (id) onOpen(id);
    else setJoinError("Paste a shared link or a conversation id (letters, digits, - or _).");
  };

  return (
    <main className="home">
      <h1>Captionist</h1>
      <p className="tagline">
        Live captions for conversations. Speak, and everyone following reads it as you talk.
      </p>
      {error && (
        <p className="problem" role="alert">
          {error}
        </p>
      )}
      <section aria-labelledby="start-heading" className="card">
        <h2 id="start-heading">Start a conversation</h2>
        <p>
          You get a link to share; everyone who opens it follows the captions and can speak too.
        </p>
        <button type="button" className="primary" onClick={() => onOpen(newConversationId())}>
          New conversation
        </button>
      </section>
      <section aria-labelledby="join-heading" className="card">
        <h2 id="join-heading">Join a conversation</h2>
        <form onSubmit={join} noValidate>
          <label htmlFor="join-input">Shared link or conversation id</label>
          <div className="row">
            <input
              id="join-input"
              value={joinText}
              onChange={(event) => {
                setJoinText(event.target.value);
                setJoinError("");
              }}
              autoComplete="off"
              aria-invalid={joinError ? true : undefined}
              aria-describedby={joinError ? "join-error" : undefined}
              placeholder="e.g. standup-42"
            />
            <button type="submit">Join</button>
          </div>
          {joinError && (
            <p id="join-error" className="problem" role="alert">
              {joinError}
            </p>
          )}
        </form>
      </section>
    </main>
  );
}
