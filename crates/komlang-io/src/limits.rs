//! How big a table may be: rows, cells per row, characters per cell, and for a workbook
//! (a zip) what it may unzip to. A file past a limit is refused with an error naming it
//! ([`IoError::TooLarge`]), before its rows are read where that can be known (a workbook's
//! sizes, rows and cells), else at the row that goes past it (CSV, read as a stream).

use std::io::{Cursor, Read};

use crate::IoError;

/// The limits a table is read within ([`crate::TableReader`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Data rows (non-empty rows after the header).
    pub max_rows: u64,
    /// Cells in one row (from the first column of the table to the last cell of the row).
    pub max_cells_per_row: u64,
    /// Characters in one cell.
    pub max_cell_chars: u64,
    /// Bytes a workbook may unzip to, all its parts together: what its zip directory
    /// declares, and what its parts really inflate to.
    pub max_unzipped_bytes: u64,
    /// Parts (files) a workbook may hold.
    pub max_zip_entries: u64,
}

impl ReadLimits {
    /// Files uploaded to the server (the pages and the API): see `docs/import.md`.
    pub const UPLOAD: ReadLimits = ReadLimits {
        max_rows: 200_000,
        max_cells_per_row: 1_000,
        max_cell_chars: 2_000,
        max_unzipped_bytes: 128 * 1024 * 1024,
        max_zip_entries: 1_000,
    };

    /// Files read by the command line on the server, chosen by its operator: any number of
    /// CSV rows (read as a stream), what a spreadsheet program can hold in a row and a
    /// cell, and workbooks of up to 2 GB unzipped.
    pub const COMMAND_LINE: ReadLimits = ReadLimits {
        max_rows: u64::MAX,
        max_cells_per_row: 16_384,
        max_cell_chars: 32_767,
        max_unzipped_bytes: 2 * 1024 * 1024 * 1024,
        max_zip_entries: 10_000,
    };

    /// An error when a cell of row `row` is longer than [`ReadLimits::max_cell_chars`].
    pub(crate) fn check_cell(&self, row: u64, cell: &[u8]) -> Result<(), IoError> {
        // Bytes are at least as many as characters: count the characters only when needed.
        if cell.len() as u64 > self.max_cell_chars {
            let chars = String::from_utf8_lossy(cell).chars().count() as u64;
            if chars > self.max_cell_chars {
                return Err(too_large(Limit::CellChars, self.max_cell_chars, Some(row)));
            }
        }
        Ok(())
    }

    /// An error when row `row` has more than [`ReadLimits::max_cells_per_row`] cells.
    pub(crate) fn check_width(&self, row: u64, cells: u64) -> Result<(), IoError> {
        if cells > self.max_cells_per_row {
            return Err(too_large(Limit::CellsPerRow, self.max_cells_per_row, Some(row)));
        }
        Ok(())
    }

    /// An error when `data_rows` rows after the header are more than [`ReadLimits::max_rows`].
    pub(crate) fn check_rows(&self, data_rows: u64) -> Result<(), IoError> {
        if data_rows > self.max_rows {
            return Err(too_large(Limit::Rows, self.max_rows, None));
        }
        Ok(())
    }
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits::UPLOAD
    }
}

/// Which limit a file went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Rows,
    CellsPerRow,
    CellChars,
    Unzipped,
    ZipEntries,
}

impl Limit {
    /// Stable code for translation.
    pub fn code(self) -> &'static str {
        match self {
            Limit::Rows => "too_many_rows",
            Limit::CellsPerRow => "too_many_cells",
            Limit::CellChars => "cell_too_long",
            Limit::Unzipped => "unzips_too_large",
            Limit::ZipEntries => "too_many_parts",
        }
    }
}

pub(crate) fn too_large(limit: Limit, max: u64, row: Option<u64>) -> IoError {
    IoError::TooLarge { limit, max, row }
}

/// The English sentence of a limit passed (the web layer translates by [`Limit::code`]).
pub(crate) fn limit_message(limit: Limit, max: u64, row: Option<u64>) -> String {
    let at = row.map(|r| format!("row {r}: ")).unwrap_or_default();
    match limit {
        Limit::Rows => format!(
            "the file has more than {max} rows, the most one import may hold: split it into smaller files"
        ),
        Limit::CellsPerRow => {
            format!("{at}more than {max} cells in one row, the most a row may hold: delete the columns not needed")
        }
        Limit::CellChars => {
            format!("{at}a cell has more than {max} characters, the most a cell may hold: shorten it or delete its column")
        }
        Limit::Unzipped => format!(
            "the workbook unzips to more than {} MB, the most one import may take: save it as \"CSV UTF-8\" or split it",
            max / (1024 * 1024)
        ),
        Limit::ZipEntries => format!("the workbook is made of more than {max} parts, which no spreadsheet writes"),
    }
}

/// Checks what a workbook (a zip) unzips to, before any of it is read: the number of its
/// parts, the sizes its directory declares, then the sizes its parts really inflate to
/// (each inflated into nothing, counting, and stopped past the limit), since a directory
/// may lie. Memory stays flat whatever the file holds. A file the zip reader cannot open is
/// left to the workbook reader, which says it is damaged.
pub(crate) fn check_zip(bytes: &[u8], limits: &ReadLimits) -> Result<(), IoError> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return Ok(()) };
    if zip.len() as u64 > limits.max_zip_entries {
        return Err(too_large(Limit::ZipEntries, limits.max_zip_entries, None));
    }
    let unzipped = || too_large(Limit::Unzipped, limits.max_unzipped_bytes, None);
    let mut declared = 0u64;
    for i in 0..zip.len() {
        if let Ok(f) = zip.by_index_raw(i) {
            declared = declared.saturating_add(f.size());
        }
    }
    if declared > limits.max_unzipped_bytes {
        return Err(unzipped());
    }
    let mut actual = 0u64;
    for i in 0..zip.len() {
        // A part that cannot be inflated (encrypted, damaged) is the workbook reader's to refuse.
        let Ok(mut f) = zip.by_index(i) else { continue };
        let room = limits.max_unzipped_bytes - actual;
        // Counted as they come: a part that fails halfway has still inflated that much.
        let mut counted = Counter(0);
        let _ = std::io::copy(&mut (&mut f).take(room.saturating_add(1)), &mut counted);
        actual = actual.saturating_add(counted.0);
        if actual > limits.max_unzipped_bytes {
            return Err(unzipped());
        }
    }
    Ok(())
}

/// Counts what is written to it, and keeps nothing.
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
