//! zstd for upload bodies, only when it pays, tuned for a phone's memory.
//!
//! A body is compressed only when it is over [`MIN_COMPRESS_BYTES`], and the
//! compressed form is sent only when it saves over [`MIN_SAVING_BYTES`]
//! (logtail's rule). Then the request carries `Content-Encoding: zstd` and
//! `Orig-Content-Length: <uncompressed length>`.
//!
//! Settings: level [`LEVEL`] (zstd's fast strategy) with a
//! 2^[`WINDOW_LOG`]-byte window, one thread, no dictionary, no checksum (TLS
//! already protects the bytes), the content size in the frame header (so the
//! server can size its buffer). Measured with `tools/perf/src/bin/upload_cost.rs` on
//! realistic event lines (256 KiB bodies, see `docs/UPLOAD.md`): the
//! compression context takes 209 KiB while a flush runs and nothing between
//! flushes (it is created per flush), and bodies shrink about 12x.
//!
//! The output buffer is first sized at a quarter of the body (plus 1 KiB),
//! enough for log lines; a body that does not fit is compressed once more
//! into the largest size still worth sending.
//!
//! No I/O: bytes in, bytes out. A compression failure is not an error: the
//! body is then sent uncompressed.

/// Bodies this long or shorter are sent as they are.
pub const MIN_COMPRESS_BYTES: usize = 256;
/// The compressed form is used only when it is shorter by more than this.
pub const MIN_SAVING_BYTES: usize = 64;
/// zstd level: 1, its fastest positive level (the fast strategy, one hash
/// table). Higher levels add a chain table and more CPU for a few percent on
/// these repetitive lines.
pub const LEVEL: i32 = 1;
/// log2 of the window: 32 KiB. The window bounds the context's history
/// buffer; event lines repeat within a few hundred bytes, so a larger window
/// gains little: 2^17 compresses event bodies 2.6 % better for 2.7x the
/// context (see `docs/UPLOAD.md`).
pub const WINDOW_LOG: u32 = 15;
/// log2 of the hash table's entries (4 bytes each: 64 KiB).
pub const HASH_LOG: u32 = 14;

/// Whether a body of `len` bytes is worth trying to compress.
pub fn worth_trying(len: usize) -> bool {
    len > MIN_COMPRESS_BYTES
}

/// Whether a compressed form of `compressed` bytes is worth sending instead
/// of `original` bytes.
pub fn worth_sending(original: usize, compressed: usize) -> bool {
    compressed.saturating_add(MIN_SAVING_BYTES) < original
}

/// A body ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// The bytes to send.
    pub body: Vec<u8>,
    /// The JSON's length before compression.
    pub uncompressed_len: usize,
    /// Whether `body` is zstd-compressed.
    pub zstd: bool,
}

impl Encoded {
    /// A body sent as it is.
    pub fn plain(json: Vec<u8>) -> Self {
        Encoded {
            uncompressed_len: json.len(),
            body: json,
            zstd: false,
        }
    }

    /// The headers that describe the encoding: none for a plain body;
    /// `Content-Encoding: zstd` and `Orig-Content-Length` for a compressed one.
    pub fn headers(&self) -> Vec<(String, String)> {
        if !self.zstd {
            return Vec::new();
        }
        vec![
            ("Content-Encoding".to_string(), "zstd".to_string()),
            (
                "Orig-Content-Length".to_string(),
                self.uncompressed_len.to_string(),
            ),
        ]
    }
}

/// A reusable zstd compression context, created on first use. Keep one per
/// flush and drop it after: its memory is then returned.
#[derive(Default)]
pub struct Compressor {
    context: Option<zstd::bulk::Compressor<'static>>,
    /// Set after the context could not be created: stop trying this flush.
    broken: bool,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("context", &self.context.is_some())
            .field("broken", &self.broken)
            .finish()
    }
}

fn new_context() -> std::io::Result<zstd::bulk::Compressor<'static>> {
    use zstd::zstd_safe::CParameter;
    let mut context = zstd::bulk::Compressor::new(LEVEL)?;
    context.set_parameter(CParameter::WindowLog(WINDOW_LOG))?;
    context.set_parameter(CParameter::HashLog(HASH_LOG))?;
    context.set_parameter(CParameter::ChecksumFlag(false))?;
    context.set_parameter(CParameter::ContentSizeFlag(true))?;
    Ok(context)
}

