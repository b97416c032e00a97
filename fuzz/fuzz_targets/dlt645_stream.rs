//! The stream decoder yields the same frames whatever the chunking, and every frame it yields
//! has valid framing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::wire::dlt645::StreamDecoder;

fn run(stream: &[u8], cuts: &[u8]) -> Vec<Vec<u8>> {
    let mut d = StreamDecoder::new();
    let mut frames = Vec::new();
    let mut rest = stream;
    let mut i = 0;
    while !rest.is_empty() {
        let step = cuts
            .get(i % cuts.len().max(1))
            .map_or(rest.len(), |&c| usize::from(c).max(1));
        let (mut input, tail) = rest.split_at(step.min(rest.len()));
        rest = tail;
        i += 1;
        while let Some(f) = d.decode(&mut input) {
            assert!(f.check_framing().is_ok());
            frames.push(f.as_bytes().to_vec());
        }
        assert!(input.is_empty());
    }
    frames
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (stream, cuts) = input;
    assert_eq!(run(&stream, &cuts), run(&stream, &[]));
});
