//! Loading the synthetic demo data set and one demo account per role.
pub const DEMO_PASSWORD: &str = "komlang-demo";
