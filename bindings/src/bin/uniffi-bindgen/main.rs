//! The UniFFI binding generator, at exactly the uniffi version the library is built with, plus
//! `api-snapshot LIBRARY`: the exported API as a sorted, language-neutral list (no docs, no
//! checksums), which `scripts/bindings.sh check-api` compares with `bindings/api-snapshot.txt`.

mod api_snapshot;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("api-snapshot") {
        let Some(library) = args.get(2) else {
            eprintln!("usage: uniffi-bindgen api-snapshot path/to/libinkseal_ffi.so");
            std::process::exit(2);
        };
        match api_snapshot::snapshot(library) {
            Ok(text) => print!("{text}"),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(1);
            }
        }
        return;
    }
    uniffi::uniffi_bindgen_main()
}
