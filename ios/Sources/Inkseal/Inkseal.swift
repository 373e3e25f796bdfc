// The hand-written Swift façade over the generated bindings (module InksealFFI): async/await,
// one error enum, the Keychain-backed share store (the Secure Enclave device key store is in
// DeviceKeys.swift).
//
// NOT COMPILED ON THE PROJECT'S LINUX MACHINES (no Swift toolchain there): kept small and
// reviewed by hand against the generated InksealFFI.swift; build it on a Mac (ios/README.md).

import Foundation
import InksealFFI
import Security

public typealias EnrollmentInfo = InksealFFI.EnrollmentInfo
public typealias CertificateInfo = InksealFFI.CertificateInfo
public typealias KeyStatusInfo = InksealFFI.KeyStatusInfo
public typealias PdfSignOptions = InksealFFI.PdfSignOptions
public typealias LabelFont = InksealFFI.LabelFont
public typealias TextOutline = InksealFFI.TextOutline
public typealias OutlineSegment = InksealFFI.OutlineSegment
/// PAdES baseline level of a co-signed PDF: `.basic` (B-B), `.timeStamped` (B-T), `.longTerm` (B-LT), `.longTermArchive` (B-LTA).
public typealias PadesLevel = InksealFFI.PadesLevel
public typealias SignaturePlacement = InksealFFI.SignaturePlacement
public typealias PdfVerification = InksealFFI.PdfVerification
public typealias TransactionDetails = InksealFFI.TransactionDetails
public typealias TransactionParty = InksealFFI.TransactionParty
public typealias VerifiedTransactionInfo = InksealFFI.VerifiedTransactionInfo
public typealias LoginChallengeInfo = InksealFFI.LoginChallengeInfo
public typealias OpenedEnvelope = InksealFFI.OpenedEnvelope
public typealias SignatureVerification = InksealFFI.SignatureVerification
public typealias InkPoint = InksealFFI.InkPoint
public typealias InkSegment = InksealFFI.InkSegment
public typealias InkQuality = InksealFFI.InkQuality
public typealias SealedInk = InksealFFI.SealedInk
public typealias SecureBlobStore = InksealFFI.SecureBlobStore
public typealias HookError = InksealFFI.HookError
public typealias LogLevel = InksealFFI.LogLevel
public typealias EvidenceInfo = InksealFFI.EvidenceInfo
public typealias HttpTransport = InksealFFI.HttpTransport
public typealias HttpRequestInfo = InksealFFI.HttpRequestInfo
public typealias HttpResponseInfo = InksealFFI.HttpResponseInfo
public typealias HttpHeader = InksealFFI.HttpHeader
public typealias DeviceKeyStore = InksealFFI.DeviceKeyStore
public typealias DeviceKeyInfo = InksealFFI.DeviceKeyInfo
public typealias DeviceAttestationInfo = InksealFFI.DeviceAttestationInfo
public typealias AttestationKind = InksealFFI.AttestationKind
public typealias CaptureAction = InksealFFI.CaptureAction
public typealias RevokeReason = InksealFFI.RevokeReason
public typealias FaceLivenessHook = InksealFFI.FaceLivenessHook
public typealias IdCardHook = InksealFFI.IdCardHook
public typealias LivenessChallengeInfo = InksealFFI.LivenessChallengeInfo
public typealias LivenessCaptureResult = InksealFFI.LivenessCaptureResult
public typealias IdCardCaptureResult = InksealFFI.IdCardCaptureResult

