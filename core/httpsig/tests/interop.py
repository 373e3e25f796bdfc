#!/usr/bin/env python3
"""Independent check of inkseal-httpsig against the PyPI `http-message-signatures` library.

Run by core/httpsig/tests/interop.rs. Reads one JSON object on stdin, writes one on stdout.

  interop.py verify  {"public_key_pem", "method", "path", "body_b64",
                      "headers": {"Content-Digest", "Signature-Input", "Signature"}}
      -> {"ok": true, "parameters": {...}, "covered": [...]}  (exit 0)
      or {"ok": false, "error": "..."}                         (exit 1)

  interop.py sign    {"method", "path", "body_b64", "keyid", "nonce", "created"}
      -> {"spki_der_b64", "signature_base",
          "headers": {"Content-Digest", "Signature-Input", "Signature"}}

The verifier requires the three components inkseal signs and checks the body against the signed
Content-Digest. The signer uses a fresh P-256 key, label sig1, and the library's own parameter
order (created;keyid;alg;nonce), which differs from inkseal's.
"""

import base64
import datetime
import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
)
from http_message_signatures.algorithms import ECDSA_P256_SHA256

COMPONENTS = ("@method", "@path", "content-digest")
ORIGIN = "https://inkseal.invalid"


class Request:
    """The minimal message interface the library resolves components from."""

    def __init__(self, method, path, headers):
        self.method = method
        self.url = ORIGIN + path
        self.headers = dict(headers)


class Keys(HTTPSignatureKeyResolver):
    def __init__(self, public_key=None, private_key=None):
        self.public_key = public_key
        self.private_key = private_key

    def resolve_public_key(self, key_id):
        return self.public_key

    def resolve_private_key(self, key_id):
        return self.private_key


def verify(req):
    body = base64.b64decode(req["body_b64"])
    message = Request(req["method"], req["path"], req["headers"])
    verifier = HTTPMessageVerifier(
        signature_algorithm=ECDSA_P256_SHA256,
        key_resolver=Keys(public_key=req["public_key_pem"].encode()),
    )
    try:
        results = verifier.verify(
            message, max_age=None, require_components=COMPONENTS, body=body
        )
    except Exception as e:  # the library raises InvalidSignature and friends
        return 1, {"ok": False, "error": f"{type(e).__name__}: {e}"}
    (result,) = results
    return 0, {
        "ok": True,
        "label": result.label,
        "parameters": dict(result.parameters),
        "covered": list(result.covered_components),
    }


def sign(req):
    body = base64.b64decode(req["body_b64"])
    key = ec.generate_private_key(ec.SECP256R1())
    message = Request(req["method"], req["path"], {})
    signer = HTTPMessageSigner(
        signature_algorithm=ECDSA_P256_SHA256, key_resolver=Keys(private_key=key)
    )
    created = datetime.datetime.fromtimestamp(req["created"], tz=datetime.timezone.utc)
    prepared = signer.prepare(
        message,
        key_id=req["keyid"],
        created=created,
        nonce=req["nonce"],
        label="sig1",
        covered_component_ids=COMPONENTS,
        body=body,
    )
    signature = ECDSA_P256_SHA256(private_key=key).sign(prepared.signature_base)
    signer.apply(message, prepared, signature)
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return 0, {
        "spki_der_b64": base64.b64encode(spki).decode(),
        "signature_base": prepared.signature_base.decode(),
        "headers": {
            name: message.headers[name]
            for name in ("Content-Digest", "Signature-Input", "Signature")
        },
    }


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("verify", "sign"):
        print("usage: interop.py verify|sign < request.json", file=sys.stderr)
        return 2
    req = json.load(sys.stdin)
    code, out = (verify if sys.argv[1] == "verify" else sign)(req)
    json.dump(out, sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
