/** Resolves on the event loop's next turn: long loops await it between steps so that messages, holds and aborts get handled. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
