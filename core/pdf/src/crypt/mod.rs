//! The PDF standard security handler (ISO 32000-1 7.6.3, ISO 32000-2 7.6.4), opened with the
//! empty user password only.
//!
//! A file whose trailer has `/Encrypt` is read through a [`SecurityHandler`]: the `/Encrypt`
//! dictionary is parsed (`/V` 1, 2, 4, 5; `/R` 2 to 6; crypt filters `/V2` (RC4), `/AESV2`
//! (AES-128-CBC), `/AESV3` (AES-256-CBC) and `/Identity` through `/CF`, `/StmF`, `/StrF`;
//! `/EncryptMetadata`), the empty user password is authenticated (Algorithms 2, 4 and 5 with
//! MD5 and RC4 for revisions 2 to 4; Algorithms 2.A and 2.B with SHA-256/384/512 and AES for
//! revisions 5 and 6) and the file key is kept, wiped on drop. A file that needs a password
//! is refused with [`PdfError::PasswordRequired`]: inkseal signs documents a reader opens
//! without asking, and never asks for or guesses passwords. Other handlers (public-key
//! `/Adobe.PubSec`, vendor ones) are refused with [`PdfError::UnsupportedEncryption`].
//!
//! Every indirect object the [`crate::Document`] loads goes through
//! [`SecurityHandler::decrypt_object`]: its strings and stream data are decrypted with the
//! object's key (Algorithm 1 for revisions 2 to 4, `sAlT` added for AES; the file key itself
//! for revisions 5 and 6). What the format leaves in the clear is left alone: the `/Encrypt`
//! dictionary, cross-reference streams, metadata streams when `/EncryptMetadata` is false,
//! and the `/Contents` of signature dictionaries (ISO 32000-1 7.6.1), so a signature's CMS is
//! read as written and the `/ByteRange` digest is over the file's bytes as they are.
//!
//! Signing an encrypted file appends a revision encrypted with the file's own handler and
//! key ([`SecurityHandler::encrypt_object`], used by [`crate::writer::IncrementalUpdate`]),
//! except the new signature's `/Contents`, which is written as plain hex after the encrypted
//! head of the dictionary. The `/Encrypt` dictionary is never rewritten and the trailer
//! keeps `/Encrypt` and `/ID`. AES initialisation vectors are synthetic: derived from the
//! file key, the object, the string's position and its plaintext with SHA-256, so they are
//! unpredictable to anyone without the key, distinct for distinct strings, and signing stays
//! deterministic without a random number generator.

mod md5;
mod rc4;

use crate::cbc_pkcs7::{BLOCK, CbcError};
use crate::error::PdfError;
use crate::object::{Dictionary, Object, ObjectId};
use cbc::cipher::array::Array;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use sha2::{Digest, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub(crate) use md5::md5;

/// The password padding string of ISO 32000-1 7.6.3.3, Algorithm 2, step a.
const PAD: [u8; 32] = [
    0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
    0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
];

/// How the strings or the streams of a revision 2 to 4 file are encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Legacy {
    Identity,
    Rc4,
    Aes128,
}

/// The file key and the methods, by revision family. Keys are wiped on drop.
enum Keys {
    /// Revisions 2 to 4: an MD5-derived file key of 5 to 16 bytes; each object has its own
    /// key (Algorithm 1).
    Legacy {
        file_key: Zeroizing<Vec<u8>>,
        strings: Legacy,
        streams: Legacy,
    },
    /// Revisions 5 and 6: a 32-byte file key used as is with AES-256 (`/AESV3`), or not at
    /// all for what `/Identity` leaves in the clear.
    Aes256 {
        file_key: Zeroizing<[u8; 32]>,
        strings: bool,
        streams: bool,
    },
}

/// The cipher for one object's strings or streams.
enum Cipher<'k> {
    None,
    Rc4(Zeroizing<Vec<u8>>),
    Aes128(Zeroizing<[u8; 16]>),
    Aes256(&'k [u8; 32]),
}

