//! The stored layout is API: an image written by format version 1 (five commits of the sweep's
//! history on the simulated NOR flash, the first 5 120 bytes, in hex) must load in every later
//! build, with the same contents.

use crate::power_cut::{Flash, LAYOUT, contents, expected};
use prepaid_meter::storage::{Found, MeterStore, Nor};

const IMAGE_V1: &str = include_str!("image-v1.hex");

fn decode(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

#[test]
fn a_version_1_image_still_loads() {
    let bytes = decode(IMAGE_V1);
    assert_eq!(bytes.len(), 5_120);
    let (mut store, found) = MeterStore::open(Nor(Flash::with_contents(&bytes)), &LAYOUT).unwrap();
    assert_eq!(found, Found::Restored);
    assert_eq!(contents(&mut store), expected(5));
}
