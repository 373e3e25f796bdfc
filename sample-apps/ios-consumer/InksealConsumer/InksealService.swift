// The app's calls into the SDK through the Swift façade (module `Inkseal`, ios/Sources/Inkseal),
// one per step of the e-policy flow. The camera hook (FaceCapture.swift) implements the
// generated `FaceLivenessHook` protocol; the pad (SignaturePad.swift) uses the façade's InkPad.
import Foundation
import Inkseal

/// What the app keeps of a passed face check.
struct Evidence: Equatable, Sendable {
    let headHex: String
    let validUntil: Date
}

/// The policy's signature, prepared and waiting for the face check bound to its digest.
struct PreparedPolicy: Sendable {
    let pdf: PreparedPdf
    let anchorPem: String
    var digestHex: String { pdf.documentDigestHex() }
}

actor InksealService {
    static let keyword = "投保人（签字）："
    static let policyResource = "e-policy-zh"
    static let institutionKeyResource = "institution.pub"

    private let client: InksealClient
    private var caPem: String?

    /// Shares wrapped by a key kept in the Keychain, the wrapped blobs in the Keychain too
    /// (this device only, when unlocked, never synchronised); the device key, which signs
    /// every request, in the Secure Enclave (a Keychain key on the simulator).
    init(serverUrl: String) throws {
        guard let url = URL(string: serverUrl), url.scheme != nil else { throw InksealError.invalidInput("server URL \(serverUrl)") }
        #if targetEnvironment(simulator)
        let deviceKeys = SecureEnclaveDeviceKeys(tagPrefix: "io.inkseal.consumer.device.", secureEnclave: false)
        #else
        let deviceKeys = SecureEnclaveDeviceKeys(tagPrefix: "io.inkseal.consumer.device.")
        #endif
        client = try InksealClient(
            serverURL: url,
            platformKey: try PlatformKeys.keychain(service: "io.inkseal.consumer"),
            blobStore: KeychainBlobStore(service: "io.inkseal.consumer.shares"),
            deviceKeys: deviceKeys
        )
    }

    /// The insurer's one-time enrollment ticket (from the link that opened the app) and the
    /// customer's new PIN make the key; the insurer's records give the name.
    func enroll(ticket: String, pin: String) async throws -> EnrollmentInfo {
        try await client.enroll(ticket: ticket, pin: pin)
    }

    /// A face check: identity proofing (no documents) before the certificate, or, with
    /// `documentDigestsHex`, the check that lets exactly that policy be signed. No ID card in
    /// the consumer flow.
    func captureEvidence(keyId: String, liveness: CameraFaceLivenessHook, documentDigestsHex: [String] = []) async throws -> Evidence {
        let info = try await client.captureEvidence(keyId: keyId, liveness: liveness, documentDigestsHex: documentDigestsHex)
        return Evidence(headHex: info.headHex, validUntil: Date(timeIntervalSince1970: Double(info.validUntilMs) / 1000))
    }

    /// Seals the handwriting to the insurer, gets the certificate once (presenting the identity
    /// proofing) and prepares the policy's signature at the keyword: its digest is what the
    /// next face check binds.
    func prepare(keyId: String, pin: String, handwriting: Handwriting, signerName: String, proofing: Evidence?,
                 policy: URL) async throws -> PreparedPolicy {
        let sealed = try handwriting.sealForInstitution(publicKeyPEM: try Self.institutionKeyPem())
        let anchor = try await certificateAuthority(keyId: keyId, pin: pin, proofing: proofing)
        let options = PdfSignOptions(
            placement: .keyword(text: Self.keyword, page: nil, width: 150, height: 60),
            reason: "电子保单投保确认",
            location: "移动端",
            labelLines: [signerName, Self.today()],
            labelFont: CoreTextLabelFont(),
            handwriting: sealed
        )
        return PreparedPolicy(pdf: try await client.preparePdf(keyId: keyId, input: policy, options: options), anchorPem: anchor)
    }

    /// Co-signs the prepared policy with the evidence that bound it, verifies it against the
    /// server's CA.
    func sign(pin: String, prepared: PreparedPolicy, evidence: Evidence, output: URL) async throws -> PdfVerification {
        try await client.signPreparedPdf(pin: pin, prepared: prepared.pdf, output: output, evidenceHeadHex: evidence.headHex)
        return try await verifyPdf(at: output, trustAnchorsPEM: [prepared.anchorPem])
    }

    /// The key's certificate once (the CSR is co-signed: one PIN use; under a liveness policy
    /// with the identity proofing); the CA as trust anchor.
    private func certificateAuthority(keyId: String, pin: String, proofing: Evidence?) async throws -> String {
        if let caPem { return caPem }
        let cert = try await client.requestCertificate(keyId: keyId, pin: pin, evidenceHeadHex: proofing?.headHex)
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
    case pinRejected(String)
    case ticketInvalid(String)
    case locked
    case revoked
    case unauthenticated(String)
    case captureRejected(String, CaptureAction)
    case evidenceRequired(String)
    case handwritingRejected(String)
    case clockSkew
    case rateLimited(UInt64)
    case network(String)
    case other(String)

    init(_ error: Error) {
        switch error {
        case InksealError.wrongPin(let left): self = .wrongPin(attemptsLeft: left)
        case InksealError.pinRejected(let detail): self = .pinRejected(detail)
        case InksealError.ticketInvalid(let detail): self = .ticketInvalid(detail)
        case InksealError.locked: self = .locked
        case InksealError.revoked: self = .revoked
        case InksealError.unauthenticated(let detail): self = .unauthenticated(detail)
        case InksealError.captureRejected(let reason, let action): self = .captureRejected(reason, action)
        case InksealError.evidenceRequired(let detail): self = .evidenceRequired(detail)
        case InksealError.handwritingRejected(let reason): self = .handwritingRejected(reason)
        case InksealError.clockSkew: self = .clockSkew
        case InksealError.rateLimited(let seconds): self = .rateLimited(seconds)
        case InksealError.network(let detail): self = .network(detail)
        default: self = .other(String(describing: error))
        }
    }

    var message: String {
        switch self {
        case .wrongPin(let left): return "PIN 错误，还可尝试 \(left) 次"
        case .pinRejected: return "PIN 过于简单（如 123456、000000），请换一个"
        case .ticketInvalid: return "开通链接已使用或已过期，请在保险公司页面重新获取"
        case .locked: return "密钥已锁定（PIN 错误次数过多），请联系客服核验身份后重新开通"
        case .revoked: return "签名密钥已注销，请重新开通"
        case .unauthenticated: return "本机未被识别为该签名密钥的设备，请重新开通"
        case .captureRejected(let reason, let action):
            let next: String
            switch action {
            case .retakeFace: next = "请重新进行人脸核验"
            case .newChallenge: next = "请重新开始核验"
            case .retry: next = "请稍后重试"
            default: next = "请重新核验"
            }
            return "人脸核验未通过：\(reason)。\(next)"
        case .evidenceRequired(let detail): return "需要重新进行人脸核验：\(detail)"
        case .handwritingRejected(let reason): return "请重新签名：\(reason)"
        case .clockSkew: return "手机时间不准确，请在设置中开启“自动设置”后重试"
        case .rateLimited(let seconds): return "操作过于频繁，请 \(seconds) 秒后重试"
        case .network(let detail): return "网络异常，请稍后重试（\(detail)）"
        case .other(let text): return text
        }
    }
}
