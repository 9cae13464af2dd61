//! The first sheet of a workbook, within [`ReadLimits`]: an XLSX sheet is streamed row by
//! row by a thread of its own (only the workbook's shared strings are held), ODS and XLSB
//! sheets are read whole (what they may unzip to is bounded first).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use calamine::{DataRef, Reader};

use crate::limits::{check_zip, ReadLimits};
use crate::{IoError, Row};

/// Excel's largest column index (XFD) and row count.
pub(crate) const MAX_COLS: u32 = 16_384;
pub(crate) const MAX_ROWS: u32 = 1_048_576;

/// Rows the reading thread may be ahead of the reader.
const ROWS_AHEAD: usize = 64;

enum Msg {
    Row(Row),
    Failed(IoError),
    End,
}

/// The rows of a sheet, as its thread reads them.
pub(crate) struct SheetRows {
    rx: Receiver<Msg>,
    done: bool,
}

impl SheetRows {
    pub(crate) fn next_row(&mut self) -> Option<Result<Row, IoError>> {
        if self.done {
            return None;
        }
        match self.rx.recv() {
            Ok(Msg::Row(r)) => Some(Ok(r)),
            Ok(Msg::End) => {
                self.done = true;
                None
            }
            Ok(Msg::Failed(e)) => {
                self.done = true;
                Some(Err(e))
            }
            // The thread stopped without saying it was done.
            Err(_) => {
                self.done = true;
                Some(Err(damaged()))
            }
        }
    }
}

fn damaged() -> IoError {
    IoError::NotATable("the workbook is damaged and cannot be read".into())
}

fn unreadable(e: &dyn std::fmt::Display) -> IoError {
    IoError::NotATable(format!("the file is not a readable XLSX or ODS workbook ({e}); save it again as .xlsx"))
}

/// Where the rows go: the channel to the reader. `Err` once the reader has gone.
struct Sink<'a>(&'a SyncSender<Msg>);

impl Sink<'_> {
    fn send(&self, row: Row) -> Result<(), IoError> {
        self.0.send(Msg::Row(row)).map_err(|_| IoError::Io(std::io::ErrorKind::BrokenPipe.into()))
    }
}

/// Checks what the workbook unzips to, then starts its thread: the header row (the first
/// non-empty one) and the rows after it.
pub(crate) fn open_sheet(bytes: Vec<u8>, limits: ReadLimits) -> Result<(Row, SheetRows), IoError> {
    check_zip(&bytes, &limits)?;
    let (tx, rx) = sync_channel(ROWS_AHEAD);
    std::thread::Builder::new().name("komlang-sheet".into()).spawn(move || {
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_sheet(&bytes, &limits, &Sink(&tx))));
        let last = match read {
            Ok(Ok(())) => Msg::End,
            Ok(Err(e)) => Msg::Failed(e),
            Err(_) => Msg::Failed(damaged()),
        };
        let _ = tx.send(last);
    })?;
    let mut rows = SheetRows { rx, done: false };
    match rows.next_row() {
        None => Err(IoError::Empty),
        Some(Err(e)) => Err(e),
        Some(Ok(header)) => Ok((header, rows)),
    }
}

fn read_sheet(bytes: &[u8], limits: &ReadLimits, sink: &Sink<'_>) -> Result<(), IoError> {
    match calamine::Xlsx::new(Cursor::new(bytes)) {
        Ok(mut book) => read_xlsx(&mut book, limits, sink),
        Err(xlsx_err) => read_whole(bytes, limits, sink, &xlsx_err),
    }
}

