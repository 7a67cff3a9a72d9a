//! The bindgen entry point: `cargo run -p uniffi-bindgen -- generate ...`.
fn main() {
    uniffi::uniffi_bindgen_main()
}
