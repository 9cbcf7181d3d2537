//! Byte layout of every key and meta value (docs/ENCODING.md).
//!
//! All integers are big-endian so byte order equals numeric order.

use crate::shard::routing::key_slot;

/// On-disk format version, stored in every meta value and in the manifest.
pub const FORMAT_VERSION: u8 = 1;

/// The type of a key, as TYPE reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Binary-safe string (value kept inline in the meta record).
    String = 1,
    /// List.
    List = 2,
    /// Hash.
    Hash = 3,
    /// Set.
    Set = 4,
    /// Sorted set.
    ZSet = 5,
    /// JSON document.
    Json = 6,
    /// Stream.
    Stream = 7,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::String,
            2 => Kind::List,
            3 => Kind::Hash,
            4 => Kind::Set,
            5 => Kind::ZSet,
            6 => Kind::Json,
            7 => Kind::Stream,
            _ => return None,
        })
    }

    /// The name TYPE replies with.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Hash => "hash",
            Kind::Set => "set",
            Kind::ZSet => "zset",
            Kind::Json => "ReJSON-RL",
            Kind::Stream => "stream",
        }
    }

    /// Whether values of this kind live in sub-keys of the `data` CF.
    pub fn is_collection(self) -> bool {
        !matches!(self, Kind::String | Kind::Json)
    }
}

/// Length of the fixed meta header: type/format byte + expire_at.
pub const META_HEADER: usize = 9;
/// Length of the collection header after the meta header: version + size.
pub const COLLECTION_HEADER: usize = 16;

/// A decoded meta record.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// Type of the key.
    pub kind: Kind,
    /// Absolute expiry in ms since the epoch, 0 for none.
    pub expire_at: u64,
    /// Collection version (sub-keys carry it); 0 for strings and JSON.
    pub version: u64,
    /// Number of elements of a collection; 0 for strings and JSON.
    pub size: u64,
    /// String value, JSON text, or a collection's type-specific extras.
    pub payload: Vec<u8>,
}

impl Meta {
    /// A string value without expiry.
    pub fn string(value: Vec<u8>) -> Meta {
        Meta {
            kind: Kind::String,
            expire_at: 0,
            version: 0,
            size: 0,
            payload: value,
        }
    }

    /// Whether the key has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at != 0 && self.expire_at <= now_ms
    }

    /// Whether the record has expired by now; reads the clock only for a
    /// record with a TTL (most have none, and every read checks).
    pub fn is_expired_now(&self) -> bool {
        self.expire_at != 0 && self.expire_at <= crate::util::now_ms()
    }

    /// Encodes the record.
    pub fn encode(&self) -> Vec<u8> {
        let (header, n) = self.header();
        let mut v = Vec::with_capacity(n + self.payload.len());
        v.extend_from_slice(&header[..n]);
        v.extend_from_slice(&self.payload);
        v
    }

    /// The encoded record's bytes before the payload (format and kind,
    /// expiry; a collection's version and size) and how many there are.
    pub fn header(&self) -> ([u8; META_HEADER + COLLECTION_HEADER], usize) {
        let mut h = [0; META_HEADER + COLLECTION_HEADER];
        h[0] = (FORMAT_VERSION << 4) | self.kind as u8;
        h[1..9].copy_from_slice(&self.expire_at.to_be_bytes());
        if !self.kind.is_collection() {
            return (h, META_HEADER);
        }
        h[9..17].copy_from_slice(&self.version.to_be_bytes());
        h[17..25].copy_from_slice(&self.size.to_be_bytes());
        (h, META_HEADER + COLLECTION_HEADER)
    }

    /// Decodes a record; `None` if it is corrupt or of an unknown format.
    pub fn decode(b: &[u8]) -> Option<Meta> {
        let (kind, expire_at) = decode_header(b)?;
        if kind.is_collection() {
            if b.len() < META_HEADER + COLLECTION_HEADER {
                return None;
            }
            Some(Meta {
                kind,
                expire_at,
                version: be_u64(&b[9..17]),
                size: be_u64(&b[17..25]),
                payload: b[25..].to_vec(),
            })
        } else {
            Some(Meta {
                kind,
                expire_at,
                version: 0,
                size: 0,
                payload: b[META_HEADER..].to_vec(),
            })
        }
    }
}

/// Reads just the type and expiry of a meta value.
pub fn decode_header(b: &[u8]) -> Option<(Kind, u64)> {
    if b.len() < META_HEADER || b[0] >> 4 != FORMAT_VERSION {
        return None;
    }
    Some((Kind::from_u8(b[0] & 0x0f)?, be_u64(&b[1..9])))
}

