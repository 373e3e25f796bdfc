// The Swift mirror of android/jvm-tests: a real flow against a real co-signing server.
// NOT RUN ON THE PROJECT'S LINUX MACHINES. On a Mac (see ios/README.md):
//
//   export INKSEAL_DATA=$(mktemp -d)
//   cargo run -p inkseal-cli -- serve --listen 127.0.0.1:8440 --insecure-test-liveness-vendor & sleep 5
//   INKSEAL_API_KEY=$(cargo run -q -p inkseal-cli -- admin credential create --name "swift tests" \
//       --role enroll,policy:write --json | sed -n 's/.*"api_key": "\(.*\)".*/\1/p')
//   openssl genpkey -algorithm SM2 -out /tmp/inst.key && openssl pkey -in /tmp/inst.key -pubout -out /tmp/inst.pub.pem
//   INKSEAL_SERVER=http://127.0.0.1:8440 INKSEAL_API_KEY=$INKSEAL_API_KEY \
//   INKSEAL_FIXTURE=$PWD/tests/data/loan-contract-zh.pdf INKSEAL_INSTITUTION_KEY=/tmp/inst.pub.pem \
//   swift test --package-path ios

import CryptoKit
import Foundation
import Inkseal
import XCTest

final class InksealFlowTests: XCTestCase {
    let pin = "246810"

    struct Env {
        let server: URL
        let backend: Backend
        let fixture: URL
        let institutionPEM: String
    }

    func env() throws -> Env {
        let e = ProcessInfo.processInfo.environment
        guard let server = e["INKSEAL_SERVER"].flatMap(URL.init(string:)), let apiKey = e["INKSEAL_API_KEY"],
              let fixture = e["INKSEAL_FIXTURE"], let key = e["INKSEAL_INSTITUTION_KEY"]
        else { throw XCTSkip("set INKSEAL_SERVER, INKSEAL_API_KEY, INKSEAL_FIXTURE and INKSEAL_INSTITUTION_KEY") }
        return Env(server: server, backend: Backend(server: server, apiKey: apiKey),
                   fixture: URL(fileURLWithPath: fixture),
                   institutionPEM: try String(contentsOfFile: key, encoding: .utf8))
    }

