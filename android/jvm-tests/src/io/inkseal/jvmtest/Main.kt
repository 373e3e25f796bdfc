// The Kotlin flow against a real co-signing server, on the desktop JVM with JNA and the Linux
// libinkseal_ffi.so: the same generated bindings and façade an Android app uses.
//
// Run by scripts/bindings.sh test-kotlin, which starts `inkseal serve` and passes:
//   -Dinkseal.server=http://127.0.0.1:PORT   -Dinkseal.library=.../libinkseal_ffi.so
//   -Dinkseal.fixture=tests/data/loan-contract-zh.pdf   -Dinkseal.institutionKey=inst.pub.pem
//   -Dinkseal.workDir=<empty temp dir>
package io.inkseal.jvmtest

import io.inkseal.FaceLivenessHook
import io.inkseal.FileBlobStore
import io.inkseal.HttpRequestInfo
import io.inkseal.HttpResponseInfo
import io.inkseal.HttpTransport
import io.inkseal.IdCardCaptureResult
import io.inkseal.IdCardHook
import io.inkseal.InkPad
import io.inkseal.InkPoint
import io.inkseal.Inkseal
import io.inkseal.InksealClient
import io.inkseal.InksealException
import io.inkseal.LivenessCaptureResult
import io.inkseal.LivenessChallengeInfo
import io.inkseal.LogLevel
import io.inkseal.PdfSignOptions
import io.inkseal.Placement
import io.inkseal.PlatformKey
import io.inkseal.SealedInk
import io.inkseal.SecureBlobStore
import io.inkseal.ffi.HookException
import java.io.File
import java.io.IOException
import java.util.Base64
import java.util.Collections
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch

const val PIN = "246810"
const val KEYWORD = "借款人（签字）："

val server = property("inkseal.server")
val library = File(property("inkseal.library"))
val fixture = File(property("inkseal.fixture"))
val institutionPem: String = File(property("inkseal.institutionKey")).readText()
val work = File(property("inkseal.workDir"))

val logLines: MutableList<String> = Collections.synchronizedList(mutableListOf<String>())

/** State the flow builds up for the later tests. */
object Flow {
    lateinit var blobDir: File
    lateinit var keyStore: File
    lateinit var platformKey: PlatformKey
    lateinit var client: InksealClient
    lateinit var keyId: String
    lateinit var caPem: String
    lateinit var sealed: SealedInk
}

fun pem(der: ByteArray): String =
    "-----BEGIN CERTIFICATE-----\n" +
        Base64.getMimeEncoder(64, "\n".toByteArray()).encodeToString(der) +
        "\n-----END CERTIFICATE-----\n"

/** Two wavy strokes fed in batches of 8 samples; returns the live segments drawn. */
fun writeSignature(pad: InkPad): Int {
    var drawn = 0
    for ((s, y) in listOf(0 to 60f, 1 to 140f)) {
        pad.beginStroke()
        val points = (0 until 60).map { i ->
            InkPoint(
                x = 40f + i * 6f,
                y = y + kotlin.math.sin(i / 6.0).toFloat() * 30f,
                tMs = (s * 1000 + i * 10).toUInt(),
                pressure = 0.5f,
            )
        }
        for (batch in points.chunked(8)) drawn += pad.addPoints(batch).size
        drawn += pad.endStroke().size
    }
    return drawn
}

fun options(sealed: SealedInk? = null) = PdfSignOptions(
    placement = Placement.keyword(KEYWORD, width = 120.0, height = 48.0),
    reason = "借款合同签署",
    location = "上海",
    labelLines = listOf("张三"),
    handwriting = sealed,
)

