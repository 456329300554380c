// `data stats`: how many documents a collection holds and, per schema field, how many lack a value,
// read in one streaming pass with a projection so that memory stays flat whatever the size.
import type { Schema } from '../schema/schema.js';
import type { DocumentStore } from '../store/types.js';

export interface CollectionStats {
  store: string;
  collection: string;
  count: number;
  /** Per schema field: documents where it is absent or null. */
  missing: Record<string, number>;
}

export async function collectionStats(
  store: DocumentStore,
  collection: string,
  schema: Schema,
  batchSize = 5000,
): Promise<CollectionStats> {
  const names = schema.fields.map((field) => field.name);
  const missing = new Array<number>(names.length).fill(0);
  const projection: Record<string, 1> = {};
  for (const name of names) projection[name] = 1;
  let count = 0;
  for await (const document of store.collection(collection).find({}, { projection, batchSize })) {
    count++;
    for (let i = 0; i < names.length; i++) {
      const value = document[names[i]];
      if (value === undefined || value === null) missing[i]++;
    }
  }
  return {
    store: store.description,
    collection,
    count,
    missing: Object.fromEntries(names.map((name, i) => [name, missing[i]])),
  };
}