impl Compressor {
    /// A compressor; its context is allocated on the first body worth
    /// compressing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Compresses `json` if that pays (see the module docs), else returns it
    /// as it is.
    pub fn encode(&mut self, json: Vec<u8>) -> Encoded {
        if !worth_trying(json.len()) || self.broken {
            return Encoded::plain(json);
        }
        if self.context.is_none() {
            match new_context() {
                Ok(context) => self.context = Some(context),
                Err(error) => {
                    log::debug!("sockstatlog: zstd unavailable ({error}); sending uncompressed");
                    self.broken = true;
                    return Encoded::plain(json);
                }
            }
        }
        let context = self.context.as_mut().expect("created above");
        // At most the sizes worth sending: if zstd needs more, the
        // compressed form saves too little and the call fails "too small".
        let worth = json.len() - MIN_SAVING_BYTES - 1;
        // First try a quarter of the body (log lines shrink 8-12x), so the
        // output buffer is not as large as the body; only a body that does
        // not fit is compressed again into the largest size worth sending.
        let first = (json.len() / 4 + 1024).min(worth);
        for room in [first, worth] {
            let mut out = Vec::with_capacity(room);
            match context.compress_to_buffer(&json, &mut out) {
                Ok(written) if worth_sending(json.len(), written) => {
                    return Encoded {
                        uncompressed_len: json.len(),
                        body: out,
                        zstd: true,
                    }
                }
                _ if room == worth => break,
                _ => {}
            }
        }
        Encoded::plain(json)
    }

    /// Bytes the compression context holds now (0 before first use).
    pub fn context_bytes(&mut self) -> usize {
        self.context
            .as_mut()
            .map_or(0, |context| context.context_mut().sizeof())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: &[u8]) -> Vec<u8> {
        zstd::bulk::decompress(body, 1 << 20).unwrap()
    }

    #[test]
    fn the_thresholds_are_strict() {
        assert!(!worth_trying(256));
        assert!(worth_trying(257));
        assert!(!worth_sending(1000, 936));
        assert!(worth_sending(1000, 935));
        assert!(!worth_sending(10, usize::MAX));
    }

    #[test]
    fn a_small_body_is_sent_as_it_is_without_headers() {
        let json = br#"[{"logtail":{"client_time":"x"},"a":1}]"#.to_vec();
        let mut compressor = Compressor::new();
        let encoded = compressor.encode(json.clone());
        assert_eq!(encoded, Encoded::plain(json));
        assert!(encoded.headers().is_empty());
        assert_eq!(compressor.context_bytes(), 0, "no context for small bodies");
    }

    #[test]
    fn a_body_of_exactly_256_bytes_is_not_compressed() {
        let json = vec![b' '; 256];
        assert!(!Compressor::new().encode(json).zstd);
    }

    #[test]
    fn a_compressible_body_is_compressed_with_the_right_headers() {
        let line = r#"{"logtail":{"client_time":"2026-11-28T23:45:55.123456789Z"},"t":1764373555123,"d":100,"s":{"8":[1500,4000]}}"#;
        let json = format!("[{}]", vec![line; 100].join(",")).into_bytes();
        let mut compressor = Compressor::new();
        let encoded = compressor.encode(json.clone());
        assert!(encoded.zstd);
        assert_eq!(encoded.uncompressed_len, json.len());
        assert!(
            encoded.body.len() * 10 < json.len(),
            "{}",
            encoded.body.len()
        );
        assert_eq!(
            encoded.headers(),
            vec![
                ("Content-Encoding".to_string(), "zstd".to_string()),
                ("Orig-Content-Length".to_string(), json.len().to_string()),
            ]
        );
        assert_eq!(decode(&encoded.body), json);
        assert!(compressor.context_bytes() > 0);
    }

    #[test]
    fn an_incompressible_body_is_sent_as_it_is() {
        // A xorshift stream: no repetition for zstd to find.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let json: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let encoded = Compressor::new().encode(json.clone());
        assert_eq!(encoded, Encoded::plain(json));
    }

    #[test]
    fn the_saving_rule_is_applied_to_what_zstd_makes() {
        // Random letters then a run of spaces: zstd saves about the run.
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut json: Vec<u8> = (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b'a' + (x % 26) as u8
            })
            .collect();
        json.extend(std::iter::repeat_n(b' ', 120));
        let compressed = new_context().unwrap().compress(&json).unwrap();
        let encoded = Compressor::new().encode(json.clone());
        assert_eq!(encoded.zstd, worth_sending(json.len(), compressed.len()));
    }

    #[test]
    fn a_body_that_shrinks_less_than_4x_is_still_compressed() {
        // Random lowercase letters: entropy coding alone saves about 40 %,
        // more than the first output buffer (a quarter) can hold.
        let mut x = 0x0bad_cafe_f00d_d00du64;
        let json: Vec<u8> = (0..8192)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b'a' + (x % 26) as u8
            })
            .collect();
        let encoded = Compressor::new().encode(json.clone());
        assert!(encoded.zstd);
        assert!(encoded.body.len() > json.len() / 4 + 1024);
        assert!(encoded.body.len() < json.len() * 3 / 4);
        assert_eq!(decode(&encoded.body), json);
    }

    #[test]
    fn one_compressor_serves_many_bodies() {
        let mut compressor = Compressor::new();
        for n in [20, 500, 3000] {
            let json =
                format!("[{}]", vec![r#"{"a":"bbbbbbbbbbbbbbbb"}"#; n].join(",")).into_bytes();
            let encoded = compressor.encode(json.clone());
            assert!(encoded.zstd);
            assert_eq!(decode(&encoded.body), json);
        }
    }
}
