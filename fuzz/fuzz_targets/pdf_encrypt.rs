//! The standard security handler on hostile input: an /Encrypt dictionary and trailer /ID
//! (opened with the empty user password), then strings and streams decrypted with it, and
//! what it encrypts decrypting back. Input: a big-endian u16 length, the dictionary's text,
//! a u8 length, the first /ID string, then the ciphertext. Seeds in `seeds/encrypt` are
//! the dictionaries of files qpdf encrypted with the empty user password (RC4 40/128,
//! AES-128, AES-256), so the fuzzer starts past the password check.
#![no_main]

use inkseal_pdf::crypt::SecurityHandler;
use inkseal_pdf::object::{Dictionary, Object, ObjectId, Stream};
use inkseal_pdf::parser::Parser;
use libfuzzer_sys::fuzz_target;

fn split(data: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let (dict, rest) = rest.split_at_checked(usize::from(u16::from_be_bytes(*len)))?;
    let (id_len, rest) = rest.split_first()?;
    let (id, ciphertext) = rest.split_at_checked(usize::from(*id_len))?;
    Some((dict, id, ciphertext))
}

fuzz_target!(|data: &[u8]| {
    let Some((dict, id, ciphertext)) = split(data) else {
        return;
    };
    let Ok(Object::Dictionary(encrypt)) = Parser::new(dict, 0, 16).object_top(&|_| None) else {
        return;
    };
    let Ok(handler) = SecurityHandler::open(&encrypt, id, Some(ObjectId(1, 0))) else {
        return;
    };
    let num = ciphertext.first().copied().map_or(2, u32::from);
    let obj = ObjectId(num, 0);
    let string = Object::String(ciphertext.to_vec(), true);
    let stream = Object::Stream(Stream {
        dict: Dictionary::new().with(b"T", string.clone()),
        data: ciphertext.to_vec(),
    });
    for o in [string, stream] {
        let _ = handler.decrypt_object(obj, o.clone());
        // What the handler writes, it reads back.
        let sealed = handler.encrypt_object(obj, &o);
        assert_eq!(handler.decrypt_object(obj, sealed).ok(), Some(o));
    }
    // The /Encrypt dictionary itself is never decrypted.
    let itself = Object::Dictionary(encrypt);
    assert_eq!(
        handler.decrypt_object(ObjectId(1, 0), itself.clone()).ok(),
        Some(itself)
    );
});