/// An opened standard security handler: the file key and which crypt filter applies to
/// strings and to streams.
pub struct SecurityHandler {
    revision: u8,
    keys: Keys,
    encrypt_metadata: bool,
    /// The `/Encrypt` dictionary's own object, never decrypted.
    dictionary: Option<ObjectId>,
}

impl std::fmt::Debug for SecurityHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityHandler")
            .field("scheme", &self.describe())
            .field("encrypt_metadata", &self.encrypt_metadata)
            .finish_non_exhaustive()
    }
}

fn bad(message: impl Into<String>) -> PdfError {
    PdfError::BadEncryption(message.into())
}

fn string_of<'d>(d: &'d Dictionary, key: &str) -> Result<&'d [u8], PdfError> {
    match d.get(key.as_bytes()) {
        Some(Object::String(s, _)) => Ok(s),
        _ => Err(bad(format!("/{key} is missing or not a string"))),
    }
}

fn bytes_at<const N: usize>(s: &[u8], from: usize, what: &str) -> Result<[u8; N], PdfError> {
    s.get(from..from + N)
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .ok_or_else(|| bad(format!("{what} is {} bytes, too short", s.len())))
}

impl SecurityHandler {
    /// Open the handler of `encrypt` (the `/Encrypt` dictionary, found at object
    /// `dictionary` when it is indirect) with the empty user password. `first_id` is the first
    /// element of the trailer's `/ID` (empty if the file has none).
    pub fn open(
        encrypt: &Dictionary,
        first_id: &[u8],
        dictionary: Option<ObjectId>,
    ) -> Result<Self, PdfError> {
        match encrypt.get(b"Filter") {
            Some(Object::Name(n)) if n == b"Standard" => {}
            Some(Object::Name(n)) => {
                return Err(PdfError::UnsupportedEncryption(format!(
                    "the /{} security handler (inkseal opens the standard password handler \
                     only)",
                    String::from_utf8_lossy(n)
                )));
            }
            _ => return Err(bad("/Filter is missing or not a name")),
        }
        let int = |key: &[u8]| encrypt.get(key).and_then(Object::as_i64);
        let v = int(b"V").unwrap_or(0);
        let r = int(b"R").ok_or_else(|| bad("/R is missing"))?;
        let revision = match r {
            2..=6 => r as u8,
            _ => {
                return Err(PdfError::UnsupportedEncryption(format!(
                    "standard security handler revision {r}"
                )));
            }
        };
        let encrypt_metadata =
            !matches!(encrypt.get(b"EncryptMetadata"), Some(Object::Bool(false)));
        let o = string_of(encrypt, "O")?;
        let u = string_of(encrypt, "U")?;
        let keys = match (v, revision) {
            (1 | 2 | 4, 2..=4) => {
                let (strings, streams, key_len) = match v {
                    1 => (Legacy::Rc4, Legacy::Rc4, 5),
                    2 => (Legacy::Rc4, Legacy::Rc4, legacy_key_length(encrypt)?),
                    _ => {
                        let strings = legacy_filter(encrypt, b"StrF")?;
                        let streams = legacy_filter(encrypt, b"StmF")?;
                        (strings, streams, 16)
                    }
                };
                if revision == 2 && key_len != 5 {
                    return Err(bad("revision 2 with a key longer than 40 bits"));
                }
                let p = int(b"P").ok_or_else(|| bad("/P is missing"))?;
                let o = bytes_at::<32>(o, 0, "/O")?;
                let u = bytes_at::<32>(u, 0, "/U")?;
                let file_key =
                    legacy_file_key(&o, p, first_id, revision, key_len, encrypt_metadata);
                if !legacy_user_password_matches(&file_key, &u, first_id, revision) {
                    return Err(PdfError::PasswordRequired);
                }
                Keys::Legacy {
                    file_key,
                    strings,
                    streams,
                }
            }
            (5, 5 | 6) => {
                let strings = aes256_filter(encrypt, b"StrF")?;
                let streams = aes256_filter(encrypt, b"StmF")?;
                let ue = string_of(encrypt, "UE")?;
                let hash = bytes_at::<32>(u, 0, "/U")?;
                let validation_salt = bytes_at::<8>(u, 32, "/U")?;
                let key_salt = bytes_at::<8>(u, 40, "/U")?;
                let ue = Zeroizing::new(bytes_at::<32>(ue, 0, "/UE")?);
                let computed = Zeroizing::new(hash_2b(revision, b"", &validation_salt, b""));
                if !bool::from(computed.ct_eq(&hash)) {
                    return Err(PdfError::PasswordRequired);
                }
                let intermediate = Zeroizing::new(hash_2b(revision, b"", &key_salt, b""));
                let mut file_key = Zeroizing::new(*ue);
                let (blocks, _) = Array::slice_as_chunks_mut(file_key.as_mut_slice());
                cbc::Decryptor::<aes::Aes256>::new(&(*intermediate).into(), &[0u8; BLOCK].into())
                    .decrypt_blocks(blocks);
                check_perms(encrypt, revision, &file_key, int(b"P"), encrypt_metadata)?;
                Keys::Aes256 {
                    file_key,
                    strings,
                    streams,
                }
            }
            _ => {
                return Err(PdfError::UnsupportedEncryption(format!(
                    "standard security handler /V {v} with /R {r}"
                )));
            }
        };
        Ok(SecurityHandler {
            revision,
            keys,
            encrypt_metadata,
            dictionary,
        })
    }