/// Everything that can go wrong, as what the app should do about it.
public enum InksealError: Error, Equatable, Sendable {
    /// Wrong PIN: ask again; the key locks when `attemptsLeft` reaches zero.
    case wrongPin(attemptsLeft: Int)
    /// The new PIN breaks the PIN policy (too short, 123456, 000000...): ask for another.
    case pinRejected(String)
    /// Locked after too many wrong PINs: the user must be verified again or enroll anew.
    case locked
    /// The key is revoked and never signs again: enroll anew (with a new ticket).
    case revoked
    /// The server or this device does not know the key: enroll again.
    case unknownKey(String)
    /// The server does not accept this device's signature for the key (device key lost or
    /// replaced, or an HTTP stack that dropped the signature headers): enroll again.
    case unauthenticated(String)
    /// The device clock is too far from the server's: ask the user to turn on automatic time.
    case clockSkew(serverTimeUnix: UInt64)
    /// The enrollment ticket is unknown, already used or expired: ask the institution for a new one.
    case ticketInvalid(String)
    /// Too many requests: wait `retryAfterSecs` seconds, then retry.
    case rateLimited(retryAfterSecs: UInt64)
    /// The server could not be reached: retry later.
    case network(String)
    /// The server broke the protocol; nothing was signed. Report it, do not retry blindly.
    case serverMisbehaved(String)
    /// The server refused (policy, conflict, internal error).
    case refused(String)
    /// Policy requires fresh evidence (liveness) bound to this signature.
    case evidenceRequired(String)
    /// A capture failed a check: show `reason` and do what `action` says.
    case captureRejected(reason: String, action: CaptureAction)
    /// The handwriting breaks a quality rule: ask the signer to write again.
    case handwritingRejected(reason: String)
    /// The app passed something invalid.
    case invalidInput(String)
    /// The document cannot be signed or verified.
    case badDocument(String)
    /// Local storage failed: the Keychain, the blob store, or the output file.
    case storage(String)
    /// A hook of the app (progress, logger) threw.
    case hook(String)
    /// A hook asked to stop (a progress closure threw `HookError.Cancelled`).
    case cancelled

    init(_ e: InksealFFI.InksealError) {
        switch e {
        case let .WrongPin(attemptsLeft): self = .wrongPin(attemptsLeft: Int(attemptsLeft))
        case let .PinRejected(detail): self = .pinRejected(detail)
        case .Locked: self = .locked
        case .Revoked: self = .revoked
        case let .UnknownKey(detail): self = .unknownKey(detail)
        case let .Unauthenticated(detail): self = .unauthenticated(detail)
        case let .ClockSkew(serverTimeUnix): self = .clockSkew(serverTimeUnix: serverTimeUnix)
        case let .TicketInvalid(detail): self = .ticketInvalid(detail)
        case let .RateLimited(retryAfterSecs): self = .rateLimited(retryAfterSecs: retryAfterSecs)
        case let .Network(detail): self = .network(detail)
        case let .ServerMisbehaved(detail): self = .serverMisbehaved(detail)
        case let .Refused(detail): self = .refused(detail)
        case let .EvidenceRequired(detail): self = .evidenceRequired(detail)
        case let .CaptureRejected(reason, action): self = .captureRejected(reason: reason, action: action)
        case let .HandwritingRejected(reason): self = .handwritingRejected(reason: reason)
        case let .InvalidInput(detail): self = .invalidInput(detail)
        case let .BadDocument(detail): self = .badDocument(detail)
        case let .Storage(detail): self = .storage(detail)
        case let .Hook(detail): self = .hook(detail)
        case .Cancelled: self = .cancelled
        }
    }
}

@inline(__always)
func mapped<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as InksealFFI.InksealError {
        throw InksealError(e)
    }
}

/// Set when the calling Task is cancelled; read by hooks running inside a Rust call.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// Runs an FFI call (nonisolated, so on the global executor, never the main actor), mapping
/// errors. The generated Swift bindings do not cancel Rust futures, so a cancelled Task is
/// honoured where the call reports progress (signing stops there) and at its end
/// (`CancellationError` instead of the result).
func ffiCall<T>(
    _ body: (CancelFlag) async throws -> T
) async throws -> T {
    let flag = CancelFlag()
    return try await withTaskCancellationHandler {
        try Task.checkCancellation()
        do {
            let result = try await body(flag)
            try Task.checkCancellation()
            return result
        } catch let e as InksealFFI.InksealError {
            if flag.isSet { throw CancellationError() }
            throw InksealError(e)
        }
    } onCancel: {
        flag.set()
    }
}

/// Writes a valid sample capture folder (synthetic face frames, a fictitious ID card) for
/// `InksealClient.captureEvidenceFromFolder`: demos and tests.
public func writeSampleCaptureFolder(_ folder: URL) throws {
    try mapped { try InksealFFI.writeSampleCaptureFolder(folder: folder.path) }
}

