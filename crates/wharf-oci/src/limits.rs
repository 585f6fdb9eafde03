//! The size caps for JSON documents, in one place: every path that fetches, reads or stores a
//! manifest or config (registry client, transports, the store) uses these, so that whatever one
//! path accepted another can read back (a config a pull stored but `images` refused made every
//! listing fail).

/// Manifests and indexes: the distribution spec's 4 MiB, as registries and containers/image.
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;

/// Image configs. Configs of real images are a few KiB (history of hundreds of layers stays
/// under 1 MiB); 16 MiB leaves room without letting a hostile registry fill memory.
pub const MAX_CONFIG_SIZE: u64 = 16 << 20;

/// Any JSON document read whole (the larger of the two caps).
pub const MAX_JSON_SIZE: u64 = if MAX_MANIFEST_SIZE > MAX_CONFIG_SIZE {
    MAX_MANIFEST_SIZE
} else {
    MAX_CONFIG_SIZE
};
