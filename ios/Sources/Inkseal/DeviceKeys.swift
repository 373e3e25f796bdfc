// The device key store on Apple platforms: P-256 keys in the Secure Enclave.
//
// NOT COMPILED ON THE PROJECT'S LINUX MACHINES (no Swift toolchain there): reviewed by hand
// against the generated InksealFFI.swift; build it on a Mac (ios/README.md).

import Foundation
import InksealFFI
import Security

/// A `DeviceKeyStore` in the Secure Enclave: each device key is a P-256 key made by
/// `SecKeyCreateRandomKey` with `kSecAttrTokenIDSecureEnclave`, usable only on this device
/// (`kSecAttrAccessibleWhenUnlockedThisDeviceOnly`); it signs every request about the user's
/// split key with `.ecdsaSignatureMessageX962SHA256` (DER). The private key never leaves the
/// enclave. No attestation is sent (the server stores App Attest objects but cannot verify
/// them yet).
///
/// `secureEnclave: false` keeps the key as an ordinary Keychain key instead: the simulator and
/// Macs without a Secure Enclave.
public final class SecureEnclaveDeviceKeys: DeviceKeyStore, @unchecked Sendable {
    private let tagPrefix: String
    private let secureEnclave: Bool
    private let accessFlags: SecAccessControlCreateFlags

    /// `accessFlags`: add `.userPresence` or `.biometryCurrentSet` to require Face ID / Touch ID
    /// for every signature (each request then prompts).
    public init(
        tagPrefix: String = "io.inkseal.device.",
        secureEnclave: Bool = true,
        accessFlags: SecAccessControlCreateFlags = []
    ) {
        self.tagPrefix = tagPrefix
        self.secureEnclave = secureEnclave
        self.accessFlags = secureEnclave ? accessFlags.union(.privateKeyUsage) : accessFlags
    }

    /// The DER prefix of a P-256 SubjectPublicKeyInfo (id-ecPublicKey, prime256v1, BIT STRING
    /// of 66 bytes); the 65-byte uncompressed point follows.
    static let p256SpkiHeader = Data([
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
        0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ])

    private func tag(_ alias: String) -> Data { Data((tagPrefix + alias).utf8) }

    private func failed(_ what: String, _ error: Unmanaged<CFError>?) -> HookError {
        let reason = error.map { String(describing: $0.takeRetainedValue()) } ?? "unknown error"
        return HookError.Failed(reason: "\(what): \(reason)")
    }

    public func create(alias: String, attestationChallenge: Data) throws -> DeviceKeyInfo {
        try delete(alias: alias)
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            kCFAllocatorDefault, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, accessFlags, &error
        ) else { throw failed("access control", error) }
        var attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag(alias),
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        if secureEnclave { attributes[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave }
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw failed("SecKeyCreateRandomKey", error)
        }
        guard let publicKey = SecKeyCopyPublicKey(key),
              let point = SecKeyCopyExternalRepresentation(publicKey, &error) as Data?
        else { throw failed("public key", error) }
        guard point.count == 65, point.first == 0x04 else {
            throw HookError.Failed(reason: "public key: not an uncompressed P-256 point")
        }
        return DeviceKeyInfo(publicKeySpkiDer: Self.p256SpkiHeader + point, attestation: nil)
    }

    public func sign(alias: String, message: Data) throws -> Data {
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrKeyClass as String: kSecAttrKeyClassPrivate,
            kSecAttrApplicationTag as String: tag(alias),
            kSecReturnRef as String: true,
            kSecMatchLimit as String: kSecMatchLimitOne,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        guard status == errSecSuccess, let item else {
            throw HookError.Failed(reason: status == errSecItemNotFound
                ? "no device key \"\(alias)\" in the Keychain" : "keychain lookup: \(status)")
        }
        let key = item as! SecKey // swiftlint:disable:this force_cast (a CF type: always succeeds)
        var error: Unmanaged<CFError>?
        guard let signature = SecKeyCreateSignature(
            key, .ecdsaSignatureMessageX962SHA256, message as CFData, &error
        ) as Data? else { throw failed("SecKeyCreateSignature", error) }
        return signature
    }

    public func delete(alias: String) throws {
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag(alias),
        ]
        let status = SecItemDelete(query as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw HookError.Failed(reason: "keychain delete: \(status)")
        }
    }
}