/// A key in the Keychain that wraps device shares before the blob store sees them.
public enum PlatformKeys {
    /// An AES-256 key kept as a Keychain item (this device only, when unlocked, never synced).
    public static func keychain(service: String = "io.inkseal", account: String = "share-wrap") throws -> InksealFFI.PlatformKey {
        try mapped { try InksealFFI.PlatformKey.appleKeychain(service: service, account: account) }
    }
}

/// A `SecureBlobStore` keeping each wrapped share as a generic-password Keychain item
/// (`kSecAttrAccessibleWhenUnlockedThisDeviceOnly`, not synchronizable).
public final class KeychainBlobStore: SecureBlobStore, @unchecked Sendable {
    private let service: String

    public init(service: String = "io.inkseal.shares") {
        self.service = service
    }

    private func query(_ keyId: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: keyId,
            kSecAttrSynchronizable as String: kCFBooleanFalse as Any,
            kSecUseDataProtectionKeychain as String: true,
        ]
    }

    public func put(keyId: String, blob: Data) throws {
        let base = query(keyId)
        let update: [String: Any] = [kSecValueData as String: blob]
        var status = SecItemUpdate(base as CFDictionary, update as CFDictionary)
        if status == errSecItemNotFound {
            var add = base
            add[kSecValueData as String] = blob
            add[kSecAttrAccessible as String] = kSecAttrAccessibleWhenUnlockedThisDeviceOnly
            status = SecItemAdd(add as CFDictionary, nil)
        }
        guard status == errSecSuccess else { throw HookError.Failed(reason: "keychain put: \(status)") }
    }

    public func get(keyId: String) throws -> Data? {
        var q = query(keyId)
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess, let data = item as? Data else {
            throw HookError.Failed(reason: "keychain get: \(status)")
        }
        return data
    }

    public func delete(keyId: String) throws {
        let status = SecItemDelete(query(keyId) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw HookError.Failed(reason: "keychain delete: \(status)")
        }
    }
}

final class ProgressAdapter: InksealFFI.ProgressListener, @unchecked Sendable {
    let report: @Sendable (String, Double) throws -> Void
    let flag: CancelFlag
    init(_ report: @escaping @Sendable (String, Double) throws -> Void, _ flag: CancelFlag) {
        self.report = report
        self.flag = flag
    }
    func onProgress(stage: String, fraction: Double) throws {
        if flag.isSet { throw HookError.Cancelled }
        try report(stage, fraction)
    }
}

/// Talks to the co-signing server for this device. Every request about a key is signed by the
/// key's device key (`SecureEnclaveDeviceKeys` on iPhone). PINs cross as Strings (UniFFI has no
/// zeroizable type): do not keep them longer than the call.
public final class InksealClient: Sendable {
    private let ffi: InksealFFI.InksealClient

    /// On iPhone: shares wrapped by a Keychain key and stored by `blobStore`; device keys in
    /// the Secure Enclave.
    public init(
        serverURL: URL,
        platformKey: InksealFFI.PlatformKey,
        blobStore: SecureBlobStore = KeychainBlobStore(),
        deviceKeys: DeviceKeyStore = SecureEnclaveDeviceKeys(),
        pinnedServerCertsPEM: [String]? = nil,
        transport: HttpTransport? = nil
    ) throws {
        ffi = try mapped {
            try InksealFFI.InksealClient(
                serverUrl: serverURL.absoluteString,
                shareStorage: .platform(key: platformKey, blobs: blobStore),
                deviceKeys: .platform(store: deviceKeys),
                pinnedServerCertsPem: pinnedServerCertsPEM,
                transport: transport
            )
        }
    }

    /// Tests and macOS tools: shares in owner-only files under `directory`, unwrapped; device
    /// keys in `deviceKeys` (a software Keychain key with `SecureEnclaveDeviceKeys(secureEnclave:
    /// false)` where there is no Secure Enclave, e.g. the simulator).
    public init(
        serverURL: URL, shareDirectory directory: URL, deviceKeys: DeviceKeyStore,
        pinnedServerCertsPEM: [String]? = nil, transport: HttpTransport? = nil
    ) throws {
        ffi = try mapped {
            try InksealFFI.InksealClient(
                serverUrl: serverURL.absoluteString,
                shareStorage: .directory(path: directory.path),
                deviceKeys: .platform(store: deviceKeys),
                pinnedServerCertsPem: pinnedServerCertsPEM,
                transport: transport
            )
        }
    }

