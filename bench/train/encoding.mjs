// The one-hot encoding of the vehicle-insurance table that the train, folds and explain benches hand to
// every implementation, so that all of them learn from the same matrix.
import { readFileSync } from 'node:fs';

/** The records of a plain CSV file (no quoted fields), by column name. */
export function readCsv(file) {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const names = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [names[i], value])));
}

export const NUMERIC = [
  'Age',
  'Driving_License',
  'Region_Code',
  'Previously_Insured',
  'Annual_Premium',
  'Policy_Sales_Channel',
  'Vintage',
];
export const CATEGORICAL = ['Gender', 'Vehicle_Age', 'Vehicle_Damage'];

export function encode(records) {
  const categories = CATEGORICAL.map((name) =>
    [...new Set(records.map((record) => String(record[name])))].sort(),
  );
  const names = [
    ...NUMERIC,
    ...CATEGORICAL.flatMap((name, c) => categories[c].map((value) => `${name}_${value}`)),
  ];
  const columns = names.map(() => new Float64Array(records.length));
  const y = new Float64Array(records.length);
  records.forEach((record, i) => {
    NUMERIC.forEach((name, f) => (columns[f][i] = Number(record[name])));
    let f = NUMERIC.length;
    CATEGORICAL.forEach((name, c) => {
      for (const value of categories[c]) columns[f++][i] = String(record[name]) === value ? 1 : 0;
    });
    y[i] = Number(record.Response);
  });
  return { names, columns, y };
}
