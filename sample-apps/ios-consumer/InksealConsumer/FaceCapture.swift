// Face liveness through AVFoundation: the library calls the hook on one of its threads with the
// server's challenge; the hook shows the camera with the challenge's actions in Chinese, takes
// one frame facing the camera and one per action, and returns them with the vendor's package.
import AVFoundation
import CryptoKit
import Foundation
import InksealFFI
import SwiftUI

let actionPrompts: [String: String] = [
    "blink": "请眨眼",
    "turn_left": "请向左转头",
    "turn_right": "请向右转头",
    "nod": "请点头",
    "open_mouth": "请张嘴",
]

/// The camera and the prompt the face screen shows while a capture runs.
@MainActor
final class FaceCaptureModel: NSObject, ObservableObject {
    @Published private(set) var prompt = ""
    @Published private(set) var running = false
    let session = AVCaptureSession()
    private let photos = AVCapturePhotoOutput()
    private var configured = false
    private var pending: [PhotoDelegate] = []

    /// Frames for the challenge: facing the camera, then one per action.
    func run(challenge: LivenessChallengeInfo) async throws -> [Data] {
        guard await AVCaptureDevice.requestAccess(for: .video) else {
            throw HookError.Failed(reason: "camera access denied")
        }
        try configure()
        running = true
        defer { running = false; stop() }
        await start()
        prompt = "请正对屏幕，保持光线充足"
        try await Task.sleep(for: .milliseconds(1500))
        var frames = [try await photo()]
        for action in challenge.actions {
            prompt = actionPrompts[action] ?? action
            try await Task.sleep(for: .milliseconds(1800))
            frames.append(try await photo())
        }
        prompt = "采集完成，正在提交…"
        return frames
    }

    private func configure() throws {
        guard !configured else { return }
        session.beginConfiguration()
        defer { session.commitConfiguration() }
        // About 1280x720: the library checks every frame and the evidence carries them all.
        session.sessionPreset = .hd1280x720
        guard let camera = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: .front) else {
            throw HookError.Failed(reason: "no front camera")
        }
        let input = try AVCaptureDeviceInput(device: camera)
        guard session.canAddInput(input), session.canAddOutput(photos) else {
            throw HookError.Failed(reason: "the camera cannot be configured")
        }
        session.addInput(input)
        session.addOutput(photos)
        configured = true
    }

    private func start() async {
        let session = self.session
        await Task.detached { session.startRunning() }.value
    }

    private func stop() {
        let session = self.session
        Task.detached { session.stopRunning() }
    }

    private func photo() async throws -> Data {
        try await withCheckedThrowingContinuation { continuation in
            let delegate = PhotoDelegate(continuation) { [weak self] done in
                Task { @MainActor in self?.pending.removeAll { $0 === done } }
            }
            pending.append(delegate) // the photo output does not keep its delegate alive
            photos.capturePhoto(with: AVCapturePhotoSettings(format: [AVVideoCodecKey: AVVideoCodecType.jpeg]), delegate: delegate)
        }
    }
}

private final class PhotoDelegate: NSObject, AVCapturePhotoCaptureDelegate, @unchecked Sendable {
    private let continuation: CheckedContinuation<Data, Error>
    private let finished: (PhotoDelegate) -> Void

    init(_ continuation: CheckedContinuation<Data, Error>, finished: @escaping (PhotoDelegate) -> Void) {
        self.continuation = continuation
        self.finished = finished
    }

    func photoOutput(_ output: AVCapturePhotoOutput, didFinishProcessingPhoto photo: AVCapturePhoto, error: Error?) {
        if let error {
            continuation.resume(throwing: error)
        } else if let jpeg = photo.fileDataRepresentation() {
            continuation.resume(returning: jpeg)
        } else {
            continuation.resume(throwing: HookError.Failed(reason: "the camera returned no image"))
        }
        finished(self)
    }
}

/// The FaceLivenessHook the library calls (on its own thread, never the main thread): runs the
/// capture on the main actor and waits for it.
final class CameraFaceLivenessHook: FaceLivenessHook, @unchecked Sendable {
    private let model: FaceCaptureModel
    private let vendor: LivenessVendor