fun main() {
    val r = Runner()

    r.test("JNA alone does not run JNI_OnLoad; System.load does, in the same library") {
        // The first call loads the library through JNA (jna.library.path).
        assertFalse(Inkseal.isJavaKeyStoreAvailable, "JNA must not have run JNI_OnLoad")
        Inkseal.init(library)
        assertTrue(Inkseal.isJavaKeyStoreAvailable, "System.load runs JNI_OnLoad in the JNA-loaded library")
        Inkseal.setLogger(LogLevel.DEBUG) { level, target, message -> logLines += "$level $target $message" }
    }

    r.test("the PKCS12 platform key (JNI) creates its key once and passes its self-check") {
        Flow.keyStore = File(work, "keys.p12")
        Flow.platformKey = PlatformKey.javaKeystoreFile(Flow.keyStore, "test-store-password")
        Flow.platformKey.check()
        assertTrue(Flow.keyStore.length() > 0, "the key store file was written")
        val written = Flow.keyStore.readBytes()
        PlatformKey.javaKeystoreFile(Flow.keyStore, "test-store-password").check()
        assertContentEquals(written, Flow.keyStore.readBytes(), "the existing key is reused")
        assertTrue(logLines.any { "creating the share-wrapping key" in it }, "the logger heard it: $logLines")
        val wrongPassword = PlatformKey.javaKeystoreFile(Flow.keyStore, "wrong password")
        assertFailsWith<InksealException.Storage> { wrongPassword.check() }
        // The Android Keystore path runs up to KeyStore.getInstance("AndroidKeyStore"), which
        // this JVM lacks: the Java exception is caught, cleared and typed.
        val android = assertFailsWith<InksealException.Storage> { PlatformKey.androidKeystore().check() }
        assertTrue("AndroidKeyStore" in android.detail, android.detail)
        Flow.platformKey.check() // JNI still healthy after the caught exceptions
    }

    r.test("enroll, certificate, draw, seal, sign under the keyword, verify") {
        Flow.blobDir = File(work, "blobs")
        Flow.client = InksealClient.create(server, Flow.platformKey, FileBlobStore(Flow.blobDir))
        val key = Flow.client.enroll("customer-kotlin", PIN)
        Flow.keyId = key.keyId
        assertEquals(66, key.publicKeyHex.length)
        val cert = Flow.client.requestCertificate(key.keyId, PIN)
        Flow.caPem = pem(cert.caCertificateDer)
        assertContentEquals(cert.certificateDer, Flow.client.certificate(key.keyId))

        val pad = InkPad(500f, 200f, 160f)
        assertTrue(writeSignature(pad) > 50, "live segments to draw")
        assertEquals(2, pad.strokeCount)
        val png = pad.toPng(300)
        assertContentEquals(byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte()), png.copyOf(4))
        val written = pad.finish("JVM test pad", System.currentTimeMillis())
        assertEquals(120u, written.quality.points)
        Flow.sealed = written.sealForInstitution(institutionPem)
        assertTrue(Flow.sealed.sealedRecord().isNotEmpty())

        val out = File(work, "signed.pdf")
        val stages = mutableListOf<String>()
        Flow.client.signPdf(key.keyId, PIN, fixture, out, options(Flow.sealed)) { stage, _ -> stages += stage }
        assertEquals(listOf("reading", "signing", "writing", "done"), stages)
        val report = Inkseal.verifyPdf(out, listOf(Flow.caPem))
        assertTrue(report.allValid, "report: $report")
        val sig = report.signatures.single()
        assertEquals(true, sig.inkBinding)
        assertEquals(true, sig.trusted)
        assertTrue(sig.coversWholeDocument)
        assertTrue(sig.problems.isEmpty())
        val status = Flow.client.status(key.keyId)
        assertTrue(status.hasCertificate && !status.locked)
    }

    r.test("identity evidence: folder capture signs; Kotlin hooks that throw or spoof are typed refusals") {
        val folder = File(work, "capture")
        Inkseal.writeSampleCaptureFolder(folder)
        val evidence = Flow.client.captureEvidenceFromFolder(Flow.keyId, folder, document = fixture)
        assertTrue(evidence.passed, evidence.reason)
        assertEquals(64, evidence.headHex.length)
        assertTrue(evidence.idNumberMasked!!.contains('*'))
        val out = File(work, "signed-with-evidence.pdf")
        Flow.client.signPdf(Flow.keyId, PIN, fixture, out, options().copy(evidenceHeadHex = evidence.headHex))
        assertTrue(Inkseal.verifyPdf(out, listOf(Flow.caPem)).allValid)

        val frames = File(folder, "face").listFiles()!!.filter { it.name.endsWith(".jpg") }.sortedBy { it.name }
        val challenges = mutableListOf<LivenessChallengeInfo>()
        val spoofing = object : FaceLivenessHook {
            override fun capture(challenge: LivenessChallengeInfo): LivenessCaptureResult {
                challenges += challenge
                return LivenessCaptureResult(
                    frames = frames.map { it.readBytes() },
                    vendorName = "inkseal-test-vendor",
                    vendorReference = "kotlin-camera",
                    vendorPackage = "not the vendor's package".toByteArray(),
                )
            }
        }
        val spoofed = assertFailsWith<InksealException.CaptureRejected> {
            Flow.client.captureEvidence(Flow.keyId, spoofing)
        }
        assertTrue("vendor package" in spoofed.reason, spoofed.reason)
        val challenge = challenges.single()
        assertEquals(64, challenge.nonceHex.length)
        assertTrue(challenge.actions.isNotEmpty() && challenge.expiresAtMs > 0u)

        val broken = object : FaceLivenessHook {
            override fun capture(challenge: LivenessChallengeInfo): LivenessCaptureResult =
                throw IllegalStateException("camera busy")
        }
        val thrown = assertFailsWith<InksealException.CaptureRejected> { Flow.client.captureEvidence(Flow.keyId, broken) }
        assertTrue("camera busy" in thrown.reason, thrown.reason)
        val cancelling = object : FaceLivenessHook {
            override fun capture(challenge: LivenessChallengeInfo): LivenessCaptureResult =
                throw HookException.Cancelled()
        }
        assertFailsWith<InksealException.Cancelled> { Flow.client.captureEvidence(Flow.keyId, cancelling) }
        val badCard = object : IdCardHook {
            override fun capture(): IdCardCaptureResult {
                val fields = File(folder, "id_fields.json").readText()
                val number = Regex("\"id_number\"\\s*:\\s*\"([0-9Xx]{18})\"").find(fields)!!.groupValues[1]
                val wrongCheck = number.dropLast(1) + if (number.last() == '0') '1' else '0'
                return IdCardCaptureResult(
                    front = File(folder, "id_front.jpg").readBytes(),
                    back = File(folder, "id_back.jpg").readBytes(),
                    fieldsJson = fields.replace(number, wrongCheck),
                )
            }
        }
        val card = assertFailsWith<InksealException.CaptureRejected> {
            Flow.client.captureEvidence(Flow.keyId, spoofing, badCard)
        }
        assertTrue("check" in card.reason, card.reason)
    }

    r.test("an app's own HTTP stack carries every request; its failures are typed") {
        val seen = Collections.synchronizedList(mutableListOf<String>())
        val plain = object : HttpTransport {
            override fun send(request: HttpRequestInfo): HttpResponseInfo {
                seen += "${request.method} ${java.net.URI(request.url).path}"
                val c = java.net.URI(request.url).toURL().openConnection() as java.net.HttpURLConnection
                c.requestMethod = request.method
                c.connectTimeout = request.timeoutMs.toInt()
                c.readTimeout = request.timeoutMs.toInt()
                request.body?.let { body ->
                    c.doOutput = true
                    c.setRequestProperty("Content-Type", "application/json")
                    c.outputStream.use { it.write(body) }
                }
                val status = c.responseCode
                val body = (if (status < 400) c.inputStream else c.errorStream)?.use { it.readBytes() } ?: ByteArray(0)
                return HttpResponseInfo(status.toUShort(), body)
            }
        }
        val viaApp = InksealClient.withShareDirectory(server, File(work, "transport-shares"), transport = plain)
        val key = viaApp.enroll("customer-okhttp", PIN)
        assertFalse(viaApp.status(key.keyId).locked)
        assertEquals(listOf("POST /v1/enroll", "GET /v1/keys/${key.keyId}"), seen.toList())
        val down = object : HttpTransport {
            override fun send(request: HttpRequestInfo): HttpResponseInfo = throw java.io.IOException("gateway down")
        }
        val failing = InksealClient.withShareDirectory(server, File(work, "transport-down"), transport = down)
        val e = assertFailsWith<InksealException.Network> { failing.enroll("customer-x", PIN) }
        assertTrue("gateway down" in e.detail, e.detail)
    }

    r.test("the app's store only sees wrapped blobs; a tampered blob is refused") {
        val blob = File(Flow.blobDir, "${Flow.keyId}.share")
        val bytes = blob.readBytes()
        val text = String(bytes, Charsets.ISO_8859_1)
        assertFalse("secret" in text || Flow.keyId in text || "customer-kotlin" in text, "the blob is not plaintext")
        // A fresh client (no cached share) unwraps it through the JNI key store.
        val fresh = InksealClient.create(server, PlatformKey.javaKeystoreFile(Flow.keyStore, "test-store-password"), FileBlobStore(Flow.blobDir))
        assertNotNull(fresh.certificate(Flow.keyId))
        val tampered = bytes.copyOf().also { it[bytes.size / 2] = (it[bytes.size / 2].toInt() xor 1).toByte() }
        blob.writeBytes(tampered)
        val again = InksealClient.create(server, Flow.platformKey, FileBlobStore(Flow.blobDir))
        val e = assertFailsWith<InksealException.Storage> { again.certificate(Flow.keyId) }
        assertTrue("authentication" in e.detail, e.detail)
        // Moved to another key id, the blob does not open either.
        blob.writeBytes(bytes)
        File(Flow.blobDir, "other-key.share").writeBytes(bytes)
        assertFailsWith<InksealException.Storage> { again.certificate("other-key") }
        assertNotNull(again.certificate(Flow.keyId))
    }

    r.test("a SecureBlobStore that throws gives InksealException.Storage, not a crash") {
        val failing = object : SecureBlobStore {
            override fun put(keyId: String, blob: ByteArray) = throw IOException("disk full")
            override fun get(keyId: String): ByteArray? = throw IllegalStateException("store closed")
            override fun delete(keyId: String) = Unit
        }
        val client = InksealClient.create(server, Flow.platformKey, failing)
        val e = assertFailsWith<InksealException.Storage> { client.enroll("customer-broken-store", PIN) }
        assertTrue("disk full" in e.detail, e.detail)
        val e2 = assertFailsWith<InksealException.Storage> { client.certificate(Flow.keyId) }
        assertTrue("store closed" in e2.detail, e2.detail)
    }

    r.test("a ProgressListener that throws gives InksealException.Hook and no output") {
        val out = File(work, "never.pdf")
        val e = assertFailsWith<InksealException.Hook> {
            Flow.client.signPdf(Flow.keyId, PIN, fixture, out, options()) { stage, _ ->
                if (stage == "writing") throw IllegalStateException("listener broke")
            }
        }
        assertTrue("listener broke" in e.detail, e.detail)
        assertFalse(out.exists())
    }

    r.test("cancelling signing coroutines does not crash and never leaves a partial file") {
        // Cancelled from inside the call, while the co-signing request is in flight.
        val out = File(work, "cancelled.pdf")
        coroutineScope {
            lateinit var job: Job
            job = launch {
                Flow.client.signPdf(Flow.keyId, PIN, fixture, out, options()) { stage, _ ->
                    if (stage == "signing") job.cancel()
                }
            }
            job.join()
            assertTrue(job.isCancelled)
        }
        assertFalse(out.exists())
        // A listener asking to stop (a cancel button).
        assertFailsWith<InksealException.Cancelled> {
            Flow.client.signPdf(Flow.keyId, PIN, fixture, out, options()) { stage, _ ->
                if (stage == "signing") throw HookException.Cancelled()
            }
        }
        assertFalse(out.exists())
        // Cancelled from outside after various delays: either a whole valid file or none.
        var whole = 0
        for (ms in listOf(0L, 1L, 3L, 10L, 30L, 100L)) {
            val file = File(work, "cancel-$ms.pdf")
            coroutineScope {
                val job = launch { Flow.client.signPdf(Flow.keyId, PIN, fixture, file, options(Flow.sealed)) }
                delay(ms)
                job.cancelAndJoin()
            }
            if (file.exists()) {
                assertTrue(Inkseal.verifyPdf(file, listOf(Flow.caPem)).allValid)
                whole++
            }
        }
        println("      ($whole of 6 outside cancellations came too late and finished)")
        assertTrue(work.listFiles()!!.none { it.name.endsWith(".tmp") }, "no temporary file left")
        // The client still works.
        val out2 = File(work, "after-cancel.pdf")
        Flow.client.signPdf(Flow.keyId, PIN, fixture, out2, options())
        assertTrue(Inkseal.verifyPdf(out2).signatures.single().problems.isEmpty())
        assertFalse(Flow.client.status(Flow.keyId).locked)
    }

    r.test("poor handwriting and bad samples are typed errors") {
        val pad = InkPad(500f, 200f, 160f)
        assertFailsWith<InksealException.HandwritingRejected> { pad.finish("pad") }
        pad.beginStroke()
        assertFailsWith<InksealException.InvalidInput> { pad.addPoints(listOf(InkPoint(x = Float.NaN, y = 1f, tMs = 0u))) }
        pad.endStroke()
        writeSignature(pad)
        assertTrue(pad.undo())
        pad.clear()
        assertEquals(0, pad.strokeCount)
        assertFailsWith<InksealException.InvalidInput> { InkPad(0f, 10f, 160f) }
        val written = InkPad(500f, 200f, 160f).also { writeSignature(it) }.finish("pad")
        assertFailsWith<InksealException.InvalidInput> { written.sealForInstitution("not a key") }
        assertFailsWith<InksealException.InvalidInput> { Inkseal.verifyPdf(File(work, "missing.pdf")) }
        assertFailsWith<InksealException.BadDocument> {
            Flow.client.signPdf(
                Flow.keyId, PIN, fixture, File(work, "x.pdf"),
                options().copy(placement = Placement.keyword("这段文字不存在", 100.0, 40.0)),
            )
        }
    }

    r.test("wrong PINs count down in WrongPin, the fifth locks the key") {
        val client = InksealClient.create(server, Flow.platformKey, FileBlobStore(Flow.blobDir))
        val key = client.enroll("customer-forgetful", PIN)
        val left = (1..4).map {
            assertFailsWith<InksealException.WrongPin> { client.requestCertificate(key.keyId, "000000") }.attemptsLeft
        }
        assertEquals(listOf(4, 3, 2, 1), left)
        assertFailsWith<InksealException.Locked> { client.requestCertificate(key.keyId, "000000") }
        assertFailsWith<InksealException.Locked> { client.requestCertificate(key.keyId, PIN) }
        assertTrue(client.status(key.keyId).locked)
        assertFailsWith<InksealException.UnknownKey> { client.status("no-such-key") }
        assertFailsWith<InksealException.InvalidInput> { client.enroll("customer-short-pin", "123") }
    }

    r.test("the logger heard the library and never a PIN") {
        Inkseal.clearLogger()
        assertTrue(logLines.isNotEmpty())
        assertTrue(logLines.none { PIN in it || "test-store-password" in it }, "no secret in the logs")
    }

    r.runAll()
}