    /// What the handler is, e.g. `AES-128 (R4)`: the stream method and the revision.
    pub fn describe(&self) -> String {
        let method = match &self.keys {
            Keys::Legacy {
                file_key, streams, ..
            } => match streams {
                Legacy::Identity => "Identity".to_owned(),
                Legacy::Rc4 => format!("RC4-{}", file_key.len() * 8),
                Legacy::Aes128 => "AES-128".to_owned(),
            },
            Keys::Aes256 { streams: true, .. } => "AES-256".to_owned(),
            Keys::Aes256 { streams: false, .. } => "Identity".to_owned(),
        };
        format!("{method} (R{})", self.revision)
    }

    /// The standard security handler's revision (`/R`).
    pub fn revision(&self) -> u8 {
        self.revision
    }

    /// The file key (for the tests that compare it with other tools' derivation).
    pub(crate) fn file_key(&self) -> &[u8] {
        match &self.keys {
            Keys::Legacy { file_key, .. } => file_key,
            Keys::Aes256 { file_key, .. } => &file_key[..],
        }
    }

    /// The cipher of object `id`'s strings (`stream` false) or stream data (`stream` true).
    fn cipher(&self, id: ObjectId, stream: bool) -> Cipher<'_> {
        match &self.keys {
            Keys::Legacy {
                file_key,
                strings,
                streams,
            } => {
                let method = if stream { *streams } else { *strings };
                let aes = method == Legacy::Aes128;
                let digest = Zeroizing::new(md5(&[
                    file_key,
                    &id.0.to_le_bytes()[..3],
                    &id.1.to_le_bytes(),
                    if aes { b"sAlT" } else { b"" },
                ]));
                match method {
                    Legacy::Identity => Cipher::None,
                    Legacy::Rc4 => {
                        let n = (file_key.len() + 5).min(16);
                        Cipher::Rc4(Zeroizing::new(digest[..n].to_vec()))
                    }
                    Legacy::Aes128 => Cipher::Aes128(Zeroizing::new(*digest)),
                }
            }
            Keys::Aes256 {
                file_key,
                strings,
                streams,
            } => {
                if (stream && *streams) || (!stream && *strings) {
                    Cipher::Aes256(file_key)
                } else {
                    Cipher::None
                }
            }
        }
    }

    /// Decrypt the strings and stream data of indirect object `id` as loaded from the file.
    /// The `/Encrypt` dictionary, cross-reference streams, metadata streams under
    /// `/EncryptMetadata false` and signature `/Contents` are returned as they are.
    pub fn decrypt_object(&self, id: ObjectId, mut obj: Object) -> Result<Object, PdfError> {
        if Some(id) == self.dictionary {
            return Ok(obj);
        }
        let strings = self.cipher(id, false);
        let what = |e: PdfError| match e {
            PdfError::BadEncryption(m) => bad(format!("object {} {}: {m}", id.0, id.1)),
            other => other,
        };
        match &mut obj {
            Object::Stream(s) => {
                if self.stream_in_clear(&s.dict) {
                    return Ok(obj);
                }
                decrypt_dict(&strings, &mut s.dict).map_err(what)?;
                s.data = decrypt(&self.cipher(id, true), &s.data).map_err(what)?;
            }
            other => decrypt_in(&strings, other).map_err(what)?,
        }
        Ok(obj)
    }

    /// `obj` as object `id` is written in a revision appended to the file: strings and stream
    /// data encrypted (what [`SecurityHandler::decrypt_object`] leaves in the clear stays in
    /// the clear), strings written as hex.
    pub fn encrypt_object(&self, id: ObjectId, obj: &Object) -> Object {
        let mut obj = obj.clone();
        if Some(id) == self.dictionary {
            return obj;
        }
        let mut ivs = IvSource {
            handler: self,
            id,
            counter: 0,
        };
        let strings = self.cipher(id, false);
        match &mut obj {
            Object::Stream(s) => {
                if self.stream_in_clear(&s.dict) {
                    return obj;
                }
                encrypt_dict(&strings, &mut ivs, &mut s.dict);
                s.data = encrypt(&self.cipher(id, true), &mut ivs, &s.data);
            }
            other => encrypt_in(&strings, &mut ivs, other),
        }
        obj
    }

    /// Streams the format keeps unencrypted: cross-reference streams, metadata under
    /// `/EncryptMetadata false`, and streams with their own `/Crypt` filter (read as they are).
    fn stream_in_clear(&self, dict: &Dictionary) -> bool {
        let crypt_filter = match dict.get(b"Filter") {
            Some(Object::Name(n)) => n == b"Crypt",
            Some(Object::Array(a)) => a.first() == Some(&Object::name("Crypt")),
            _ => false,
        };
        dict.name(b"Type") == Some(b"XRef")
            || (!self.encrypt_metadata && dict.name(b"Type") == Some(b"Metadata"))
            || crypt_filter
    }
}

