// The consumer's e-policy flow: the insurer's link brings a one-time enrollment ticket; enroll
// (PIN, a Secure Enclave device key), face check (identity proofing, for the certificate), sign
// with the finger or Apple Pencil, a face check bound to the prepared policy, the verified policy.
import Foundation
import Inkseal

@MainActor
final class PolicyFlow: ObservableObject {
    enum Step {
        case welcome
        case enroll
        case face
        case sign
        /// The face check bound to the prepared policy's digest, then the co-signature.
        case confirm
        case done(verification: PdfVerification, signed: URL)
    }

    @Published var step: Step = .welcome
    @Published var problem: FlowProblem?
    @Published private(set) var busy = false
    @Published private(set) var proofing: Evidence?
    @Published var serverUrl = "https://cosign.example.com"
    /// The enrollment ticket (et-...): the insurer's backend issued it after its own checks
    /// and put it in the link that opened the app.
    @Published var ticket = ""
    @Published private(set) var name = ""

    let face = FaceCaptureModel()
    let pad = SignaturePadModel()
    private var service: InksealService?
    private var keyId: String?

    /// `inkseal-consumer://enroll?ticket=et-...&server=https://...` (the insurer's page or a
    /// QR code opens it; register the scheme under URL Types, or use a universal link).
    func open(_ url: URL) {
        guard url.scheme == "inkseal-consumer", url.host == "enroll",
              let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems,
              let ticket = items.first(where: { $0.name == "ticket" })?.value, ticket.hasPrefix("et-")
        else { return }
        self.ticket = ticket
        if let server = items.first(where: { $0.name == "server" })?.value, server.hasPrefix("https://") {
            serverUrl = server
        }
        step = .welcome
    }

    func start() {
        run {
            self.service = try InksealService(serverUrl: self.serverUrl)
            self.step = .enroll
        }
    }

    func enroll(pin: String) {
        run {
            guard let service = self.service else { return }
            let info = try await service.enroll(ticket: self.ticket, pin: pin)
            self.ticket = "" // used: a ticket enrolls once
            self.keyId = info.keyId
            self.name = info.certificateName
            self.step = .face
        }
    }

    /// Identity proofing: the face check the certificate request presents.
    func verifyFace() {
        run {
            guard let service = self.service, let keyId = self.keyId else { return }
            let hook = CameraFaceLivenessHook(model: self.face)
            self.proofing = try await service.captureEvidence(keyId: keyId, liveness: hook)
            self.step = .sign
        }
    }

    /// Prepare the policy's signature, film the customer bound to its digest, co-sign it.
    func sign(pin: String) {
        run {
            guard let service = self.service, let keyId = self.keyId else { return }
            let handwriting = try self.pad.finish()
            let prepared = try await service.prepare(
                keyId: keyId, pin: pin, handwriting: handwriting, signerName: self.name,
                proofing: self.proofing, policy: try InksealService.policyDocument())
            self.step = .confirm // FaceView shows the camera while the hook runs
            let bound = try await service.captureEvidence(
                keyId: keyId, liveness: CameraFaceLivenessHook(model: self.face),
                documentDigestsHex: [prepared.digestHex])
            let output = FileManager.default.urls(for: .documentDirectory, in: .userDomainMask)[0]
                .appendingPathComponent("e-policy-signed-\(Int(Date().timeIntervalSince1970)).pdf")
            let verification = try await service.sign(pin: pin, prepared: prepared, evidence: bound, output: output)
            self.pad.clear()
            self.step = .done(verification: verification, signed: output)
        }
    }

    func restart() {
        proofing = nil
        keyId = nil
        step = .welcome
    }

    /// Runs a step; the typed error decides where the customer goes next.
    private func run(_ body: @escaping @MainActor () async throws -> Void) {
        guard !busy else { return }
        busy = true
        problem = nil
        Task {
            defer { busy = false }
            do {
                try await body()
            } catch {
                let problem = FlowProblem(error)
                self.problem = problem
                switch problem {
                case .locked, .revoked, .unauthenticated, .ticketInvalid: keyId = nil; step = .welcome
                case .captureRejected: if case .confirm = step { step = .sign } else { step = .face }
                case .evidenceRequired: proofing = nil; step = .face // back to identity proofing
                case .wrongPin: if case .confirm = step { step = .sign }
                default: break // weak PIN (enroll again), handwriting, network: stay
                }
            }
        }
    }
}
