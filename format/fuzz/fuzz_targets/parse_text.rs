#![no_main]

use libfuzzer_sys::fuzz_target;
use timber_format::Format;

fuzz_target!(|data: &[u8]| timber_format_fuzz::check(data, Format::Text));
