//! gzip's CRC-32 over every byte a pack inflates or deflates, by zlib-rs's braided CRC: in wasm (no carry-less
//! multiply for either to use) it runs ~1.6x as fast as crc32fast's table method, which took a fifth of a
//! verifying thread's time on a pull. A host with a faster one (Node's `zlib.crc32`, by carry-less multiply,
//! several times as fast again) may compute it instead ([`HostCrc`]); the core still compares it with the trailer.

use crate::error::Result;

/// The host's CRC-32: given the running value and the next bytes, the new running value.
pub type HostCrc = Box<dyn FnMut(u32, &[u8]) -> Result<u32>>;

/// The running CRC-32 of the bytes given so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Crc32(u32);

impl Crc32 {
    pub fn new() -> Self {
        Crc32(0)
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0 = zlib_rs::crc32::crc32(self.0, data);
    }

    /// Goes on from a running value computed elsewhere over the bytes.
    pub fn resume(running: u32) -> Self {
        Crc32(running)
    }

    pub fn finalize(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc(data: &[u8]) -> u32 {
        let mut crc = Crc32::new();
        crc.update(data);
        crc.finalize()
    }

    #[test]
    fn gives_the_check_value_of_the_gzip_crc() {
        assert_eq!(crc(b""), 0);
        assert_eq!(crc(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn agrees_with_crc32fast_however_the_bytes_are_split() {
        let data: Vec<u8> = (0..100_003u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for split in [0, 1, 7, 64, 4095, 65_536, data.len()] {
            let mut running = Crc32::new();
            running.update(&data[..split]);
            running.update(&data[split..]);
            assert_eq!(running.finalize(), crc32fast::hash(&data), "split at {split}");
        }
    }
}
