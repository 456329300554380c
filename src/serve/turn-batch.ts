// Work that arrives in one event-loop turn, done together right after the turn's I/O (setImmediate):
// explained requests then walk the explainer's tables back to back, while they are in the caches,
// instead of between HTTP work that evicts them. An item waits at most for the rest of its turn.

export class TurnBatch<Item> {
  private items: Item[] = [];

  /** `run` gets every item added in one turn, in the order they came. */
  constructor(private readonly run: (items: Item[]) => void) {}

  add(item: Item): void {
    if (this.items.push(item) === 1) setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const items = this.items;
    this.items = [];
    this.run(items);
  };
}
