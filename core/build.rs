// The till's and the customer's migrations are embedded with include_dir!,
// which cargo does not track: rebuild when any of them changes.
fn main() {
    println!("cargo:rerun-if-changed=../migrations/till");
    println!("cargo:rerun-if-changed=../migrations/customer");
}