/// The key length in bytes of a `/V 2` handler (`/Length` in bits, 40 to 128 by 8).
/// Algorithm 13 (ISO 32000-2, 7.6.4.4.12): `/Perms` is `/P` and `/EncryptMetadata` encrypted
/// under the file key, so an edit of either in the clear `/Encrypt` dictionary (granting
/// permissions the author withheld, or leaving metadata unencrypted) shows. Required from
/// revision 6 on; checked in a revision 5 file that carries it.
fn check_perms(
    encrypt: &Dictionary,
    revision: u8,
    file_key: &[u8; 32],
    p: Option<i64>,
    encrypt_metadata: bool,
) -> Result<(), PdfError> {
    let perms = match (encrypt.get(b"Perms"), revision) {
        (Some(Object::String(bytes, _)), _) => bytes_at::<16>(bytes, 0, "/Perms")?,
        (None, 5) => return Ok(()),
        (None, _) => return Err(bad("/Perms is missing")),
        (Some(_), _) => return Err(bad("/Perms is not a string")),
    };
    let p = p.ok_or_else(|| bad("/P is missing"))?;
    let mut block = Zeroizing::new(perms);
    let (blocks, _) = Array::slice_as_chunks_mut(block.as_mut_slice());
    // One block decrypted with a zero IV: AES-256 in ECB mode, as the algorithm says.
    cbc::Decryptor::<aes::Aes256>::new(&(*file_key).into(), &[0u8; BLOCK].into())
        .decrypt_blocks(blocks);
    if &block[9..12] != b"adb" {
        return Err(bad(
            "/Perms does not decrypt under the file key: the encryption dictionary was altered",
        ));
    }
    // /P is a 32-bit signed integer; its low four bytes, little-endian.
    let p_bytes = (p as i32).to_le_bytes();
    if block[..4] != p_bytes {
        return Err(bad(
            "/P differs from the permissions /Perms seals: the encryption dictionary was altered",
        ));
    }
    let sealed_metadata = match block[8] {
        b'T' => true,
        b'F' => false,
        _ => return Err(bad("/Perms holds no /EncryptMetadata flag")),
    };
    if sealed_metadata != encrypt_metadata {
        return Err(bad(
            "/EncryptMetadata differs from the flag /Perms seals: the encryption dictionary was \
             altered",
        ));
    }
    Ok(())
}