    /// Creates a split key with the one-time enrollment `ticket` the institution's backend
    /// issued (`et-...`, e.g. from a universal link or a QR code), protected by `pin` (6 to 32
    /// characters, not a weak one: `.pinRejected`). A used or expired ticket is
    /// `.ticketInvalid`. The server chooses the key id.
    public func enroll(ticket: String, pin: String) async throws -> EnrollmentInfo {
        let ffi = self.ffi
        return try await ffiCall { _ in try await ffi.enroll(ticket: ticket, pin: pin) }
    }

    /// Creates a split encryption key (opens digital envelopes, signs nothing but its own
    /// certificate request) with its own enrollment ticket; call `requestCertificate` next.
    public func enrollEncryptionKey(ticket: String, pin: String) async throws -> EnrollmentInfo {
        let ffi = self.ffi
        return try await ffiCall { _ in try await ffi.enrollEncryptionKey(ticket: ticket, pin: pin) }
    }

    /// Opens a digital envelope (DER CMS EnvelopedData) addressed to the encryption key's
    /// certificate, with the server (one PIN use, one round trip, audited): all of the
    /// plaintext or nothing. `signed` content is a SignedData to verify before use.
    public func openEnvelope(keyId: String, pin: String, envelope: Data) async throws -> OpenedEnvelope {
        let ffi = self.ffi
        return try await ffiCall { _ in
            try await ffi.openEnvelope(keyId: keyId, pin: pin, envelope: envelope)
        }
    }

    /// Obtains the key's certificate (the request is co-signed: one PIN use). When the key's
    /// policy requires liveness, pass the `headHex` of a fresh identity-proofing capture (one
    /// without documents).
    public func requestCertificate(keyId: String, pin: String, evidenceHeadHex: String? = nil) async throws -> CertificateInfo {
        let ffi = self.ffi
        return try await ffiCall { _ in
            try await ffi.requestCertificate(keyId: keyId, pin: pin, evidenceHeadHex: evidenceHeadHex)
        }
    }

    /// `enroll` for a two-party **P-256** key (ECDSA with SHA-256, what Adobe Reader and
    /// verifiers outside China check): two round trips, each to any server replica. The
    /// server must run with `--enable-unaudited-p256-cosign` (otherwise
    /// `.refused`); `publicKeyHex` is SEC1 uncompressed. Then `requestCertificateP256`, and
    /// sign PDFs with the same `preparePdf`/`signPreparedPdf` or `signPdf` (ecdsa-with-SHA256).
    public func enrollP256(ticket: String, pin: String) async throws -> EnrollmentInfo {
        let ffi = self.ffi
        return try await ffiCall { _ in try await ffi.enrollP256(ticket: ticket, pin: pin) }
    }

    /// `requestCertificate` for a key from `enrollP256`: an ecdsa-with-SHA256 certificate from
    /// the server CA's P-256 root.
    public func requestCertificateP256(keyId: String, pin: String, evidenceHeadHex: String? = nil) async throws -> CertificateInfo {
        let ffi = self.ffi
        return try await ffiCall { _ in
            try await ffi.requestCertificateP256(keyId: keyId, pin: pin, evidenceHeadHex: evidenceHeadHex)
        }
    }

    /// Co-signs `transaction` (one PIN use, one round trip): the DER CMS SignedData whose
    /// content is the transaction. The server decodes and audits it before co-signing.
    public func signTransaction(
        keyId: String, pin: String, transaction: TransactionDetails, evidenceHeadHex: String? = nil
    ) async throws -> Data {
        let ffi = self.ffi
        return try await ffiCall { _ in
            try await ffi.signTransaction(
                keyId: keyId, pin: pin, transaction: transaction, evidenceHeadHex: evidenceHeadHex)
        }
    }

