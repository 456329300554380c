// Reads a Parquet file with hyparquet (pure JavaScript), one row group at a time so that memory
// holds one group; every record carries its row number in the file (1-based).
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { errors } from '../core/errors.js';
import { displayPath } from '../core/paths.js';
import { cellValue } from './cells.js';
import type { DataReader, RawRecord } from './records.js';
import { statInput, type TextFileInfo } from './text.js';

export async function openParquetReader(file: string): Promise<DataReader> {
  const { size } = statInput(file);
  const shown = displayPath(file);
  const info: TextFileInfo = { file, size, bom: false };
  const buffer = await asyncBufferFromFile(file);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (cause) {
    throw new errors.PW_FILE_INVALID(`${shown}: not a readable Parquet file: ${(cause as Error).message}`, {
      cause,
      where: shown,
      hint: 'Check that the file is Parquet and complete (a truncated file has no footer).',
    });
  }
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  let bytesRead = 0;
  return {
    format: 'parquet',
    file,
    info,
    columns,
    columnsLine: 0,
    get bytesRead() {
      return bytesRead;
    },
    async *batches(batchRows: number): AsyncGenerator<RawRecord[]> {
      let groupStart = 0;
      let batch: RawRecord[] = [];
      for (const group of metadata.row_groups) {
        const groupRows = Number(group.num_rows);
        let rows: Record<string, unknown>[];
        try {
          rows = await parquetReadObjects({
            file: buffer,
            metadata,
            rowStart: groupStart,
            rowEnd: groupStart + groupRows,
            utf8: true,
          });
        } catch (cause) {
          throw new errors.PW_FILE_INVALID(
            `${shown}: rows ${groupStart + 1}-${groupStart + groupRows} cannot be read: ${(cause as Error).message}`,
            {
              cause,
              where: `${shown}:row ${groupStart + 1}`,
              hint: 'Write the file with snappy or no compression (hyparquet reads those), e.g. COMPRESSION snappy in DuckDB.',
            },
          );
        }
        for (let r = 0; r < rows.length; r++) {
          const values: Record<string, unknown> = {};
          const row = rows[r];
          for (const column of columns) values[column] = cellValue(row[column]);
          batch.push({ line: groupStart + r + 1, values });
          if (batch.length >= batchRows) {
            yield batch;
            batch = [];
          }
        }
        groupStart += groupRows;
        bytesRead += Number(group.total_byte_size);
      }
      if (batch.length > 0) yield batch;
    },
    async close() {},
  };
}
