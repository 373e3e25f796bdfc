// The Swift mirror of android/jvm-tests: a real flow against a real co-signing server.
// NOT RUN ON THE PROJECT'S LINUX MACHINES. On a Mac (see ios/README.md):
//
//   cargo run -p inkseal-cli -- serve --listen 127.0.0.1:8440 &
//   openssl genpkey -algorithm SM2 -out /tmp/inst.key && openssl pkey -in /tmp/inst.key -pubout -out /tmp/inst.pub.pem
//   INKSEAL_SERVER=http://127.0.0.1:8440 INKSEAL_FIXTURE=$PWD/tests/data/loan-contract-zh.pdf \
//   INKSEAL_INSTITUTION_KEY=/tmp/inst.pub.pem swift test --package-path ios

import Foundation
import Inkseal
import XCTest

final class InksealFlowTests: XCTestCase {
    let pin = "246810"

    struct Env {
        let server: URL
        let fixture: URL
        let institutionPEM: String
    }

    func env() throws -> Env {
        let e = ProcessInfo.processInfo.environment
        guard let server = e["INKSEAL_SERVER"].flatMap(URL.init(string:)),
              let fixture = e["INKSEAL_FIXTURE"], let key = e["INKSEAL_INSTITUTION_KEY"]
        else { throw XCTSkip("set INKSEAL_SERVER, INKSEAL_FIXTURE and INKSEAL_INSTITUTION_KEY") }
        return Env(server: server, fixture: URL(fileURLWithPath: fixture),
                   institutionPEM: try String(contentsOfFile: key, encoding: .utf8))
    }

    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func writeSignature(_ pad: InkPad) throws -> Int {
        var drawn = 0
        for (s, y) in [(0, Float(60)), (1, Float(140))] {
            try pad.beginStroke()
            let points = (0..<60).map { i in
                InkPoint(x: 40 + Float(i) * 6, y: y + sin(Float(i) / 6) * 30,
                         tMs: UInt32(s * 1000 + i * 10), pressure: 0.5, tilt: nil, azimuth: nil)
            }
            for start in stride(from: 0, to: points.count, by: 8) {
                drawn += try pad.addPoints(Array(points[start..<min(start + 8, points.count)])).count
            }
            drawn += try pad.endStroke().count
        }
        return drawn
    }

    func pem(_ der: Data) -> String {
        "-----BEGIN CERTIFICATE-----\n" + der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            + "\n-----END CERTIFICATE-----\n"
    }

    func options(_ sealed: SealedInk? = nil) -> PdfSignOptions {
        PdfSignOptions(fieldName: nil, placement: .keyword(text: "借款人（签字）：", page: nil, width: 120, height: 48),
                       reason: "借款合同签署", location: "上海", labelLines: ["张三"], handwriting: sealed)
    }

    func testEnrollCertifyDrawSignVerify() async throws {
        let env = try env()
        let dir = try tempDir()
        let client = try InksealClient(serverURL: env.server, shareDirectory: dir.appendingPathComponent("shares"))
        let key = try await client.enroll(userId: "customer-swift", pin: pin)
        XCTAssertEqual(key.publicKeyHex.count, 66)
        let cert = try await client.requestCertificate(keyId: key.keyId, pin: pin)
        XCTAssertEqual(try client.certificate(keyId: key.keyId), cert.certificateDer)

        let pad = try InkPad(width: 500, height: 200, dpi: 160)
        XCTAssertGreaterThan(try writeSignature(pad), 50)
        let written = try pad.finish(device: "XCTest pad")
        XCTAssertEqual(written.quality.points, 120)
        let sealed = try written.sealForInstitution(publicKeyPEM: env.institutionPEM)

        let out = dir.appendingPathComponent("signed.pdf")
        let stages = StageLog()
        try await client.signPdf(keyId: key.keyId, pin: pin, input: env.fixture, output: out,
                                 options: options(sealed)) { stage, _ in stages.append(stage) }
        XCTAssertEqual(stages.all, ["reading", "signing", "writing", "done"])
        let report = try await verifyPdf(at: out, trustAnchorsPEM: [pem(cert.caCertificateDer)])
        XCTAssertTrue(report.allValid)
        XCTAssertEqual(report.signatures.first?.inkBinding, true)
        XCTAssertEqual(report.signatures.first?.coversWholeDocument, true)
    }