fn legacy_key_length(encrypt: &Dictionary) -> Result<usize, PdfError> {
    match encrypt
        .get(b"Length")
        .and_then(Object::as_i64)
        .unwrap_or(40)
    {
        bits @ 40..=128 if bits % 8 == 0 => Ok(bits as usize / 8),
        bits => Err(bad(format!("/Length {bits} is not 40 to 128 bits by 8"))),
    }
}

/// The crypt filter `/StrF` or `/StmF` names in `/CF`.
fn crypt_filter_method<'d>(encrypt: &'d Dictionary, key: &[u8]) -> Result<&'d [u8], PdfError> {
    let name = match encrypt.get(key) {
        None => return Ok(b"None"),
        Some(Object::Name(n)) => n,
        Some(_) => return Err(bad("a crypt filter name is not a name")),
    };
    if name == b"Identity" {
        return Ok(b"None");
    }
    let filter = match encrypt.get(b"CF") {
        Some(Object::Dictionary(cf)) => cf.get(name),
        _ => None,
    };
    match filter {
        Some(Object::Dictionary(f)) => Ok(f.name(b"CFM").unwrap_or(b"None")),
        _ => Err(bad(format!(
            "the crypt filter /{} is not in /CF",
            String::from_utf8_lossy(name)
        ))),
    }
}

fn unsupported_method(method: &[u8]) -> PdfError {
    PdfError::UnsupportedEncryption(format!(
        "crypt filter method /{}",
        String::from_utf8_lossy(method)
    ))
}

fn legacy_filter(encrypt: &Dictionary, key: &[u8]) -> Result<Legacy, PdfError> {
    match crypt_filter_method(encrypt, key)? {
        b"None" => Ok(Legacy::Identity),
        b"V2" => Ok(Legacy::Rc4),
        b"AESV2" => Ok(Legacy::Aes128),
        other => Err(unsupported_method(other)),
    }
}

fn aes256_filter(encrypt: &Dictionary, key: &[u8]) -> Result<bool, PdfError> {
    match crypt_filter_method(encrypt, key)? {
        b"None" => Ok(false),
        b"AESV3" => Ok(true),
        other => Err(unsupported_method(other)),
    }
}

/// Algorithm 2 with the empty password: the file key of revisions 2 to 4.
fn legacy_file_key(
    o: &[u8; 32],
    p: i64,
    first_id: &[u8],
    revision: u8,
    key_len: usize,
    encrypt_metadata: bool,
) -> Zeroizing<Vec<u8>> {
    let mut h = md5::Md5::new();
    h.update(&PAD).update(o).update(&(p as u32).to_le_bytes());
    h.update(first_id);
    if revision >= 4 && !encrypt_metadata {
        h.update(&[0xff; 4]);
    }
    let mut digest = Zeroizing::new(h.finish());
    if revision >= 3 {
        for _ in 0..50 {
            *digest = md5(&[&digest[..key_len]]);
        }
    }
    Zeroizing::new(digest[..key_len].to_vec())
}

/// Algorithms 4 and 5 (and 6 with the empty password): does the file key open `/U`?
fn legacy_user_password_matches(
    file_key: &[u8],
    u: &[u8; 32],
    first_id: &[u8],
    revision: u8,
) -> bool {
    if revision == 2 {
        let computed = Zeroizing::new(rc4::rc4(file_key, &PAD));
        return bool::from(computed.ct_eq(&u[..]));
    }
    let mut x = Zeroizing::new(md5(&[&PAD, first_id]).to_vec());
    let mut key = Zeroizing::new(file_key.to_vec());
    for i in 0..20u8 {
        for (k, f) in key.iter_mut().zip(file_key) {
            *k = f ^ i;
        }
        rc4::Rc4::new(&key).apply(&mut x);
    }
    bool::from(x.ct_eq(&u[..16]))
}