    /// A client on its own share directory, device keys in memory (CryptoKit).
    func makeClient(_ env: Env, keys: DeviceKeyStore = MemoryDeviceKeys(), transport: HttpTransport? = nil) throws -> InksealClient {
        try InksealClient(serverURL: env.server, shareDirectory: try tempDir(), deviceKeys: keys, transport: transport)
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
                       reason: "借款合同签署", location: "上海", labelLines: ["张三"], labelFont: CoreTextLabelFont(), handwriting: sealed)
    }

    func testEnrollWithATicketCertifyDrawSignVerify() async throws {
        let env = try env()
        let dir = try tempDir()
        let keys = MemoryDeviceKeys()
        let client = try InksealClient(serverURL: env.server, shareDirectory: dir, deviceKeys: keys)
        let ticket = try await env.backend.ticket(userId: "customer-swift")
        do {
            _ = try await client.enroll(ticket: ticket, pin: "123456")
            XCTFail("a weak PIN was accepted")
        } catch InksealError.pinRejected {}
        let key = try await client.enroll(ticket: ticket, pin: pin)
        XCTAssertEqual(key.userId, "customer-swift")
        XCTAssertEqual(key.certificateName, "张三")
        XCTAssertEqual(key.publicKeyHex.count, 66)
        XCTAssertEqual(keys.count, 1, "one device key made through the DeviceKeyStore")
        do {
            _ = try await client.enroll(ticket: ticket, pin: pin)
            XCTFail("a ticket enrolls once")
        } catch InksealError.ticketInvalid {}
        XCTAssertEqual(keys.count, 1, "the refused enrollment's device key was deleted")
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

    func testLivenessPolicyPrepareCaptureTheDigestSign() async throws {
        let env = try env()
        let dir = try tempDir()
        let folder = dir.appendingPathComponent("capture")
        try writeSampleCaptureFolder(folder)
        let client = try makeClient(env)
        let key = try await client.enroll(ticket: try await env.backend.ticket(userId: "customer-swift-liveness"), pin: pin)
        try await env.backend.requireLiveness(keyId: key.keyId)
        let proofing = try await client.captureEvidenceFromFolder(keyId: key.keyId, folder: folder)
        let cert = try await client.requestCertificate(keyId: key.keyId, pin: pin, evidenceHeadHex: proofing.headHex)

        let prepared = try await client.preparePdf(keyId: key.keyId, input: env.fixture, options: options())
        let evidence = try await client.captureEvidenceFromFolder(
            keyId: key.keyId, folder: folder, documentDigestsHex: [prepared.documentDigestHex()])
        XCTAssertEqual(evidence.documentDigestsHex, [prepared.documentDigestHex()])
        let out = dir.appendingPathComponent("signed.pdf")
        try await client.signPreparedPdf(pin: pin, prepared: prepared, output: out, evidenceHeadHex: evidence.headHex)
        let report = try await verifyPdf(at: out, trustAnchorsPEM: [pem(cert.caCertificateDer)])
        XCTAssertTrue(report.allValid)
        do {
            try await client.signPdf(keyId: key.keyId, pin: pin, input: env.fixture,
                                     output: dir.appendingPathComponent("no.pdf"), options: options())
            XCTFail("the policy requires evidence bound to the document")
        } catch InksealError.evidenceRequired {}
    }

    func testAnotherDevicesKeyIsUnauthenticated() async throws {
        let env = try env()
        let phone = try tempDir()
        let keys = MemoryDeviceKeys()
        let client = try InksealClient(serverURL: env.server, shareDirectory: phone, deviceKeys: keys)
        let key = try await client.enroll(ticket: try await env.backend.ticket(userId: "customer-swift-two-phones"), pin: pin)
        // The share copied to a device whose key under the same alias is another key.
        let other = try tempDir()
        for file in try FileManager.default.contentsOfDirectory(atPath: phone.path) {
            try FileManager.default.copyItem(at: phone.appendingPathComponent(file), to: other.appendingPathComponent(file))
        }
        let stranger = MemoryDeviceKeys()
        for alias in keys.aliases { _ = try stranger.create(alias: alias, attestationChallenge: Data()) }
        let copy = try InksealClient(serverURL: env.server, shareDirectory: other, deviceKeys: stranger)
        do {
            _ = try await copy.status(keyId: key.keyId)
            XCTFail("another device's key was accepted")
        } catch InksealError.unauthenticated {}
    }

    func testWrongPinsCountDownThenLockAndRevoke() async throws {
        let env = try env()
        let client = try makeClient(env)
        let key = try await client.enroll(ticket: try await env.backend.ticket(userId: "customer-swift-forgetful"), pin: pin)
        var left: [Int] = []
        for _ in 0..<4 {
            do {
                _ = try await client.requestCertificate(keyId: key.keyId, pin: "975310")
                XCTFail("a wrong PIN was accepted")
            } catch InksealError.wrongPin(let attemptsLeft) {
                left.append(attemptsLeft)
            }
        }
        XCTAssertEqual(left, [4, 3, 2, 1])
        do {
            _ = try await client.requestCertificate(keyId: key.keyId, pin: "975310")
            XCTFail("the fifth wrong PIN must lock")
        } catch InksealError.locked {}
        let status = try await client.status(keyId: key.keyId)
        XCTAssertTrue(status.locked)

        let other = try await client.enroll(ticket: try await env.backend.ticket(userId: "customer-swift-revoke"), pin: pin)
        try await client.changePin(keyId: other.keyId, oldPin: pin, newPin: "583920")
        try await client.revoke(keyId: other.keyId, pin: "583920", reason: .keyCompromise)
        do {
            _ = try await client.status(keyId: other.keyId)
            XCTFail("a revoked key is forgotten on the device")
        } catch InksealError.unknownKey {}
    }

    func testAThrowingProgressHookIsAHookError() async throws {
        let env = try env()
        let dir = try tempDir()
        let client = try makeClient(env)
        let key = try await client.enroll(ticket: try await env.backend.ticket(userId: "customer-swift-hook"), pin: pin)
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
        let client = try makeClient(env)
        let key = try await client.enroll(ticket: try await env.backend.ticket(userId: "customer-swift-cancel"), pin: pin)
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
    func testKeychainWrappedSharesAndKeychainDeviceKeys() async throws {
        #if os(macOS)
        guard ProcessInfo.processInfo.environment["INKSEAL_KEYCHAIN_TESTS"] == "1" else {
            throw XCTSkip("the data-protection keychain needs a signed host on macOS")
        }
        #endif
        let env = try env()
        let service = "io.inkseal.tests.\(UUID().uuidString)"
        // The Secure Enclave where there is one, a Keychain key otherwise (the simulator).
        let deviceKeys = SecureEnclaveDeviceKeys(tagPrefix: "\(service).", secureEnclave: SecureEnclave.isAvailable)
        let info = try deviceKeys.create(alias: "dk-test", attestationChallenge: Data("challenge".utf8))
        let publicKey = try P256.Signing.PublicKey(derRepresentation: info.publicKeySpkiDer)
        let signature = try P256.Signing.ECDSASignature(
            derRepresentation: try deviceKeys.sign(alias: "dk-test", message: Data("hello".utf8)))
        XCTAssertTrue(publicKey.isValidSignature(signature, for: Data("hello".utf8)))
        try deviceKeys.delete(alias: "dk-test")
        XCTAssertThrowsError(try deviceKeys.sign(alias: "dk-test", message: Data()))

        let blobs = MemoryBlobs()
        let key = try PlatformKeys.keychain(service: service)
        try key.check()
        let client = try InksealClient(serverURL: env.server, platformKey: key, blobStore: blobs, deviceKeys: deviceKeys)
        let enrolled = try await client.enroll(
            ticket: try await env.backend.ticket(userId: "customer-swift-keychain"), pin: pin)
        let status = try await client.status(keyId: enrolled.keyId)
        XCTAssertFalse(status.locked)
        let blob = try XCTUnwrap(blobs.get(keyId: enrolled.keyId))
        XCTAssertNil(String(data: blob, encoding: .utf8).flatMap { $0.contains("secret") ? $0 : nil })
        var tampered = blob
        tampered[tampered.count / 2] ^= 1
        try blobs.put(keyId: enrolled.keyId, blob: tampered)
        let fresh = try InksealClient(serverURL: env.server, platformKey: key, blobStore: blobs, deviceKeys: deviceKeys)
        XCTAssertThrowsError(try fresh.certificate(keyId: enrolled.keyId)) { error in
            guard case InksealError.storage = error else { return XCTFail("\(error)") }
        }
        try client.forget(keyId: enrolled.keyId)
    }
}

/// The institution's backend: enrollment tickets and signing policies (operator API key).
struct Backend {
    let server: URL
    let apiKey: String

    func call(_ method: String, _ path: String, _ body: [String: Any]) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: server.appendingPathComponent(path))
        request.httpMethod = method
        request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
    }

    func ticket(userId: String) async throws -> String {
        let (status, json) = try await call("POST", "v1/admin/tickets", ["user_id": userId, "certificate_name": "张三"])
        XCTAssertEqual(status, 201)
        return try XCTUnwrap(json["ticket"] as? String)
    }

    func requireLiveness(keyId: String) async throws {
        let (status, _) = try await call("PUT", "v1/admin/keys/\(keyId)/policy",
                                         ["require_liveness": true, "max_evidence_age_secs": 600])
        XCTAssertEqual(status, 200)
    }
}

/// Device keys in memory (CryptoKit P-256): tests only.
final class MemoryDeviceKeys: DeviceKeyStore, @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [String: P256.Signing.PrivateKey] = [:]
    var count: Int { lock.lock(); defer { lock.unlock() }; return keys.count }
    var aliases: [String] { lock.lock(); defer { lock.unlock() }; return Array(keys.keys) }

    func create(alias: String, attestationChallenge: Data) throws -> DeviceKeyInfo {
        let key = P256.Signing.PrivateKey()
        lock.lock(); keys[alias] = key; lock.unlock()
        return DeviceKeyInfo(publicKeySpkiDer: key.publicKey.derRepresentation, attestation: nil)
    }

    func sign(alias: String, message: Data) throws -> Data {
        lock.lock(); let key = keys[alias]; lock.unlock()
        guard let key else { throw HookError.Failed(reason: "no device key \(alias)") }
        return try key.signature(for: message).derRepresentation
    }

    func delete(alias: String) throws { lock.lock(); keys[alias] = nil; lock.unlock() }
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
