// The consumer's e-policy flow: open the app with the server, enroll (PIN), face check bound to
// the policy, sign with the finger or Apple Pencil, see the verified policy.
import Foundation
import Inkseal

@MainActor
final class PolicyFlow: ObservableObject {
    enum Step {
        case welcome
        case enroll
        case face
        case sign
        case done(verification: PdfVerification, signed: URL)
    }

    @Published var step: Step = .welcome
    @Published var problem: FlowProblem?
    @Published private(set) var busy = false
    @Published private(set) var evidence: Evidence?
    @Published var serverUrl = "https://cosign.example.com"
    @Published var userId = ""
    @Published var name = ""

    let face = FaceCaptureModel()
    let pad = SignaturePadModel()
    private var service: InksealService?
    private var keyId: String?

    func start() {
        run {
            self.service = try InksealService(serverUrl: self.serverUrl)
            self.step = .enroll
        }
    }

    func enroll(pin: String) {
        run {
            guard let service = self.service else { return }
            self.keyId = try await service.enroll(userId: self.userId, pin: pin)
            self.step = .face
        }
    }

    func verifyFace() {
        run {
            guard let service = self.service, let keyId = self.keyId else { return }
            let hook = CameraFaceLivenessHook(model: self.face)
            self.evidence = try await service.captureEvidence(keyId: keyId, liveness: hook, document: try InksealService.policyDocument())
            self.step = .sign
        }
    }

    func sign(pin: String) {
        run {
            guard let service = self.service, let keyId = self.keyId else { return }
            let handwriting = try self.pad.finish()
            let output = FileManager.default.urls(for: .documentDirectory, in: .userDomainMask)[0]
                .appendingPathComponent("e-policy-signed-\(Int(Date().timeIntervalSince1970)).pdf")
            let verification = try await service.sign(
                keyId: keyId, pin: pin, handwriting: handwriting, signerName: self.name,
                evidence: self.evidence, policy: try InksealService.policyDocument(), output: output)
            self.pad.clear()
            self.step = .done(verification: verification, signed: output)
        }
    }

    func restart() {
        evidence = nil
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
                case .locked: step = .welcome
                case .captureRejected: step = .face
                case .evidenceRequired: evidence = nil; step = .face // back to capture
                default: break // wrong PIN (attempts left shown), handwriting, network: stay
                }
            }
        }
    }
}
