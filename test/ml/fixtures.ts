// Small schemas and seeded synthetic records shared by the learning-core tests.
import type { TypedRecord } from '../../src/schema/coerce.js';
import { parseSchema, type Schema } from '../../src/schema/schema.js';
import { Random } from '../../src/core/random.js';

export const CUSTOMER_SCHEMA_YAML = `
name: customers
fields:
  id: { type: integer, role: key }
  age: { type: integer, min: 0, max: 120, nullable: true }
  income: { type: number, nullable: true }
  plan: { type: category, values: [basic, plus, premium], nullable: true }
  city: { type: string, nullable: true }
  active: { type: boolean, nullable: true }
  joined: { type: datetime, nullable: true }
  note: { type: string, role: ignore, nullable: true }
  churned: { type: integer, role: target, values: [0, 1] }
`;

export function customerSchema(): Schema {
  return parseSchema(CUSTOMER_SCHEMA_YAML);
}

const CITIES = ['Lyon', 'Oslo', 'Porto', 'Riga'];
const PLANS = ['basic', 'plus', 'premium'];

/** Seeded customers whose churn depends on age, income, plan and activity; some values missing. */
export function customerRecords(count: number, seed = 1, missingShare = 0.05): TypedRecord[] {
  const random = new Random(seed);
  const records: TypedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const age = 18 + random.nextInt(60);
    const income = Math.round(20000 + random.next() * 80000);
    const plan = PLANS[random.nextInt(3)];
    const active = random.next() < 0.6;
    const logit =
      -1.5 +
      0.04 * (age - 45) -
      0.00002 * (income - 60000) +
      (plan === 'basic' ? 0.8 : plan === 'premium' ? -0.8 : 0) +
      (active ? -1 : 0.5);
    const churned = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    const missing = () => random.next() < missingShare;
    records.push({
      id: i + 1,
      age: missing() ? null : age,
      income: missing() ? null : income,
      plan: missing() ? null : plan,
      city: missing() ? null : CITIES[random.nextInt(CITIES.length)],
      active: missing() ? null : active,
      joined: missing()
        ? null
        : new Date(Date.UTC(2020, 0, 1) + random.nextInt(1000) * 86400000).toISOString(),
      note: 'ignored text',
      churned,
    });
  }
  return records;
}
