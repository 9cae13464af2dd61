//! What every feature shares: errors and their answers, the request extractors, the page
//! layout, translations, forms, lists in pages, file exports and names in the interface
//! language. Nothing here uses a feature module (`tests/layering.rs` checks it):
//! what two features share lives here.

pub mod api_layer;
pub mod conflict;
pub mod errors;
pub mod export;
pub mod extract;
pub mod fhir_outcome;
pub mod form_box;
pub mod forms;
pub mod i18n;
pub mod import_report;
pub mod layout;
pub mod metrics;
pub mod names;
pub mod pagination;
pub mod redirect;
pub mod render;
pub mod routes;
pub mod schema;
pub mod uploads;
pub mod versions;

pub use errors::{store_errors, ApiError, ApiErrorBody, ApiFieldError, ApiResult, PageError};
pub use export::ExportFormat;
pub use extract::{store_err, ApiUser, CsrfForm, Ctx};
pub use forms::{Choice, Posted};
pub use i18n::{I18n, Locale};
pub use layout::Layout;
pub use pagination::Paged;
pub use render::{flash, layout, render, render_status, PageResult};
pub use routes::{Gate, RouteInfo, Routes};
pub use versions::{IfMatch, Tagged};

/// Today, on the server's clock (dates of records and of exports).
pub fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}
