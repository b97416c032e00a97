//! A deterministic random source for tests that need a `rand_core` generator (challenges,
//! randoms): xorshift64, never for production.

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};

/// A deterministic xorshift64 generator; the seed must not be zero.
pub struct TestRng(pub u64);

impl TryRng for TestRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}