/// The hash of revisions 5 (SHA-256) and 6 (Algorithm 2.B) over `password`, `salt` and
/// `user_key` (the 48-byte /U for the owner password, empty for the user password).
fn hash_2b(revision: u8, password: &[u8], salt: &[u8; 8], user_key: &[u8]) -> [u8; 32] {
    let mut k: Zeroizing<Vec<u8>> = Zeroizing::new(
        Sha256::new()
            .chain_update(password)
            .chain_update(salt)
            .chain_update(user_key)
            .finalize()
            .to_vec(),
    );
    if revision == 6 {
        let mut round: u32 = 0;
        let mut last: u8 = 0;
        // At least 64 rounds; then until the last byte of E is at most round - 32 (it is at
        // most 255, so at most 288 rounds).
        while round < 64 || u32::from(last) > round - 32 {
            let mut k1 = Zeroizing::new(Vec::with_capacity(
                64 * (password.len() + k.len() + user_key.len()),
            ));
            for _ in 0..64 {
                k1.extend_from_slice(password);
                k1.extend_from_slice(&k);
                k1.extend_from_slice(user_key);
            }
            let (Ok(aes_key), Ok(iv)) = (
                <[u8; 16]>::try_from(k.get(..16).unwrap_or_default()),
                <[u8; 16]>::try_from(k.get(16..32).unwrap_or_default()),
            ) else {
                break; // k is 32 to 64 bytes: not reached
            };
            // k1 is 64 copies of one sequence: its length is a multiple of 64, hence of 16.
            let (blocks, _) = Array::slice_as_chunks_mut(k1.as_mut_slice());
            cbc::Encryptor::<aes::Aes128>::new(&aes_key.into(), &iv.into()).encrypt_blocks(blocks);
            let e = &k1;
            let sum: u32 = e.iter().take(16).map(|b| u32::from(*b)).sum();
            // A new Zeroizing: the previous K is wiped as it is dropped.
            k = Zeroizing::new(match sum % 3 {
                0 => Sha256::digest(&e[..]).to_vec(),
                1 => Sha384::digest(&e[..]).to_vec(),
                _ => Sha512::digest(&e[..]).to_vec(),
            });
            last = e.last().copied().unwrap_or(0);
            round += 1;
        }
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(k.get(..32).unwrap_or(&[0; 32]));
    out
}

/// Is `d` a signature dictionary (whose `/Contents` is never encrypted)?
fn is_signature_dictionary(d: &Dictionary) -> bool {
    matches!(d.name(b"Type"), Some(b"Sig" | b"DocTimeStamp"))
        || (matches!(d.get(b"ByteRange"), Some(Object::Array(_)))
            && matches!(d.get(b"Contents"), Some(Object::String(..))))
}

fn decrypt_in(cipher: &Cipher<'_>, obj: &mut Object) -> Result<(), PdfError> {
    match obj {
        Object::String(s, _) => *s = decrypt(cipher, s)?,
        Object::Array(items) => {
            for item in items {
                decrypt_in(cipher, item)?;
            }
        }
        Object::Dictionary(d) => decrypt_dict(cipher, d)?,
        Object::Stream(s) => decrypt_dict(cipher, &mut s.dict)?,
        _ => {}
    }
    Ok(())
}

fn decrypt_dict(cipher: &Cipher<'_>, d: &mut Dictionary) -> Result<(), PdfError> {
    let signature = is_signature_dictionary(d);
    for (k, v) in &mut d.0 {
        if signature && k == b"Contents" {
            continue;
        }
        decrypt_in(cipher, v)?;
    }
    Ok(())
}

/// Decrypt one string or stream body.
fn decrypt(cipher: &Cipher<'_>, data: &[u8]) -> Result<Vec<u8>, PdfError> {
    match cipher {
        Cipher::None => Ok(data.to_vec()),
        Cipher::Rc4(key) => Ok(rc4::rc4(key, data)),
        Cipher::Aes128(key) => aes_cbc_decrypt::<aes::Aes128>(&key[..], data),
        Cipher::Aes256(key) => aes_cbc_decrypt::<aes::Aes256>(&key[..], data),
    }
}

fn aes_cbc_decrypt<C>(key: &[u8], data: &[u8]) -> Result<Vec<u8>, PdfError>
where
    C: cbc::cipher::BlockCipherDecrypt
        + cbc::cipher::KeyInit
        + cbc::cipher::BlockSizeUser<BlockSize = cbc::cipher::consts::U16>,
{
    // An empty string, or an IV alone, is the empty string (some writers leave empty
    // strings unencrypted).
    if data.len() <= BLOCK {
        if data.is_empty() || data.len() == BLOCK {
            return Ok(Vec::new());
        }
        return Err(bad(format!(
            "an AES-encrypted string or stream of {} bytes (shorter than its IV)",
            data.len()
        )));
    }
    let (iv, body) = data.split_at(BLOCK);
    match crate::cbc_pkcs7::decrypt::<C>(key, iv, body) {
        Ok(plain) => Ok(plain.to_vec()),
        Err(CbcError::NotWholeBlocks) => Err(bad(format!(
            "AES ciphertext of {} bytes is not whole 16-byte blocks",
            body.len()
        ))),
        Err(CbcError::KeyLength) => Err(bad("AES key or IV length")),
        Err(CbcError::Padding) => Err(bad("bad AES padding")),
    }
}

/// Synthetic AES initialisation vectors for one object: SHA-256 over the file key, the
/// object, the string's position in it and its plaintext.
struct IvSource<'h> {
    handler: &'h SecurityHandler,
    id: ObjectId,
    counter: u64,
}

