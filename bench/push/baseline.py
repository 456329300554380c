# The push baseline: Python's standard library reading the same CSV (csv), converting each row to a
# typed JSON document (json) and inserting all of them into SQLite (sqlite3) in one transaction.
import csv
import json
import sqlite3
import sys
import time

INTEGER = {'id', 'Age', 'Driving_License', 'Previously_Insured', 'Vintage', 'Response'}
NUMBER = {'Region_Code', 'Annual_Premium', 'Policy_Sales_Channel'}


def convert(name, text):
    if name in INTEGER:
        return int(text)
    if name in NUMBER:
        value = float(text)
        return int(value) if value.is_integer() else value
    return text


def main():
    source, database = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute('PRAGMA journal_mode = WAL')
    connection.execute('PRAGMA synchronous = NORMAL')
    connection.execute('CREATE TABLE IF NOT EXISTS records (_id INTEGER PRIMARY KEY, doc TEXT NOT NULL)')
    rows = 0
    with open(source, newline='', encoding='utf-8-sig') as handle:
        reader = csv.reader(handle)
        header = next(reader)
        key = header.index('id')

        def documents():
            nonlocal rows
            for row in reader:
                rows += 1
                document = {'_id': int(row[key])}
                for name, text in zip(header, row):
                    document[name] = convert(name, text)
                yield (document['_id'], json.dumps(document, separators=(',', ':')))

        connection.execute('BEGIN')
        connection.executemany('INSERT OR REPLACE INTO records (_id, doc) VALUES (?, ?)', documents())
        connection.execute('COMMIT')
    seconds = time.perf_counter() - started
    print(json.dumps({'rows': rows, 'seconds': seconds, 'rows_per_s': rows / seconds}))


if __name__ == '__main__':
    main()