/// An XLSX sheet in two passes over its XML, cell by cell: the first finds the leftmost
/// column holding text (so the header's columns line up from it) and checks the limits on
/// rows and cells; the second sends the rows. A sheet whose rows are not in order (no
/// spreadsheet program writes one) is gathered first, then sent in order.
fn read_xlsx(book: &mut calamine::Xlsx<Cursor<&[u8]>>, limits: &ReadLimits, sink: &Sink<'_>) -> Result<(), IoError> {
    let Some(name) = book.sheet_names().first().cloned() else { return Err(IoError::Empty) };
    let mut first_col = u32::MAX;
    let mut in_order = true;
    {
        let mut cells = book.worksheet_cells_reader(&name).map_err(|e| unreadable(&e))?;
        let mut last_row: Option<u32> = None;
        let mut rows = 0u64;
        while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
            let (r, c) = cell.get_position();
            let Some(text) = text_at(r, c, cell.get_value()) else { continue };
            limits.check_cell(u64::from(r) + 1, text.as_bytes())?;
            first_col = first_col.min(c);
            match last_row {
                Some(l) if l == r => {}
                Some(l) if r < l => in_order = false,
                _ => {
                    rows += 1;
                    limits.check_rows(rows.saturating_sub(1))?;
                    last_row = Some(r);
                }
            }
        }
    }
    if first_col == u32::MAX {
        return Err(IoError::Empty);
    }
    let mut cells = book.worksheet_cells_reader(&name).map_err(|e| unreadable(&e))?;
    if !in_order {
        let mut sparse: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
        while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
            let (r, c) = cell.get_position();
            if let Some(text) = text_at(r, c, cell.get_value()) {
                sparse.entry(r).or_default().push((c, text));
            }
        }
        limits.check_rows((sparse.len() as u64).saturating_sub(1))?;
        for (r, row) in sparse {
            sink.send(dense(r, row, first_col, limits)?)?;
        }
        return Ok(());
    }
    let mut current: Option<(u32, Vec<(u32, String)>)> = None;
    while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
        let (r, c) = cell.get_position();
        let Some(text) = text_at(r, c, cell.get_value()) else { continue };
        match &mut current {
            Some((cr, row)) if *cr == r => row.push((c, text)),
            _ => {
                if let Some((cr, row)) = current.take() {
                    sink.send(dense(cr, row, first_col, limits)?)?;
                }
                current = Some((r, vec![(c, text)]));
            }
        }
    }
    if let Some((cr, row)) = current {
        sink.send(dense(cr, row, first_col, limits)?)?;
    }
    Ok(())
}

/// The text of a cell inside the sheet's bounds that holds more than white space.
fn text_at(r: u32, c: u32, v: &DataRef<'_>) -> Option<String> {
    if r >= MAX_ROWS || c >= MAX_COLS {
        return None;
    }
    let text = cell_text(v);
    (!text.trim().is_empty()).then_some(text)
}

/// A row from its cells: columns from `first_col`, numbered from 1 as the spreadsheet shows.
fn dense(r: u32, cells: Vec<(u32, String)>, first_col: u32, limits: &ReadLimits) -> Result<Row, IoError> {
    let number = u64::from(r) + 1;
    let width = cells.iter().map(|c| c.0.saturating_sub(first_col) + 1).max().unwrap_or(0);
    limits.check_width(number, u64::from(width))?;
    let mut row = vec![String::new(); width as usize];
    for (c, text) in cells {
        if let Some(slot) = row.get_mut(c.saturating_sub(first_col) as usize) {
            *slot = text;
        }
    }
    Ok((number, row))
}

/// ODS or XLSB: the first sheet read whole (within what the file may unzip to).
fn read_whole(
    bytes: &[u8],
    limits: &ReadLimits,
    sink: &Sink<'_>,
    xlsx_err: &calamine::XlsxError,
) -> Result<(), IoError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| unreadable(xlsx_err))?;
    let range = match book.worksheet_range_at(0) {
        None => return Err(IoError::Empty),
        Some(r) => r.map_err(|e| unreadable(&e))?,
    };
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut sparse: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    for (i, row) in range.rows().enumerate() {
        let r = r0 + i as u32;
        for (j, v) in row.iter().enumerate() {
            let text = data_text(v);
            if !text.trim().is_empty() {
                limits.check_cell(u64::from(r) + 1, text.as_bytes())?;
                sparse.entry(r).or_default().push((c0 + j as u32, text));
            }
        }
        limits.check_rows((sparse.len() as u64).saturating_sub(1))?;
    }
    drop(range);
    let first_col = sparse.values().flat_map(|cells| cells.iter().map(|c| c.0)).min().unwrap_or(0);
    for (r, cells) in sparse {
        sink.send(dense(r, cells, first_col, limits)?)?;
    }
    Ok(())
}

/// The text of a cell of a sheet read whole (ODS, XLSB).
fn data_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_number(*f),
        Data::Bool(b) => cell_text(&DataRef::Bool(*b)),
        Data::DateTime(dt) => cell_text(&DataRef::DateTime(*dt)),
        Data::Error(e) => e.to_string(),
    }
}

/// A number as a person would type it: no trailing `.0`, no exponent for whole numbers.
pub fn format_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => format_number(*f),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(dt) => {
            let f = dt.as_f64();
            // Dates from 1900 to 9999 (also in the 1904 system); anything else stays a number.
            if dt.is_datetime() && (0.0..2_958_466.0).contains(&f) {
                match dt.as_datetime() {
                    Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
                    Some(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
                    None => format_number(f),
                }
            } else {
                format_number(f)
            }
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
    }
}
