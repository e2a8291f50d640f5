//! Field encryption for ID and phone numbers: XChaCha20-Poly1305 with a random nonce per value,
//! the column name as associated data (a ciphertext moved to another column fails to open), and
//! a keyed BLAKE3 hash for exact lookups. Both subkeys derive from one 32-byte master key.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::StoreError;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
/// Lookup hashes are truncated: 128 bits keep collisions out of reach and indexes smaller.
const HASH_LEN: usize = 16;

/// Which sensitive column a value belongs to; part of the associated data and the hash input.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    IdNumber,
    Phone,
    /// The phone a resident leaves on a campaign's public page.
    RequestPhone,
    /// A client address, kept only as a lookup hash for abuse limits.
    ClientAddress,
    /// The phone of a resident who entrusts their key.
    EntrustmentPhone,
    /// A contractor's phone on a key event.
    ContractorPhone,
    /// A resident's link and the one-time codes and view sessions behind it.
    ResidentAccess,
}

impl Field {
    fn label(self) -> &'static [u8] {
        match self {
            Field::IdNumber => b"persons.id_number",
            Field::Phone => b"persons.phone",
            Field::RequestPhone => b"campaign_requests.contact_phone",
            Field::ClientAddress => b"client_address",
            Field::EntrustmentPhone => b"entrustments.contact_phone",
            Field::ContractorPhone => b"key_events.contractor_phone",
            Field::ResidentAccess => b"resident_access",
        }
    }
}

#[derive(Clone)]
pub struct FieldCrypto {
    cipher: XChaCha20Poly1305,
    hash_key: [u8; 32],
}

impl fmt::Debug for FieldCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FieldCrypto(<redacted>)")
    }
}

impl FieldCrypto {
    pub fn new(master: &[u8; 32]) -> Self {
        let enc = blake3::derive_key("wangge 2026 field encryption v1", master);
        let hash_key = blake3::derive_key("wangge 2026 lookup hash v1", master);
        FieldCrypto {
            cipher: XChaCha20Poly1305::new(&enc.into()),
            hash_key,
        }
    }

    pub fn seal(&self, field: Field, plaintext: &str) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: field.label(),
                },
            )
            .expect("encryption of a short value cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, field: Field, sealed: &[u8]) -> Result<String, StoreError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(StoreError::Decode(
                "sealed value has an unknown format".into(),
            ));
        }
        let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
        let plain = self
            .cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: field.label(),
                },
            )
            .map_err(|_| StoreError::Decode("sealed value does not open with this key".into()))?;
        String::from_utf8(plain).map_err(|_| StoreError::Decode("sealed value is not text".into()))
    }

    /// Keyed hash for exact lookup; equal inputs give equal hashes under one key.
    pub fn lookup_hash(&self, field: Field, value: &str) -> Vec<u8> {
        let mut h = blake3::Hasher::new_keyed(&self.hash_key);
        h.update(field.label());
        h.update(b"\0");
        h.update(value.as_bytes());
        h.finalize().as_bytes()[..HASH_LEN].to_vec()
    }

    /// A short public fingerprint of the key, kept in the store to refuse a wrong key.
    pub fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.hash_key);
        h.update(b"wangge key fingerprint");
        h.finalize().to_hex()[..16].to_owned()
    }
}

/// Parses a master key given as 64 hex digits or base64 of 32 bytes.
pub fn parse_key(text: &str) -> Result<[u8; 32], StoreError> {
    let t = text.trim();
    let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).expect("checked hex"))
            .collect()
    } else {
        B64.decode(t).map_err(|_| {
            StoreError::Config("secret key is neither 64 hex digits nor base64".into())
        })?
    };
    bytes
        .try_into()
        .map_err(|_| StoreError::Config("secret key must be 32 bytes".into()))
}

/// Reads the key file, creating it with a fresh random key (mode 0600) when it does not exist.
pub fn load_or_create_key_file(path: &Path) -> Result<[u8; 32], StoreError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_key(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(path).map_err(|e| {
                StoreError::Config(format!("cannot create key file {}: {e}", path.display()))
            })?;
            writeln!(file, "{}", B64.encode(key))
                .map_err(|e| StoreError::Config(format!("cannot write key file: {e}")))?;
            tracing::info!(path = %path.display(), "created a new secret key file; back it up with the data");
            Ok(key)
        }
        Err(e) => Err(StoreError::Config(format!(
            "cannot read key file {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crypto() -> FieldCrypto {
        FieldCrypto::new(&[7u8; 32])
    }

    #[test]
    fn seals_and_opens_with_random_nonces() {
        let c = crypto();
        let a = c.seal(Field::IdNumber, "140109199001011234");
        let b = c.seal(Field::IdNumber, "140109199001011234");
        assert_ne!(a, b);
        assert_eq!(c.open(Field::IdNumber, &a).unwrap(), "140109199001011234");
    }

    #[test]
    fn a_value_moved_to_another_column_does_not_open() {
        let c = crypto();
        let a = c.seal(Field::IdNumber, "13912345678");
        assert!(c.open(Field::Phone, &a).is_err());
    }

    #[test]
    fn another_key_does_not_open_and_hashes_differ() {
        let a = crypto();
        let b = FieldCrypto::new(&[8u8; 32]);
        let sealed = a.seal(Field::Phone, "13912345678");
        assert!(b.open(Field::Phone, &sealed).is_err());
        assert_ne!(
            a.lookup_hash(Field::Phone, "13912345678"),
            b.lookup_hash(Field::Phone, "13912345678")
        );
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn key_file_is_created_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("wangge-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret.key");
        let _ = std::fs::remove_file(&path);
        let k1 = load_or_create_key_file(&path).unwrap();
        let k2 = load_or_create_key_file(&path).unwrap();
        assert_eq!(k1, k2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn parses_hex_and_base64_keys() {
        let hex = "00".repeat(32);
        assert_eq!(parse_key(&hex).unwrap(), [0u8; 32]);
        assert_eq!(parse_key(&B64.encode([1u8; 32])).unwrap(), [1u8; 32]);
        assert!(parse_key("short").is_err());
    }
}
