//! Administrative units: the country's hierarchy of provinces, districts, communes and villages,
//! loaded from the bundled lists or a folder of CSV files.

mod admin_units;

pub(crate) use admin_units::load_units;
pub use admin_units::{bundled_cambodia_units, load_admin_dir, AdminUnitQuery};