    func testWrongPinsCountDownThenLock() async throws {
        let env = try env()
        let client = try InksealClient(serverURL: env.server, shareDirectory: try tempDir())
        let key = try await client.enroll(userId: "customer-swift-forgetful", pin: pin)
        var left: [Int] = []
        for _ in 0..<4 {
            do {
                _ = try await client.requestCertificate(keyId: key.keyId, pin: "000000")
                XCTFail("a wrong PIN was accepted")
            } catch InksealError.wrongPin(let attemptsLeft) {
                left.append(attemptsLeft)
            }
        }
        XCTAssertEqual(left, [4, 3, 2, 1])
        do {
            _ = try await client.requestCertificate(keyId: key.keyId, pin: "000000")
            XCTFail("the fifth wrong PIN must lock")
        } catch InksealError.locked {}
        let status = try await client.status(keyId: key.keyId)
        XCTAssertTrue(status.locked)
    }

    func testAThrowingProgressHookIsAHookError() async throws {
        let env = try env()
        let dir = try tempDir()
        let client = try InksealClient(serverURL: env.server, shareDirectory: dir)
        let key = try await client.enroll(userId: "customer-swift-hook", pin: pin)
        _ = try await client.requestCertificate(keyId: key.keyId, pin: pin)
        let out = dir.appendingPathComponent("never.pdf")
        do {
            try await client.signPdf(keyId: key.keyId, pin: pin, input: env.fixture, output: out,
                                     options: options()) { stage, _ in
                if stage == "writing" { throw HookFailure() }
            }
            XCTFail("the hook threw: signing must fail")
        } catch InksealError.hook {}
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    func testCancellingASigningTaskLeavesNoPartialFile() async throws {
        let env = try env()
        let dir = try tempDir()
        let client = try InksealClient(serverURL: env.server, shareDirectory: dir)
        let key = try await client.enroll(userId: "customer-swift-cancel", pin: pin)
        _ = try await client.requestCertificate(keyId: key.keyId, pin: pin)
        let out = dir.appendingPathComponent("cancelled.pdf")
        let task = Task {
            try await client.signPdf(keyId: key.keyId, pin: pin, input: env.fixture, output: out, options: options())
        }
        task.cancel()
        let result = await task.result
        if case .success = result {
            let report = try await verifyPdf(at: out)
            XCTAssertTrue(report.signatures.first?.problems.isEmpty ?? false)
        } else {
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        }
    }

    /// Needs a keychain: an iOS simulator, or a signed macOS host (INKSEAL_KEYCHAIN_TESTS=1).
    func testKeychainWrappedSharesRoundTripAndTamperingIsRefused() async throws {
        #if os(macOS)
        guard ProcessInfo.processInfo.environment["INKSEAL_KEYCHAIN_TESTS"] == "1" else {
            throw XCTSkip("the data-protection keychain needs a signed host on macOS")
        }
        #endif
        let env = try env()
        let service = "io.inkseal.tests.\(UUID().uuidString)"
        let blobs = MemoryBlobs()
        let key = try PlatformKeys.keychain(service: service)
        try key.check()
        let client = try InksealClient(serverURL: env.server, platformKey: key, blobStore: blobs)
        let enrolled = try await client.enroll(userId: "customer-swift-keychain", pin: pin)
        let blob = try XCTUnwrap(blobs.get(keyId: enrolled.keyId))
        XCTAssertNil(String(data: blob, encoding: .utf8).flatMap { $0.contains("secret") ? $0 : nil })
        var tampered = blob
        tampered[tampered.count / 2] ^= 1
        try blobs.put(keyId: enrolled.keyId, blob: tampered)
        let fresh = try InksealClient(serverURL: env.server, platformKey: key, blobStore: blobs)
        XCTAssertThrowsError(try fresh.certificate(keyId: enrolled.keyId)) { error in
            guard case InksealError.storage = error else { return XCTFail("\(error)") }
        }
    }
}

struct HookFailure: Error {}

final class StageLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stages: [String] = []
    func append(_ s: String) { lock.lock(); stages.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return stages }
}

final class MemoryBlobs: SecureBlobStore, @unchecked Sendable {
    private let lock = NSLock()
    private var blobs: [String: Data] = [:]
    func put(keyId: String, blob: Data) throws { lock.lock(); blobs[keyId] = blob; lock.unlock() }
    func get(keyId: String) throws -> Data? { lock.lock(); defer { lock.unlock() }; return blobs[keyId] }
    func delete(keyId: String) throws { lock.lock(); blobs[keyId] = nil; lock.unlock() }
}