impl IvSource<'_> {
    fn next(&mut self, plaintext: &[u8]) -> [u8; BLOCK] {
        self.counter += 1;
        let digest = Sha256::new()
            .chain_update(b"inkseal-pdf AES IV\0")
            .chain_update(self.handler.file_key())
            .chain_update(self.id.0.to_le_bytes())
            .chain_update(self.id.1.to_le_bytes())
            .chain_update(self.counter.to_le_bytes())
            .chain_update(plaintext)
            .finalize();
        let mut iv = [0u8; BLOCK];
        iv.copy_from_slice(&digest[..BLOCK]);
        iv
    }
}

fn encrypt_in(cipher: &Cipher<'_>, ivs: &mut IvSource<'_>, obj: &mut Object) {
    match obj {
        Object::String(s, hex) => {
            *s = encrypt(cipher, ivs, s);
            *hex = true;
        }
        Object::Array(items) => {
            for item in items {
                encrypt_in(cipher, ivs, item);
            }
        }
        Object::Dictionary(d) => encrypt_dict(cipher, ivs, d),
        Object::Stream(s) => encrypt_dict(cipher, ivs, &mut s.dict),
        _ => {}
    }
}

fn encrypt_dict(cipher: &Cipher<'_>, ivs: &mut IvSource<'_>, d: &mut Dictionary) {
    let signature = is_signature_dictionary(d);
    for (k, v) in &mut d.0 {
        if signature && k == b"Contents" {
            continue;
        }
        encrypt_in(cipher, ivs, v);
    }
}

/// Encrypt one string or stream body (AES: IV first, PKCS#5 padding).
fn encrypt(cipher: &Cipher<'_>, ivs: &mut IvSource<'_>, data: &[u8]) -> Vec<u8> {
    match cipher {
        Cipher::None => data.to_vec(),
        Cipher::Rc4(key) => rc4::rc4(key, data),
        Cipher::Aes128(key) => {
            let iv = ivs.next(data);
            let encryptor = cbc::Encryptor::<aes::Aes128>::new(&(**key).into(), &iv.into());
            [
                iv.as_slice(),
                &crate::cbc_pkcs7::encrypt_with(encryptor, data),
            ]
            .concat()
        }
        Cipher::Aes256(key) => {
            let iv = ivs.next(data);
            let encryptor = cbc::Encryptor::<aes::Aes256>::new(&(**key).into(), &iv.into());
            [
                iv.as_slice(),
                &crate::cbc_pkcs7::encrypt_with(encryptor, data),
            ]
            .concat()
        }
    }
}

#[cfg(test)]
mod tests;
