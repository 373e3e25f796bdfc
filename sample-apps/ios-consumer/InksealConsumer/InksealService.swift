// The app's calls into the SDK through the Swift façade (module `Inkseal`, ios/Sources/Inkseal),
// one per step of the e-policy flow. The camera hook (FaceCapture.swift) implements the
// generated `FaceLivenessHook` protocol; the pad (SignaturePad.swift) uses the façade's InkPad.
//
// ASSUMED, not yet in the façade when this was written: the capture call mirroring the Kotlin
// contract, `InksealClient.captureEvidence(keyId:liveness:idCard:document:) async throws ->
// EvidenceInfo`, and `PdfSignOptions.evidenceHeadHex` (a new last field). See ../README.md.
import Foundation
import Inkseal

/// What the app keeps of a passed identity check.
struct Evidence: Equatable {
    let headHex: String
    let validUntil: Date
}

actor InksealService {
    static let keyword = "投保人（签字）："
    static let policyResource = "e-policy-zh"
    static let institutionKeyResource = "institution.pub"

    private let client: InksealClient
    private var caPem: String?

    /// Shares wrapped by a key kept in the Keychain, the wrapped blobs in the Keychain too
    /// (this device only, when unlocked, never synchronised).
    init(serverUrl: String) throws {
        guard let url = URL(string: serverUrl), url.scheme != nil else { throw InksealError.invalidInput("server URL \(serverUrl)") }
        client = try InksealClient(
            serverURL: url,
            platformKey: try PlatformKeys.keychain(service: "io.inkseal.consumer"),
            blobStore: KeychainBlobStore(service: "io.inkseal.consumer.shares")
        )
    }

    func enroll(userId: String, pin: String) async throws -> String {
        try await client.enroll(userId: userId, pin: pin).keyId
    }

    /// Face liveness bound to the policy document; no ID card in the consumer flow (the
    /// customer's identity was proofed when the account was opened).
    func captureEvidence(keyId: String, liveness: CameraFaceLivenessHook, document: URL) async throws -> Evidence {
        let info = try await client.captureEvidence(keyId: keyId, liveness: liveness, idCard: nil, document: document)
        guard info.passed else { throw InksealError.captureRejected(reason: info.reason) }
        return Evidence(headHex: info.headHex, validUntil: Date(timeIntervalSince1970: Double(info.validUntilMs) / 1000))
    }

    /// Seals the handwriting to the insurer, co-signs the e-policy at the keyword (bound to the
    /// evidence) and verifies the result against the server's CA.
    func sign(keyId: String, pin: String, handwriting: Handwriting, signerName: String, evidence: Evidence?,
              policy: URL, output: URL) async throws -> PdfVerification {
        let sealed = try handwriting.sealForInstitution(publicKeyPEM: try Self.institutionKeyPem())
        let anchor = try await certificateAuthority(keyId: keyId, pin: pin)
        let options = PdfSignOptions(
            placement: .keyword(text: Self.keyword, page: nil, width: 150, height: 60),
            reason: "电子保单投保确认",
            location: "移动端",
            labelLines: [signerName, Self.today()],
            handwriting: sealed,
            evidenceHeadHex: evidence?.headHex
        )
        try await client.signPdf(keyId: keyId, pin: pin, input: policy, output: output, options: options)
        return try await verifyPdf(at: output, trustAnchorsPEM: [anchor])
    }

    /// The key's certificate once (the CSR is co-signed: one PIN use); the CA as trust anchor.
    private func certificateAuthority(keyId: String, pin: String) async throws -> String {
        if let caPem { return caPem }
        // NOTE: a server whose policy requires liveness also wants the evidence on this
        // co-signature; requestCertificate takes none yet (see ../README.md).
        let cert = try await client.requestCertificate(keyId: keyId, pin: pin)
        let pem = "-----BEGIN CERTIFICATE-----\n"
            + cert.caCertificateDer.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            + "\n-----END CERTIFICATE-----\n"
        caPem = pem
        return pem
    }

    static func institutionKeyPem() throws -> String {
        guard let url = Bundle.main.url(forResource: institutionKeyResource, withExtension: "pem") else {
            throw InksealError.invalidInput("add institution.pub.pem (the insurer's public key) to the app bundle")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    static func policyDocument() throws -> URL {
        guard let url = Bundle.main.url(forResource: policyResource, withExtension: "pdf") else {
            throw InksealError.invalidInput("add e-policy-zh.pdf (tests/data) to the app bundle")
        }
        return url
    }

    private static func today() -> String {
        let f = DateFormatter()
        f.calendar = Calendar(identifier: .gregorian)
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date())
    }
}

/// What a failed step means for the customer, from the façade's typed error.
enum FlowProblem: Equatable {
    case wrongPin(attemptsLeft: Int)
    case locked
    case captureRejected(String)
    case evidenceRequired(String)
    case handwritingRejected(String)
    case network(String)
    case other(String)

    init(_ error: Error) {
        switch error {
        case InksealError.wrongPin(let left): self = .wrongPin(attemptsLeft: left)
        case InksealError.locked: self = .locked
        case InksealError.captureRejected(let reason): self = .captureRejected(reason)
        case InksealError.evidenceRequired(let detail): self = .evidenceRequired(detail)
        case InksealError.handwritingRejected(let reason): self = .handwritingRejected(reason)
        case InksealError.network(let detail): self = .network(detail)
        default: self = .other(String(describing: error))
        }
    }

    var message: String {
        switch self {
        case .wrongPin(let left): return "PIN 错误，还可尝试 \(left) 次"
        case .locked: return "密钥已锁定（PIN 错误次数过多），请联系客服核验身份后重新开通"
        case .captureRejected(let reason): return "人脸核验未通过：\(reason)。请重新核验"
        case .evidenceRequired(let detail): return "需要重新进行人脸核验：\(detail)"
        case .handwritingRejected(let reason): return "请重新签名：\(reason)"
        case .network(let detail): return "网络异常，请稍后重试（\(detail)）"
        case .other(let text): return text
        }
    }
}