    /// Co-signs a login assertion over `challenge` (one PIN use, one round trip): the DER CMS
    /// SignedData the app hands back to its backend, which verifies it with the server.
    public func login(
        keyId: String, pin: String, challenge: LoginChallengeInfo, channel: Data? = nil,
        evidenceHeadHex: String? = nil
    ) async throws -> Data {
        let ffi = self.ffi
        return try await ffiCall { _ in
            try await ffi.login(
                keyId: keyId, pin: pin, challenge: challenge, channel: channel,
                evidenceHeadHex: evidenceHeadHex)
        }
    }

    /// Identity evidence through the app's hooks (camera, vendor SDK): a server challenge, the
    /// ID card when `idCard` is given, face liveness, local checks, the documents about to be
    /// signed (`documentDigestsHex`: each `PreparedPdf.documentDigestHex`; none for identity
    /// proofing) bound in, and the server's verdict (`.captureRejected(reason:action:)` when
    /// it fails). The hooks are called on a background thread and may block while the camera
    /// UI runs.
    public func captureEvidence(
        keyId: String, liveness: FaceLivenessHook, idCard: IdCardHook? = nil,
        documentDigestsHex: [String] = []
    ) async throws -> EvidenceInfo {
        let ffi = self.ffi
        return try await ffiCall { _ in
            try await ffi.captureEvidence(
                keyId: keyId, liveness: liveness, idCard: idCard, documentDigestsHex: documentDigestsHex
            )
        }
    }

    /// `captureEvidence` from a folder of captures (`writeSampleCaptureFolder`): demos, tests.
    public func captureEvidenceFromFolder(
        keyId: String, folder: URL, requireIdCard: Bool = true, documentDigestsHex: [String] = []
    ) async throws -> EvidenceInfo {
        let ffi = self.ffi
        return try await ffiCall { _ in
            try await ffi.captureEvidenceFromFolder(
                keyId: keyId, folder: folder.path, requireIdCard: requireIdCard,
                documentDigestsHex: documentDigestsHex
            )
        }
    }

    /// Step 1 of signing under a liveness policy: builds the signature revision of `input`
    /// (no network). Capture with `documentDigestsHex: [prepared.documentDigestHex()]`, then
    /// `signPreparedPdf` with that evidence's head.
    public func preparePdf(keyId: String, input: URL, options: PdfSignOptions) async throws -> PreparedPdf {
        let ffi = self.ffi
        return try await ffiCall { _ in
            try ffi.preparePdf(keyId: keyId, inputPath: input.path, options: options)
        }
    }

    /// Step 2: co-signs `prepared` (once) and writes the signed file to `output` atomically;
    /// `evidenceHeadHex` is the head of the evidence that bound its digest.
    public func signPreparedPdf(
        pin: String, prepared: PreparedPdf, output: URL, evidenceHeadHex: String?,
        progress: (@Sendable (String, Double) throws -> Void)? = nil
    ) async throws {
        let ffi = self.ffi
        try await ffiCall { flag in
            try await ffi.signPreparedPdf(
                pin: pin, prepared: prepared, outputPath: output.path, evidenceHeadHex: evidenceHeadHex,
                progress: ProgressAdapter(progress ?? { _, _ in }, flag)
            )
        }
    }

    /// Signs `input` into `output` in one step, atomically, for keys without a liveness
    /// policy; `progress` hears `reading`, `signing`, `writing`, `done` (if it throws, signing
    /// stops with `.hook`). Cancelling the Task stops at the next stage.
    public func signPdf(
        keyId: String, pin: String, input: URL, output: URL, options: PdfSignOptions,
        progress: (@Sendable (String, Double) throws -> Void)? = nil
    ) async throws {
        let ffi = self.ffi
        try await ffiCall { flag in
            try await ffi.signPdf(
                keyId: keyId, pin: pin, inputPath: input.path, outputPath: output.path,
                options: options, progress: ProgressAdapter(progress ?? { _, _ in }, flag)
            )
        }
    }

    /// The server's view of the key.
    public func status(keyId: String) async throws -> KeyStatusInfo {
        let ffi = self.ffi
        return try await ffiCall { _ in try await ffi.status(keyId: keyId) }
    }