    init(model: FaceCaptureModel, vendor: LivenessVendor = DevelopmentTestVendor()) {
        self.model = model
        self.vendor = vendor
    }

    func capture(challenge: LivenessChallengeInfo) throws -> LivenessCaptureResult {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let model = self.model
        Task { @MainActor in
            do { box.set(.success(try await model.run(challenge: challenge))) } catch { box.set(.failure(error)) }
            done.signal()
        }
        let msLeft = Int64(challenge.expiresAtMs) - Int64(Date().timeIntervalSince1970 * 1000)
        guard done.wait(timeout: .now() + .milliseconds(Int(max(10_000, min(msLeft, 300_000))))) == .success else {
            throw HookError.Failed(reason: "the liveness capture timed out")
        }
        let frames: [Data]
        do { frames = try box.get() } catch let e as HookError { throw e } catch { throw HookError.Failed(reason: "\(error)") }
        // ─── VENDOR SDK PLUG POINT (see LivenessVendor) ───
        let result = vendor.package(challenge: challenge, frames: frames, actionsPerformed: challenge.actions)
        return LivenessCaptureResult(frames: frames, vendorName: vendor.name,
                                     vendorReference: result.reference, vendorPackage: result.package)
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<[Data], Error> = .failure(HookError.Failed(reason: "no capture"))
    func set(_ r: Result<[Data], Error>) { lock.lock(); result = r; lock.unlock() }
    func get() throws -> [Data] { lock.lock(); defer { lock.unlock() }; return try result.get() }
}

// ─── VENDOR SDK PLUG POINT ──────────────────────────────────────────────────────────────────────
//
// Production replaces LivenessVendor with the liveness vendor's SDK (Tencent Cloud FaceID 慧眼,
// Alibaba Cloud 实人认证, FaceTec, iProov, …). Those SDKs usually run their own camera UI: start
// the SDK in CameraFaceLivenessHook.capture instead of FaceCaptureModel.run, pass the challenge's
// nonce as the SDK's nonce / extra data, and return the SDK's frames, its request id
// (vendorReference) and its opaque result package (vendorPackage). The inkseal server's adapter
// for that vendor verifies the package with the vendor's API: the phone never decides "passed".

struct VendorResult {
    let reference: String
    let package: Data
}

protocol LivenessVendor: Sendable {
    var name: String { get }
    func package(challenge: LivenessChallengeInfo, frames: [Data], actionsPerformed: [String]) -> VendorResult
}

/// DEVELOPMENT ONLY: the package of the server's deterministic test vendor
/// (`inkseal-test-vendor`): binds the nonce, the frames' SHA-256 and the actions, analyses no
/// face. A development server accepts it; a production server has no test vendor.
struct DevelopmentTestVendor: LivenessVendor {
    let name = "inkseal-test-vendor"

    func package(challenge: LivenessChallengeInfo, frames: [Data], actionsPerformed: [String]) -> VendorResult {
        let body: [String: Any] = [
            "vendor": name,
            "challenge_id": challenge.challengeId,
            "nonce_hex": challenge.nonceHex,
            "actions_performed": actionsPerformed,
            "frame_sha256_hex": frames.map { SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() },
            "verdict_hint": "live",
        ]
        let json = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return VendorResult(reference: "dev-\(challenge.challengeId)", package: json)
    }
}

/// The front camera's live picture.
struct CameraPreview: UIViewRepresentable {
    let session: AVCaptureSession

    final class PreviewView: UIView {
        override class var layerClass: AnyClass { AVCaptureVideoPreviewLayer.self }
        var previewLayer: AVCaptureVideoPreviewLayer { layer as! AVCaptureVideoPreviewLayer }
    }

    func makeUIView(context: Context) -> PreviewView {
        let view = PreviewView()
        view.previewLayer.session = session
        view.previewLayer.videoGravity = .resizeAspectFill
        return view
    }

    func updateUIView(_ uiView: PreviewView, context: Context) {}
}
