//! The resources one document may use. A hostile file (a decompression bomb, a form drawing
//! itself, thousands of font switches) fails with the budget it exceeded instead of exhausting
//! the memory or the CPU of the service.

use std::time::{Duration, Instant};

use lopdf::{DecompressError, Error as LopdfError, Stream};

// The limits are about 100 times what the largest real PDF of the test corpus needs
// (../shared/corpus, 26 files, release build): large manuals pass, bombs stop early.

/// Decoded stream bytes per document (contents, forms, fonts' ToUnicode maps). The corpus needs
/// at most 2.4 MiB (CASES guide, 83 pages).
pub const MAX_DECODED_BYTES: usize = 256 << 20;
/// Bytes of text runs per document, their text and position records: a form drawn thousands of
/// times multiplies its text without decoding more. The corpus needs at most 2.0 MB (CASES
/// guide).
pub const MAX_TEXT_BYTES: usize = 64 << 20;
/// Content operators per document, nested form XObjects included. The corpus needs at most
/// 126 k (NIST SP 800-63B, 79 pages); 10 M take about 5 s at worst (a self-drawing form).
pub const MAX_OPERATIONS: u64 = 10_000_000;
/// Wall-clock time per document, checked in the interpreter and layout loops. The corpus needs
/// at most 0.18 s (NIST SP 800-61r2); 20 s leaves room for a loaded machine.
pub const MAX_DURATION: Duration = Duration::from_secs(20);

/// How often (in operators or text runs) the clock is read: reading it costs about as much as
/// interpreting an operator.
const CLOCK_EVERY: u64 = 1024;

/// The limits of one extraction; `Default` gives the production ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub decoded_bytes: usize,
    pub text_bytes: usize,
    pub operations: u64,
    pub duration: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            decoded_bytes: MAX_DECODED_BYTES,
            text_bytes: MAX_TEXT_BYTES,
            operations: MAX_OPERATIONS,
            duration: MAX_DURATION,
        }
    }
}

/// The budget a document exceeded, with its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    #[error("decoded streams exceed the budget of {0} bytes")]
    DecodedBytes(usize),
    #[error("extracted text exceeds the budget of {0} bytes")]
    TextBytes(usize),
    #[error("content exceeds the budget of {0} operators")]
    Operations(u64),
    #[error("extraction exceeds the time budget of {0:?}")]
    Time(Duration),
}

/// What an extraction used of its [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    pub decoded_bytes: usize,
    pub text_bytes: usize,
    pub operations: u64,
    pub elapsed: Duration,
}

/// What is left of the limits while one document is extracted.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    decoded: usize,
    text: usize,
    operations: u64,
    start: Instant,
}

impl Budget {
    /// Starts the clock.
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            decoded: 0,
            text: 0,
            operations: 0,
            start: Instant::now(),
        }
    }

    /// Decodes a stream's filters within what is left of the byte budget; `Ok(None)` when the
    /// stream does not decode.
    pub fn decode(&mut self, stream: &Stream) -> Result<Option<Vec<u8>>, Exceeded> {
        let remaining = self.limits.decoded_bytes - self.decoded;
        match stream.decompressed_content_with_limit(remaining) {
            Ok(data) => {
                self.decoded += data.len();
                Ok(Some(data))
            }
            Err(LopdfError::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                Err(Exceeded::DecodedBytes(self.limits.decoded_bytes))
            }
            Err(_) => Ok(None),
        }
    }

    /// Like [`Budget::decode`], with the raw bytes of a stream that does not decode (damaged
    /// files often still carry readable content).
    pub fn decode_or_raw(&mut self, stream: &Stream) -> Result<Vec<u8>, Exceeded> {
        match self.decode(stream)? {
            Some(data) => Ok(data),
            None => {
                self.charge(stream.content.len())?;
                Ok(stream.content.clone())
            }
        }
    }

    fn charge(&mut self, bytes: usize) -> Result<(), Exceeded> {
        if bytes > self.limits.decoded_bytes - self.decoded {
            return Err(Exceeded::DecodedBytes(self.limits.decoded_bytes));
        }
        self.decoded += bytes;
        Ok(())
    }

    /// Counts the text of one run (its bytes and its position record).
    pub fn text(&mut self, bytes: usize) -> Result<(), Exceeded> {
        self.text += bytes;
        if self.text > self.limits.text_bytes {
            return Err(Exceeded::TextBytes(self.limits.text_bytes));
        }
        Ok(())
    }

    /// Counts one content operator, and now and then looks at the clock.
    pub fn operation(&mut self) -> Result<(), Exceeded> {
        self.operations += 1;
        if self.operations > self.limits.operations {
            return Err(Exceeded::Operations(self.limits.operations));
        }
        if self.operations.is_multiple_of(CLOCK_EVERY) {
            self.check_time()?;
        }
        Ok(())
    }

    /// Checks the clock every [`CLOCK_EVERY`] calls with `step` counting up.
    pub fn tick(&self, step: usize) -> Result<(), Exceeded> {
        if (step as u64).is_multiple_of(CLOCK_EVERY) {
            self.check_time()?;
        }
        Ok(())
    }

    pub fn check_time(&self) -> Result<(), Exceeded> {
        if self.start.elapsed() > self.limits.duration {
            return Err(Exceeded::Time(self.limits.duration));
        }
        Ok(())
    }

    pub fn usage(&self) -> Usage {
        Usage {
            decoded_bytes: self.decoded,
            text_bytes: self.text,
            operations: self.operations,
            elapsed: self.start.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use lopdf::Dictionary;

    use super::*;

    fn limits(decoded_bytes: usize, operations: u64) -> Limits {
        Limits {
            decoded_bytes,
            operations,
            ..Limits::default()
        }
    }

    #[test]
    fn decoded_bytes_add_up_across_streams() {
        let mut stream = Stream::new(Dictionary::new(), vec![b'x'; 600]);
        stream.compress().expect("compress");
        let mut budget = Budget::new(limits(1000, 10));
        assert_eq!(
            budget.decode(&stream).expect("first").map(|d| d.len()),
            Some(600)
        );
        assert_eq!(budget.decode(&stream), Err(Exceeded::DecodedBytes(1000)));
    }

    #[test]
    fn undecodable_streams_fall_back_to_charged_raw_bytes() {
        let mut dict = Dictionary::new();
        dict.set("Filter", "NoSuchDecode");
        let stream = Stream::new(dict, b"not zlib".to_vec());
        let mut budget = Budget::new(limits(10, 10));
        assert_eq!(budget.decode_or_raw(&stream).expect("raw"), b"not zlib");
        assert_eq!(budget.usage().decoded_bytes, 8);
        assert_eq!(
            budget.decode_or_raw(&stream),
            Err(Exceeded::DecodedBytes(10))
        );
    }

    #[test]
    fn operations_and_time_are_bounded() {
        let mut budget = Budget::new(limits(0, 2));
        assert!(budget.operation().is_ok() && budget.operation().is_ok());
        assert_eq!(budget.operation(), Err(Exceeded::Operations(2)));
        let mut text = Budget::new(Limits {
            text_bytes: 10,
            ..Limits::default()
        });
        assert!(text.text(6).is_ok());
        assert_eq!(text.text(6), Err(Exceeded::TextBytes(10)));
        let expired = Budget::new(Limits {
            duration: Duration::ZERO,
            ..Limits::default()
        });
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(expired.check_time(), Err(Exceeded::Time(Duration::ZERO)));
    }
}