    /// Changes the PIN: `oldPin` counts as a PIN attempt, `newPin` must meet the PIN policy.
    public func changePin(keyId: String, oldPin: String, newPin: String) async throws {
        let ffi = self.ffi
        try await ffiCall { _ in try await ffi.changePin(keyId: keyId, oldPin: oldPin, newPin: newPin) }
    }

    /// Revokes the key (PIN required): it never signs again and its certificate goes on the
    /// CA's CRL; the share and device key are forgotten on this device.
    public func revoke(keyId: String, pin: String, reason: RevokeReason = .unspecified) async throws {
        let ffi = self.ffi
        try await ffiCall { _ in try await ffi.revoke(keyId: keyId, pin: pin, reason: reason) }
    }

    /// Forgets the key on this device (share and device key); the server keeps it until revoked.
    public func forget(keyId: String) throws {
        try mapped { try ffi.forget(keyId: keyId) }
    }

    /// The certificate (DER) of a key held on this device, if issued.
    public func certificate(keyId: String) throws -> Data? {
        try mapped { try ffi.certificate(keyId: keyId) }
    }
}

/// A PDF signature revision waiting for its co-signature (`InksealClient.preparePdf`); it
/// signs once. `documentDigestHex()` is what the liveness capture binds.
public typealias PreparedPdf = InksealFFI.PreparedPdf

/// Verifies a transaction SignedData against `trustAnchorsDER` and returns what was approved.
public func verifyTransaction(_ signedDER: Data, trustAnchorsDER: [Data]) async throws -> VerifiedTransactionInfo {
    try await ffiCall { _ in try InksealFFI.verifyTransaction(signedDer: signedDER, trustAnchorsDer: trustAnchorsDER) }
}

/// Verifies every signature of the PDF at `url`; chains are judged against `trustAnchorsPEM`.
public func verifyPdf(at url: URL, trustAnchorsPEM: [String] = []) async throws -> PdfVerification {
    try await ffiCall { _ in try InksealFFI.verifyPdf(path: url.path, trustAnchorPems: trustAnchorsPEM) }
}

/// A signature pad: feed it touch samples, draw the segments it returns. Thread-safe.
public final class InkPad: Sendable {
    private let ffi: InksealFFI.InkPad

    public init(width: Float, height: Float, dpi: Float) throws {
        ffi = try mapped { try InksealFFI.InkPad(width: width, height: height, dpi: dpi) }
    }

    public func beginStroke() throws { try mapped { try ffi.beginStroke() } }
    public func addPoints(_ points: [InkPoint]) throws -> [InkSegment] { try mapped { try ffi.addPoints(points: points) } }
    public func endStroke() throws -> [InkSegment] { try mapped { try ffi.endStroke() } }
    public func undo() throws -> Bool { try mapped { try ffi.undo() } }
    public func clear() throws { try mapped { try ffi.clear() } }
    public func strokeCount() throws -> Int { try mapped { Int(try ffi.strokeCount()) } }

    /// A PNG preview of the ink, `widthPx` wide.
    public func png(widthPx: Int, red: UInt8 = 0, green: UInt8 = 0, blue: UInt8 = 0x80) throws -> Data {
        try mapped { try ffi.toPng(widthPx: UInt32(widthPx), r: red, g: green, b: blue) }
    }

    /// Checks the signature's quality; throws `.handwritingRejected` otherwise.
    public func finish(device: String, capturedAt: Date = Date()) throws -> Handwriting {
        let ms = UInt64(max(0, capturedAt.timeIntervalSince1970 * 1000))
        return Handwriting(try mapped { try ffi.finish(device: device, capturedAtMs: ms) })
    }
}

/// A quality-checked handwritten signature; its raw record never leaves the library unencrypted.
public final class Handwriting: Sendable {
    private let ffi: InksealFFI.Handwriting

    init(_ ffi: InksealFFI.Handwriting) { self.ffi = ffi }

    public var quality: InkQuality { ffi.quality() }

    /// Encrypts the biometric record to the institution's public key (SM2 or P-256 PEM).
    public func sealForInstitution(publicKeyPEM: String) throws -> SealedInk {
        try mapped { try ffi.sealForInstitution(publicKeyPem: publicKeyPEM) }
    }
}
