//! Fuzzing with proptest: no input makes file detection, reading, column
//! mapping or row conversion panic. Every case runs the whole import path:
//! detect_kind → TableReader → guess_mapping/check_mapping → convert_row.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::io::Cursor;

use chrono::NaiveDate;
use komlang_core::import::{check_mapping, convert_row, guess_mapping, parse_date, ColumnMapping, ImportField};
use komlang_io::{detect_kind, write_csv, write_xlsx, TableReader};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

/// The whole import path on one file; returns how many rows it saw.
fn import_all(name: &str, bytes: Vec<u8>) -> usize {
    let _ = detect_kind(name, &bytes);
    let Ok(reader) = TableReader::from_bytes(name, bytes) else { return 0 };
    let headers = reader.headers().to_vec();
    let mapping = guess_mapping(&headers);
    assert_eq!(mapping.columns.len(), headers.len());
    let _ = check_mapping(&mapping);
    let mut seen = 0;
    for row in reader.take(200) {
        seen += 1;
        if let Ok((n, cells)) = row {
            match convert_row(&mapping, &headers, n, &cells, today()) {
                Ok(r) => assert_eq!(r.row, n),
                Err(errs) => assert!(errs.iter().all(|e| e.row == n) && !errs.is_empty()),
            }
        }
    }
    seen
}

/// Text that looks like CSV: headers the app knows, delimiters, quotes,
/// line ends, Khmer letters and digits, zero-width characters, a BOM.
fn csvish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        ",",
        ";",
        "\t",
        "\"",
        "\n",
        "\r\n",
        "\r",
        " ",
        "\u{FEFF}",
        "\u{200B}",
        "name_km",
        "name_latin",
        "sex",
        "date_of_birth",
        "ភេទ",
        "ឈ្មោះ",
        "DOB",
        "Tel",
        "សុខ",
        "Sok",
        "ស្រី",
        "F",
        "០១/០៣/២០២៤",
        "45352",
        "2024-03-01",
        "31/02/2024",
        "1e309",
        "-1",
        "NaN",
        "9999999999999999999999",
        "org_id",
        "status",
        "active",
        "x",
    ]);
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
}

fn valid_xlsx(headers: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut out = Cursor::new(Vec::new());
    write_xlsx(&mut out, &h, rows.iter().cloned()).unwrap();
    out.into_inner()
}

proptest! {
    // 512 cases a test; more with PROPTEST_CASES=N.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048), xlsx in any::<bool>()) {
        let name = if xlsx { "f.xlsx" } else { "f.csv" };
        import_all(name, bytes.clone());
        // Also through the streaming constructor.
        if let Ok(r) = TableReader::open(name, Cursor::new(bytes)) {
            for row in r.take(100) {
                let _ = row;
            }
        }
    }

    #[test]
    fn zip_like_bytes_never_panic(tail in prop::collection::vec(any::<u8>(), 0..1024)) {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend(tail);
        import_all("f.xlsx", bytes);
    }

    #[test]
    fn csv_like_text_never_panics(text in csvish(), bom in any::<bool>()) {
        let mut bytes = if bom { vec![0xEF, 0xBB, 0xBF] } else { Vec::new() };
        bytes.extend(text.as_bytes());
        import_all("f.csv", bytes);
    }

    #[test]
    fn damaged_workbooks_never_panic(
        cells in prop::collection::vec(prop::collection::vec("\\PC{0,12}", 0..6), 1..6),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let headers = cells[0].clone();
        let mut bytes = valid_xlsx(&headers, &cells[1..]);
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] ^= b;
        }
        if truncate {
            let at = cut.index(bytes.len());
            bytes.truncate(at);
        }
        import_all("f.xlsx", bytes);
    }

    #[test]
    fn written_tables_read_back(
        headers in prop::collection::vec("[a-z_ ]{1,10}", 1..5),
        rows in prop::collection::vec(prop::collection::vec("\\PC{0,12}", 0..6), 0..8),
    ) {
        // Cells as the readers return them: trailing blanks dropped, rows padded.
        let headers: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        prop_assume!(headers.iter().any(|h| !h.is_empty()));
        let mut csv = Vec::new();
        write_csv(&mut csv, &h, rows.iter().cloned()).unwrap();
        let back: Vec<_> = TableReader::from_bytes("x.csv", csv).unwrap().map(|r| r.unwrap()).collect();
        let non_blank: Vec<&Vec<String>> =
            rows.iter().filter(|r| r.iter().any(|c| !c.chars().all(|c| c.is_ascii_whitespace()))).collect();
        prop_assert_eq!(back.len(), non_blank.len());
        for ((_, got), want) in back.iter().zip(&non_blank) {
            let mut want = (*want).clone();
            if want.len() < headers.len() {
                want.resize(headers.len(), String::new());
            }
            prop_assert_eq!(got, &want);
        }
    }

    #[test]
    fn mapping_and_rows_never_panic(
        headers in prop::collection::vec("\\PC{0,16}", 0..12),
        cells in prop::collection::vec("\\PC{0,16}", 0..14),
        fields in prop::collection::vec(prop::option::of(0usize..20), 0..12),
        row in any::<u64>(),
    ) {
        let m = guess_mapping(&headers);
        let _ = check_mapping(&m);
        let _ = convert_row(&m, &headers, row, &cells, today());
        // Any mapping, even one that does not fit the headers.
        let any = ColumnMapping { columns: fields.iter().map(|f| f.map(|i| ImportField::ALL[i])).collect() };
        let _ = check_mapping(&any);
        let _ = convert_row(&any, &headers, row, &cells, today());
        for c in &cells {
            let _ = parse_date(c);
        }
    }
}
