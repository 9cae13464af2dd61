//! Imports and exports: the record of every import (reports, uploaded files, saved column
//! mappings), the worker import, and the worker export that an import reads back.

mod export;
mod records;
mod worker_import;

pub use export::EXPORT_COLUMNS;
pub(crate) use records::{
    begin_import_row, cell, file_error, find_columns, finish_import_row, ImportHead, RejectedRows,
};
pub use records::{
    sha256_hex, DupDecision, DupTarget, DuplicateFound, ImportFileMeta, ImportOptions, ImportRecord, ImportReport,
    ImportSummary, RejectedRow, ReportLimits, SavedMapping, WorkerImportOptions, IMPORT_KINDS, MAPPING_NAME_MAX,
    STORED_REPORT_LIMIT,
};
pub use worker_import::{
    BLOOM_AFTER_ROWS, BLOOM_BYTES, DEFERRED_IMPORT_INDEXES, DEFER_INDEXES_AFTER, READ_BATCH, SQLITE_IMPORT_CACHE_KIB,
};