/// Reads the collection version of a meta value, if it is a collection.
pub fn decode_version(b: &[u8]) -> Option<u64> {
    let (kind, _) = decode_header(b)?;
    (kind.is_collection() && b.len() >= 17).then(|| be_u64(&b[9..17]))
}

fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes(b[..8].try_into().unwrap())
}

/// `meta` CF key: `db · slot · key`.
pub fn meta_key(db: u8, key: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(META_KEY_HEAD + key.len());
    v.extend_from_slice(&meta_key_head(db, key_slot(key)));
    v.extend_from_slice(key);
    v
}

/// Bytes of a [`meta_key`] before the user key.
pub const META_KEY_HEAD: usize = 3;

/// The bytes of a [`meta_key`] before the user key, for a key in `slot`.
pub fn meta_key_head(db: u8, slot: u16) -> [u8; META_KEY_HEAD] {
    let [hi, lo] = slot.to_be_bytes();
    [db, hi, lo]
}

/// Splits a `meta` CF key into (db, user key).
pub fn split_meta_key(k: &[u8]) -> Option<(u8, &[u8])> {
    (k.len() >= 3).then(|| (k[0], &k[3..]))
}

/// Prefix of all `data`/`zscore` sub-keys of one collection version:
/// `db · slot · keylen · key · version`.
pub fn sub_key_prefix(db: u8, key: &[u8], version: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(3 + 4 + key.len() + 8);
    v.push(db);
    v.extend_from_slice(&key_slot(key).to_be_bytes());
    v.extend_from_slice(&(key.len() as u32).to_be_bytes());
    v.extend_from_slice(key);
    v.extend_from_slice(&version.to_be_bytes());
    v
}

/// Length of the [`sub_key_prefix`] a sub-key starts with (`None` if it is
/// too short to hold one).
pub fn sub_key_prefix_len(k: &[u8]) -> Option<usize> {
    let klen = u32::from_be_bytes(k.get(3..7)?.try_into().ok()?) as usize;
    let len = klen.checked_add(7 + 8)?;
    (k.len() >= len).then_some(len)
}

/// Decodes a sub-key into (meta key, version); used by the compaction filter.
pub fn split_sub_key(k: &[u8]) -> Option<(Vec<u8>, u64)> {
    if k.len() < 7 {
        return None;
    }
    let klen = u32::from_be_bytes(k[3..7].try_into().ok()?) as usize;
    let end = 7usize.checked_add(klen)?;
    if k.len() < end + 8 {
        return None;
    }
    let mut mk = Vec::with_capacity(3 + klen);
    mk.extend_from_slice(&k[..3]);
    mk.extend_from_slice(&k[7..end]);
    Some((mk, be_u64(&k[end..end + 8])))
}

/// `expire` CF key: `expire_at · db · slot · key`.
pub fn expire_key(expire_at: u64, db: u8, key: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + 3 + key.len());
    v.extend_from_slice(&expire_at.to_be_bytes());
    v.extend_from_slice(&meta_key(db, key));
    v
}

/// Splits an `expire` CF key into (expire_at, meta key).
pub fn split_expire_key(k: &[u8]) -> Option<(u64, &[u8])> {
    (k.len() >= 11).then(|| (be_u64(&k[..8]), &k[8..]))
}

/// Order-preserving 8-byte encoding of a double (for the `zscore` CF).
pub fn encode_score(d: f64) -> [u8; 8] {
    let bits = d.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    ordered.to_be_bytes()
}

/// Inverse of [`encode_score`].
pub fn decode_score(b: [u8; 8]) -> f64 {
    let ordered = u64::from_be_bytes(b);
    let bits = if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    };
    f64::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_roundtrip() {
        let m = Meta {
            kind: Kind::Hash,
            expire_at: 42,
            version: 7,
            size: 3,
            payload: b"x".to_vec(),
        };
        assert_eq!(Meta::decode(&m.encode()), Some(m));
        let s = Meta::string(b"hello".to_vec());
        assert_eq!(Meta::decode(&s.encode()), Some(s));
    }

    #[test]
    fn sub_key_splits_back() {
        let mut k = sub_key_prefix(3, b"user:{1}", 99);
        k.extend_from_slice(b"field");
        let (mk, ver) = split_sub_key(&k).unwrap();
        assert_eq!(mk, meta_key(3, b"user:{1}"));
        assert_eq!(ver, 99);
    }

    #[test]
    fn scores_sort_as_bytes() {
        let xs = [
            f64::NEG_INFINITY,
            -1e10,
            -1.5,
            -0.0,
            0.0,
            1e-300,
            2.5,
            1e10,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(
                encode_score(w[0]) <= encode_score(w[1]),
                "{} {}",
                w[0],
                w[1]
            );
        }
        for x in xs {
            assert_eq!(decode_score(encode_score(x)), x);
        }
    }
}
