//! The interface texts are read from `locales/*.yml` by `rust_i18n::i18n!` when the crate is
//! compiled, and Cargo does not see a macro's reads: without this, an edited translation file
//! left the old texts in the build (and the translation tests checking them) until some Rust
//! file changed (rust-i18n issues #46 and #62).
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
