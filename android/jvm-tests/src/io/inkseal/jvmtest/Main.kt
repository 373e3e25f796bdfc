// The Kotlin flow against a real co-signing server, on the desktop JVM with JNA and the Linux
// libinkseal_ffi.so: the same generated bindings and façade an Android app uses.
//
// Run by scripts/bindings.sh test-kotlin, which starts `inkseal serve
// --insecure-test-liveness-vendor --enable-unaudited-p256-cosign`, creates an operator API key and passes:
//   -Dinkseal.server=http://127.0.0.1:PORT   -Dinkseal.library=.../libinkseal_ffi.so
//   -Dinkseal.fixture=tests/data/loan-contract-zh.pdf   -Dinkseal.institutionKey=inst.pub.pem
//   -Dinkseal.workDir=<empty temp dir>
//   INKSEAL_TEST_API_KEY=<operator API key> (environment), INKSEAL_TEST_SERVER=<the same URL>
package io.inkseal.jvmtest

import io.inkseal.CaptureAction
import io.inkseal.DeviceKeyStore
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
import io.inkseal.JvmDeviceKeys
import io.inkseal.JvmLabelFont
import io.inkseal.LabelFont
import io.inkseal.ffi.OutlineSegment
import io.inkseal.TextOutline
import io.inkseal.LivenessCaptureResult
import io.inkseal.LivenessChallengeInfo
import io.inkseal.LogLevel
import io.inkseal.PadesLevel
import io.inkseal.PdfSignOptions
import io.inkseal.Placement
import io.inkseal.PlatformKey
import io.inkseal.RevokeReason
import io.inkseal.SealedInk
import io.inkseal.SecureBlobStore
import io.inkseal.TransactionDetails
import io.inkseal.TransactionParty
import io.inkseal.ffi.HookException
import java.io.File
import java.io.IOException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.security.KeyFactory
import java.security.Signature
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import java.security.interfaces.ECPublicKey
import java.security.spec.X509EncodedKeySpec
import java.time.Duration
import java.util.Base64
import java.util.Collections
import javax.security.auth.x500.X500Principal
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch

const val PIN = "246810"
const val NEW_PIN = "583920"
const val KEYWORD = "借款人（签字）："
const val DEVICE_KEYS_PASSWORD = "device-keys-password"

val server = property("inkseal.server")
val library = File(property("inkseal.library"))
val fixture = File(property("inkseal.fixture"))
val institutionPem: String = File(property("inkseal.institutionKey")).readText()
val work = File(property("inkseal.workDir"))
/** The `inkseal` command (sealing envelopes to the test keys' certificates). */
val inksealCli: String = property("inkseal.cli")

/** Runs a command; fails with its output when it exits non-zero. */
fun runCommand(vararg command: String) {
    val p = ProcessBuilder(*command).redirectErrorStream(true).start()
    val output = p.inputStream.readBytes().toString(Charsets.UTF_8)
    check(p.waitFor() == 0) { "${command.joinToString(" ")}: $output" }
}
val apiKey: String = System.getenv("INKSEAL_TEST_API_KEY") ?: error("set INKSEAL_TEST_API_KEY (scripts/bindings.sh test-kotlin does)")
val operator = Operator(System.getenv("INKSEAL_TEST_SERVER") ?: server, apiKey)

val logLines: MutableList<String> = Collections.synchronizedList(mutableListOf<String>())
/** Every ticket secret handed out, to check that none reaches the log. */
val ticketSecrets: MutableList<String> = Collections.synchronizedList(mutableListOf<String>())

/** State the flow builds up for the later tests. */
object Flow {
    lateinit var blobDir: File
    lateinit var keyStore: File
    lateinit var platformKey: PlatformKey
    lateinit var deviceKeys: JvmDeviceKeys
    lateinit var client: InksealClient
    lateinit var keyId: String
    lateinit var caPem: String
    lateinit var sealed: SealedInk
    lateinit var captureFolder: File
}

/** A fresh ticket for [userId] from the backend; its secret is remembered for the log check. */
fun ticket(userId: String, idNumber: String? = null, purpose: String = "signing"): String =
    operator.ticket(userId, idNumber = idNumber, purpose = purpose).ticket.also { ticketSecrets += it.substringAfter('.') }

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

/** The label font: java.awt with Debian's WenQuanYi Micro Hei (or $INKSEAL_SEAL_FONT). */
val labelFont: JvmLabelFont by lazy { JvmLabelFont.system() }

fun options(sealed: SealedInk? = null, level: PadesLevel = PadesLevel.BASIC) = PdfSignOptions(
    placement = Placement.keyword(KEYWORD, width = 120.0, height = 48.0),
    reason = "借款合同签署",
    location = "上海",
    labelLines = listOf("张三"),
    labelFont = labelFont,
    handwriting = sealed,
    level = level,
)

/** The aliases [store] gained while [block] ran. */
suspend fun <T> newAliases(store: JvmDeviceKeys, block: suspend () -> T): Pair<T, Set<String>> {
    val before = store.aliases()
    val result = block()
    return result to (store.aliases() - before)
}

/** A client on its own share directory and device key store (a second phone). */
fun phone(name: String, deviceKeys: DeviceKeyStore, transport: HttpTransport? = null): InksealClient =
    InksealClient.withShareDirectory(server, File(work, "$name-shares"), deviceKeys, transport = transport)

/** An app's own HTTP stack (java.net.http): every header as given, the body byte for byte. */
class JavaHttpTransport(private val keep: (name: String) -> Boolean = { true }) : HttpTransport {
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
    val seen: MutableList<String> = Collections.synchronizedList(mutableListOf<String>())
    val headerNames: MutableList<Set<String>> = Collections.synchronizedList(mutableListOf<Set<String>>())

    override fun send(request: HttpRequestInfo): HttpResponseInfo {
        seen += "${request.method} ${URI(request.url).path}"
        headerNames += request.headers.map { it.name }.toSet()
        val builder = HttpRequest.newBuilder(URI(request.url)).timeout(Duration.ofMillis(request.timeoutMs.toLong()))
        for (h in request.headers) if (keep(h.name)) builder.header(h.name, h.value)
        val body = request.body?.let { HttpRequest.BodyPublishers.ofByteArray(it) } ?: HttpRequest.BodyPublishers.noBody()
        val response = try {
            http.send(builder.method(request.method, body).build(), HttpResponse.BodyHandlers.ofByteArray())
        } catch (e: IOException) {
            throw HookException.Failed("unreachable: ${e.message}")
        }
        return HttpResponseInfo(response.statusCode().toUShort(), response.body())
    }
}

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

    r.test("the JVM device key store: P-256 SPKI, SHA256withECDSA, persisted in PKCS12, deletable") {
        val file = File(work, "device-keys-unit.p12")
        val store = JvmDeviceKeys.pkcs12File(file, DEVICE_KEYS_PASSWORD)
        val info = store.create("dk-unit", "challenge".toByteArray())
        assertNull(info.attestation, "a desktop JVM does not attest")
        val public = KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(info.publicKeySpkiDer)) as ECPublicKey
        assertEquals(256, public.params.order.bitLength())
        fun verifies(signature: ByteArray, message: String) = Signature.getInstance("SHA256withECDSA").run {
            initVerify(public); update(message.toByteArray()); verify(signature)
        }
        assertTrue(verifies(store.sign("dk-unit", "hello".toByteArray()), "hello"))
        assertFalse(verifies(store.sign("dk-unit", "hello".toByteArray()), "other"))
        // Reopened from the file, the same key signs.
        val reopened = JvmDeviceKeys.pkcs12File(file, DEVICE_KEYS_PASSWORD)
        assertEquals(setOf("dk-unit"), reopened.aliases())
        assertTrue(verifies(reopened.sign("dk-unit", "again".toByteArray()), "again"))
        assertFailsWith<IllegalArgumentException> { JvmDeviceKeys.pkcs12File(file, "wrong password") }
        store.delete("dk-unit")
        store.delete("dk-unit") // nothing to do the second time
        assertFailsWith<HookException.Failed> { store.sign("dk-unit", ByteArray(1)) }
        assertFailsWith<HookException.Failed> { store.create("../escape", ByteArray(0)) }
        assertEquals(emptySet(), JvmDeviceKeys.pkcs12File(file, DEVICE_KEYS_PASSWORD).aliases())
    }

    r.test("enroll with a ticket and a Kotlin device key; weak PINs and a reused ticket are refused") {
        Flow.blobDir = File(work, "blobs")
        Flow.deviceKeys = JvmDeviceKeys.pkcs12File(File(work, "device-keys.p12"), DEVICE_KEYS_PASSWORD)
        Flow.client = InksealClient.create(server, Flow.platformKey, FileBlobStore(Flow.blobDir), Flow.deviceKeys)
        val issued = operator.ticket("customer-kotlin", certificateName = "张三")
        ticketSecrets += issued.ticket.substringAfter('.')
        assertTrue(issued.ticket.startsWith("${issued.ticketId}."), issued.ticketId)
        // Weak PINs: refused before anything is sent, the ticket stays usable.
        for (weak in listOf("123456", "000000", "      ", "135")) {
            assertFailsWith<InksealException.PinRejected>("PIN \"$weak\"") { Flow.client.enroll(issued.ticket, weak) }
        }
        val (key, created) = newAliases(Flow.deviceKeys) { Flow.client.enroll(issued.ticket, PIN) }
        Flow.keyId = key.keyId
        assertEquals(1, created.size, "one device key made in the Kotlin store: $created")
        assertEquals("customer-kotlin", key.userId)
        assertEquals("张三", key.certificateName)
        assertEquals(66, key.publicKeyHex.length)
        assertFalse(issued.ticketId.removePrefix("et-") in key.keyId, "the server chose the key id")
        // A ticket is single use; the refused attempt leaves no device key behind.
        val (reused, leftover) = newAliases(Flow.deviceKeys) {
            assertFailsWith<InksealException.TicketInvalid> { Flow.client.enroll(issued.ticket, PIN) }
        }
        assertTrue(reused.detail.isNotEmpty())
        assertEquals(emptySet(), leftover, "the refused enrollment's device key was deleted")
        assertFailsWith<InksealException.TicketInvalid> { Flow.client.enroll("et-00000000000000000000000000000000.00", PIN) }
        assertFailsWith<InksealException.TicketInvalid> { Flow.client.enroll("not a ticket", PIN) }
        // The operator API itself wants the API key.
        assertEquals(401, operator.call("POST", "/v1/admin/tickets", "{\"user_id\":\"x\"}", bearer = null).first)
        assertEquals(401, operator.call("POST", "/v1/admin/tickets", "{\"user_id\":\"x\"}", bearer = "op-nope.00").first)
    }

    r.test("certificate, draw, seal, sign under the keyword, verify VALID") {
        val cert = Flow.client.requestCertificate(Flow.keyId, PIN)
        Flow.caPem = pem(cert.caCertificateDer)
        assertContentEquals(cert.certificateDer, Flow.client.certificate(Flow.keyId))

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
        Flow.client.signPdf(Flow.keyId, PIN, fixture, out, options(Flow.sealed, PadesLevel.LONG_TERM_ARCHIVE)) { stage, _ -> stages += stage }
        assertEquals(listOf("reading", "signing", "writing", "done"), stages)
        val report = Inkseal.verifyPdf(out, listOf(Flow.caPem))
        assertTrue(report.allValid, "report: $report")
        // PAdES B-LTA: the signature, then (after the DSS) a document time-stamp over it all.
        assertEquals(2, report.signatures.size)
        val archive = report.signatures[1]
        assertTrue(archive.documentTimeStamp && archive.valid && archive.coversWholeDocument, "archive: $archive")
        val sig = report.signatures[0]
        // PAdES B-T: the server's time-stamping authority vouches for the signing time.
        val stamp = assertNotNull(sig.timeStamp, "a signature time-stamp")
        assertTrue(stamp.valid && stamp.trusted == true, "time-stamp: $stamp")
        assertTrue(Math.abs(stamp.timeUnixMillis.toLong() - System.currentTimeMillis()) < 120_000)
        assertEquals(true, sig.inkBinding)
        assertEquals(true, sig.trusted)
        assertFalse(sig.coversWholeDocument, "the DSS and the document time-stamp follow it")
        assertTrue(sig.problems.isEmpty())
        val status = Flow.client.status(Flow.keyId)
        assertTrue(status.hasCertificate && !status.locked && !status.revoked)
        // The label is outlines from java.awt, not text in a font the reader may lack.
        val appended = String(out.readBytes().copyOfRange(fixture.length().toInt(), out.length().toInt()), Charsets.ISO_8859_1)
        assertFalse("/Font" in appended || "STSong" in appended, "no font in the signature's revision")
    }

    r.test("signTransaction: co-signed SignedData decodes to the transaction; bad ones are InvalidInput") {
        val ca = Flow.client.requestCertificate(Flow.keyId, PIN).caCertificateDer
        val tx = TransactionDetails(
            transactionId = "KT-0001",
            payer = TransactionParty("王小明", "6222020200112233445", "中国工商银行"),
            payee = TransactionParty("ACME Ltd", "31001234567890", null),
            amountMinor = 123456uL,
            currency = "CNY",
            createdUnix = (System.currentTimeMillis() / 1000 - 30).toULong(),
            memo = "invoice 42",
        )
        val signed = Flow.client.signTransaction(Flow.keyId, PIN, tx)
        assertEquals(0x30, signed[0].toInt())
        val verified = Inkseal.verifyTransaction(signed, listOf(ca))
        assertEquals(tx, verified.transaction)
        assertEquals("1234.56 CNY", verified.amountDisplay)
        assertTrue(Math.abs(verified.signingTimeUnix.toLong() - System.currentTimeMillis() / 1000) < 120)
        // A changed byte of the memo ("invoice 42" -> "invoice 43") fails verification.
        val memo = "invoice 42".toByteArray()
        val at = (0..signed.size - memo.size).first { i -> memo.indices.all { signed[i + it] == memo[it] } }
        val tampered = signed.copyOf().also { it[at + memo.size - 1] = '3'.code.toByte() }
        assertFailsWith<InksealException.BadDocument> { Inkseal.verifyTransaction(tampered, listOf(ca)) }
        assertFailsWith<InksealException.InvalidInput> {
            Flow.client.signTransaction(Flow.keyId, PIN, tx.copy(amountMinor = 0uL))
        }
        assertFailsWith<InksealException.InvalidInput> {
            Flow.client.signTransaction(Flow.keyId, PIN, tx.copy(currency = "XXX"))
        }
    }

    r.test("login: the backend's challenge co-signed, verified by the server once (who logged in); replay and other relying parties refused") {
        val challenge = operator.loginChallenge("bank.example")
        val assertion = Flow.client.login(Flow.keyId, PIN, challenge)
        assertEquals(0x30, assertion[0].toInt())
        val (other, refused) = operator.verifyLogin(assertion, "other.example")
        assertEquals(422, other, refused)
        val (status, who) = operator.verifyLogin(assertion, "bank.example")
        assertEquals(200, status, who)
        assertEquals(Flow.keyId, Operator.field(who, "key_id"))
        assertEquals(challenge.challengeId, Operator.field(who, "challenge_id"))
        val (again, replay) = operator.verifyLogin(assertion, "bank.example")
        assertEquals(409, again, replay)
        assertEquals("login_replayed", Operator.field(replay, "code"))
        // The used challenge is not co-signed again.
        assertFailsWith<InksealException.Refused> { Flow.client.login(Flow.keyId, PIN, challenge) }
        // Nor is one whose nonce the server never issued.
        assertFailsWith<InksealException.Refused> {
            Flow.client.login(Flow.keyId, PIN, operator.loginChallenge("bank.example").copy(nonce = "00".repeat(32)))
        }
    }

    r.test("envelopes: an encryption key opens what `inkseal envelope seal` sealed to its certificate, two-party (SM4, and AES-256 with a P-256 co-recipient); wrong PIN counted, tampered and foreign envelopes release nothing") {
        val enc = Flow.client.enrollEncryptionKey(ticket("customs-officer", purpose = "encryption"), PIN)
        val cert = Flow.client.requestCertificate(enc.keyId, PIN).certificateDer
        val dir = File(work, "envelopes").apply { mkdirs() }
        val certFile = File(dir, "officer.pem").apply { writeText(pem(cert)) }
        val message = "报关单 2026-0042: 12 pallets, HS 8471.30, CNY 1,250,000.00".toByteArray()
        val input = File(dir, "declaration.txt").apply { writeBytes(message) }
        fun seal(name: String, vararg args: String): ByteArray {
            val out = File(dir, name)
            runCommand(inksealCli, "envelope", "seal", *args, input.path, out.path)
            return out.readBytes()
        }
        val sm4 = seal("sm4.p7e", "--to", certFile.path, "--gm-oids")
        val opened = Flow.client.openEnvelope(enc.keyId, PIN, sm4)
        assertContentEquals(message, opened.content)
        assertEquals("SM4-CBC", opened.cipher)
        assertFalse(opened.signed)
        assertEquals("1.2.156.10197.6.1.4.2.1", opened.contentType)

        // With a P-256 co-recipient the content key is 32 bytes (AES-256-CBC).
        val brokerKey = File(dir, "broker.key")
        val brokerCert = File(dir, "broker.pem")
        runCommand("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", brokerKey.path, "-out", brokerCert.path, "-subj", "/CN=broker", "-days", "1")
        val mixed = seal("mixed.p7e", "--to", brokerCert.path, "--to", certFile.path)
        val both = Flow.client.openEnvelope(enc.keyId, PIN, mixed)
        assertContentEquals(message, both.content)
        assertEquals("AES-256-CBC", both.cipher)

        // Not addressed to the key: refused before any PIN use.
        val foreign = seal("foreign.p7e", "--to", brokerCert.path)
        assertFailsWith<InksealException.InvalidInput> { Flow.client.openEnvelope(enc.keyId, PIN, foreign) }
        // Altered content (the padding length byte flipped through CBC): nothing released.
        val tampered = sm4.copyOf().also { it[it.size - 17] = (it[it.size - 17].toInt() xor 0x80).toByte() }
        assertFailsWith<InksealException.BadDocument> { Flow.client.openEnvelope(enc.keyId, PIN, tampered) }
        assertFailsWith<InksealException.BadDocument> { Flow.client.openEnvelope(enc.keyId, PIN, "not an envelope".toByteArray()) }
        // A wrong PIN is refused and counted like a signature's.
        val wrong = assertFailsWith<InksealException.WrongPin> { Flow.client.openEnvelope(enc.keyId, NEW_PIN, sm4) }
        assertEquals(4, wrong.attemptsLeft)
        assertEquals(1u, Flow.client.status(enc.keyId).pinFailures)
        // The right PIN opens it again (and resets the count).
        assertContentEquals(message, Flow.client.openEnvelope(enc.keyId, PIN, sm4).content)
        // A signing key does not open envelopes.
        assertFailsWith<InksealException> { Flow.client.openEnvelope(Flow.keyId, PIN, sm4) }
    }

    r.test("a two-party P-256 key: enrollP256, requestCertificateP256, preparePdf/signPreparedPdf co-sign ECDSA P-256, verified VALID with its own certificate") {
        val client = phone("p256", JvmDeviceKeys.inMemory())
        val key = client.enrollP256(ticket("customer-p256"), PIN)
        assertEquals("customer-p256", key.userId)
        assertEquals("张三", key.certificateName)
        assertEquals(130, key.publicKeyHex.length, "SEC1 uncompressed: ${key.publicKeyHex}")
        assertTrue(key.publicKeyHex.startsWith("04"), key.publicKeyHex)
        assertEquals(key.publicKeyHex, client.status(key.keyId).publicKeyHex)
        // Weak PINs are refused before anything is sent, as for SM2 keys.
        assertFailsWith<InksealException.PinRejected> { client.enrollP256(ticket("customer-p256-weak"), "123456") }

        val cert = client.requestCertificateP256(key.keyId, PIN)
        assertContentEquals(cert.certificateDer, client.certificate(key.keyId))
        // Java reads both certificates: the user's is ecdsa-with-SHA256 over the joint key,
        // issued by the CA's P-256 root.
        val x509 = CertificateFactory.getInstance("X.509")
        val user = x509.generateCertificate(cert.certificateDer.inputStream()) as X509Certificate
        val ca = x509.generateCertificate(cert.caCertificateDer.inputStream()) as X509Certificate
        user.verify(ca.publicKey)
        assertEquals("SHA256withECDSA", user.sigAlgName)
        val point = (user.publicKey as ECPublicKey).w
        assertEquals(key.publicKeyHex, "04" + "%064x".format(point.affineX) + "%064x".format(point.affineY))
        assertTrue(key.certificateName in user.subjectX500Principal.getName(X500Principal.RFC2253), user.subjectX500Principal.toString())

        val prepared = client.preparePdf(key.keyId, fixture, options())
        assertEquals(64, prepared.documentDigestHex.length)
        val out = File(work, "p256-signed.pdf")
        val stages = mutableListOf<String>()
        client.signPreparedPdf(PIN, prepared, out) { stage, _ -> stages += stage }
        assertEquals(listOf("signing", "writing", "done"), stages)
        val caPem = pem(cert.caCertificateDer)
        val report = Inkseal.verifyPdf(out, listOf(caPem))
        assertTrue(report.allValid, "report: $report")
        val sig = report.signatures.single()
        assertTrue(sig.valid && sig.coversWholeDocument && sig.problems.isEmpty(), "signature: $sig")
        assertEquals(true, sig.trusted)
        assertEquals("EcdsaP256Sha256", sig.algorithm)
        assertNull(sig.cannotCheck)
        val signer = assertNotNull(sig.signer)
        assertTrue(key.certificateName in signer, signer)
        // The signer certificate in the signature is the one issued to the key.
        val pdf = String(out.readBytes(), Charsets.ISO_8859_1).lowercase()
        assertTrue(cert.certificateDer.joinToString("") { "%02x".format(it) } in pdf, "the key's certificate is embedded")
        // The SM2 CA does not vouch for it.
        assertEquals(false, Inkseal.verifyPdf(out, listOf(Flow.caPem)).signatures.single().trusted)
        // A prepared PDF signs once.
        assertFailsWith<InksealException> { client.signPreparedPdf(PIN, prepared, File(work, "p256-again.pdf")) }
        assertFalse(File(work, "p256-again.pdf").exists())
    }

    r.test("a wrong PIN on a P-256 signature is WrongPin, counted like an SM2 one; no file; the right PIN then signs") {
        val client = phone("p256-pin", JvmDeviceKeys.inMemory())
        val key = client.enrollP256(ticket("customer-p256-pin"), PIN).keyId
        val caPem = pem(client.requestCertificateP256(key, PIN).caCertificateDer)
        val prepared = client.preparePdf(key, fixture, options())
        val out = File(work, "p256-wrong-pin.pdf")
        val wrong = assertFailsWith<InksealException.WrongPin> { client.signPreparedPdf(NEW_PIN, prepared, out) }
        assertEquals(4, wrong.attemptsLeft)
        assertFalse(out.exists())
        assertEquals(1u, client.status(key).pinFailures)
        assertEquals(3, assertFailsWith<InksealException.WrongPin> { client.signPdf(key, "975310", fixture, out, options()) }.attemptsLeft)
        assertFalse(out.exists())
        // The refused attempt did not use up the prepared PDF; the right PIN resets the count.
        client.signPreparedPdf(PIN, prepared, out)
        assertTrue(Inkseal.verifyPdf(out, listOf(caPem)).allValid)
        assertEquals(0u, client.status(key).pinFailures)
    }

    r.test("labels are drawn by the app's font engine: outlines in ems, refused without a font or a glyph") {
        val line = assertNotNull(labelFont.outline("借款人 张三"))
        assertTrue(line.advance > 4.0 && line.advance < 8.0, "six characters about an em each: ${line.advance}")
        assertTrue(line.segments.size > 50, "CJK glyphs have many segments: ${line.segments.size}")
        val moves = line.segments.filterIsInstance<OutlineSegment.MoveTo>()
        // Glyphs stand on the baseline: y up, mostly between 0 and 1 em.
        assertTrue(moves.all { it.y > -0.3 && it.y < 1.1 }, "y in ems, up")
        assertNull(labelFont.outline("\uE000"), "a private-use character the font lacks")
        val noFont = assertFailsWith<InksealException.InvalidInput> {
            Flow.client.signPdf(Flow.keyId, PIN, fixture, File(work, "no-font.pdf"), options().copy(labelFont = null))
        }
        assertTrue("label font" in noFont.detail, noFont.detail)
        assertFalse(File(work, "no-font.pdf").exists(), "no partial file")
        val noGlyph = assertFailsWith<InksealException.InvalidInput> {
            Flow.client.signPdf(Flow.keyId, PIN, fixture, File(work, "no-glyph.pdf"), options().copy(labelLines = listOf("\uE000")))
        }
        assertTrue("cannot draw" in noGlyph.detail, noGlyph.detail)
        // A font engine that throws is a typed error too.
        val throwing = object : LabelFont {
            override fun outline(text: String): TextOutline? = throw IllegalStateException("font engine down")
        }
        assertFailsWith<InksealException> {
            Flow.client.signPdf(Flow.keyId, PIN, fixture, File(work, "throws.pdf"), options().copy(labelFont = throwing))
        }
    }

    r.test("liveness policy: proofing for the certificate, prepare → capture the digest → signPreparedPdf VALID") {
        Flow.captureFolder = File(work, "capture")
        Inkseal.writeSampleCaptureFolder(Flow.captureFolder)
        val fields = File(Flow.captureFolder, "id_fields.json").readText()
        val idNumber = Regex("\"id_number\"\\s*:\\s*\"([0-9Xx]{18})\"").find(fields)!!.groupValues[1]
        // The backend binds the customer's ID number to the ticket and requires liveness.
        val client = InksealClient.create(server, Flow.platformKey, FileBlobStore(Flow.blobDir), Flow.deviceKeys)
        val key = client.enroll(ticket("customer-liveness", idNumber = idNumber), PIN).keyId
        operator.requireLiveness(key)
        assertFailsWith<InksealException.EvidenceRequired> { client.requestCertificate(key, PIN) }
        val proofing = client.captureEvidenceFromFolder(key, Flow.captureFolder)
        assertTrue(proofing.passed, proofing.reason)
        assertEquals(emptyList(), proofing.documentDigestsHex)
        assertTrue(proofing.idNumberMasked!!.contains('*'))
        val ca = pem(client.requestCertificate(key, PIN, evidenceHeadHex = proofing.headHex).caCertificateDer)

        // One step, or with evidence that did not bind this document: refused.
        assertFailsWith<InksealException.EvidenceRequired> { client.signPdf(key, PIN, fixture, File(work, "no.pdf"), options()) }
        val unbound = client.preparePdf(key, fixture, options())
        assertFailsWith<InksealException.EvidenceRequired> {
            client.signPreparedPdf(PIN, unbound, File(work, "no.pdf"), evidenceHeadHex = proofing.headHex)
        }
        assertFalse(File(work, "no.pdf").exists())

        val prepared = client.preparePdf(key, fixture, options())
        assertEquals(64, prepared.documentDigestHex.length)
        val evidence = client.captureEvidenceFromFolder(key, Flow.captureFolder, documentDigestsHex = listOf(prepared.documentDigestHex))
        assertEquals(listOf(prepared.documentDigestHex), evidence.documentDigestsHex)
        assertNotEquals(proofing.headHex, evidence.headHex)
        val out = File(work, "signed-with-evidence.pdf")
        val stages = mutableListOf<String>()
        client.signPreparedPdf(PIN, prepared, out, evidence.headHex) { stage, _ -> stages += stage }
        assertEquals(listOf("signing", "writing", "done"), stages)
        val report = Inkseal.verifyPdf(out, listOf(ca))
        assertTrue(report.allValid && report.signatures.single().trusted == true, "report: $report")
        // A prepared PDF signs once.
        assertFailsWith<InksealException.InvalidInput> { client.signPreparedPdf(PIN, prepared, File(work, "twice.pdf"), evidence.headHex) }
        assertFailsWith<InksealException.InvalidInput> {
            client.captureEvidenceFromFolder(key, Flow.captureFolder, documentDigestsHex = listOf("not hex"))
        }
    }

    r.test("rejected captures carry a CaptureAction; Kotlin hooks that throw or spoof are typed refusals") {
        val folder = Flow.captureFolder
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
        assertEquals(CaptureAction.RETAKE_FACE, spoofed.action)
        val challenge = challenges.single()
        assertEquals(64, challenge.nonceHex.length)
        assertTrue(challenge.actions.isNotEmpty() && challenge.expiresAtMs > 0u)

        val broken = object : FaceLivenessHook {
            override fun capture(challenge: LivenessChallengeInfo): LivenessCaptureResult =
                throw IllegalStateException("camera busy")
        }
        val thrown = assertFailsWith<InksealException.CaptureRejected> { Flow.client.captureEvidence(Flow.keyId, broken) }
        assertTrue("camera busy" in thrown.reason, thrown.reason)
        assertEquals(CaptureAction.RETRY, thrown.action)
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
        assertEquals(CaptureAction.RETAKE_ID_CARD, card.action)
    }

    r.test("an app's own HTTP stack sends the signature headers exactly; one that drops them is Unauthenticated") {
        val deviceKeys = JvmDeviceKeys.inMemory()
        val plain = JavaHttpTransport()
        val viaApp = phone("transport", deviceKeys, plain)
        val t = ticket("customer-own-http")
        // Without the signature headers the server does not know who is asking.
        val dropping = JavaHttpTransport(keep = { it == "content-type" })
        val (refused, leftover) = newAliases(deviceKeys) {
            assertFailsWith<InksealException.Unauthenticated> { phone("transport", deviceKeys, dropping).enroll(t, PIN) }
        }
        assertEquals(emptySet(), leftover)
        // The same ticket then enrolls through the faithful transport (nothing was consumed).
        val key = viaApp.enroll(t, PIN)
        assertFalse(viaApp.status(key.keyId).locked)
        assertEquals(listOf("POST /v1/enroll", "GET /v1/keys/${key.keyId}"), plain.seen.toList())
        val required = setOf("content-type", "content-digest", "signature-input", "signature")
        assertTrue(plain.headerNames.all { it.containsAll(required) }, "headers: ${plain.headerNames}")
        assertTrue(refused.detail.isNotEmpty())
        // Known key, dropped headers: Unauthenticated again.
        assertFailsWith<InksealException.Unauthenticated> { phone("transport", deviceKeys, dropping).status(key.keyId) }
        val down = object : HttpTransport {
            override fun send(request: HttpRequestInfo): HttpResponseInfo = throw java.io.IOException("gateway down")
        }
        val e = assertFailsWith<InksealException.Network> { phone("transport-down", deviceKeys, down).enroll(ticket("customer-x"), PIN) }
        assertTrue("gateway down" in e.detail, e.detail)
    }

    r.test("a deleted device key fails with Storage; another phone's device key is Unauthenticated") {
        val deviceKeys = JvmDeviceKeys.pkcs12File(File(work, "phone-a-keys.p12"), DEVICE_KEYS_PASSWORD)
        val phoneA = phone("phone-a", deviceKeys)
        val (key, aliases) = newAliases(deviceKeys) { phoneA.enroll(ticket("customer-two-phones"), PIN) }
        val alias = aliases.single()
        assertFalse(phoneA.status(key.keyId).locked)

        // A second phone holding a copy of the share but its own device key (same alias, other
        // key): the server does not accept its signatures.
        File(work, "phone-a-shares").copyRecursively(File(work, "phone-b-shares"))
        val otherKeys = JvmDeviceKeys.inMemory()
        otherKeys.create(alias, ByteArray(0))
        val phoneB = phone("phone-b", otherKeys)
        assertNull(phoneB.certificate(key.keyId), "the copied share opens there (no certificate yet)")
        val stranger = assertFailsWith<InksealException.Unauthenticated> { phoneB.status(key.keyId) }
        assertTrue(stranger.detail.isNotEmpty())
        assertFailsWith<InksealException.Unauthenticated> { phoneB.requestCertificate(key.keyId, PIN) }
        assertEquals(0u, phoneA.status(key.keyId).pinFailures, "the stranger's PIN never reached the PIN check")
        // Without its device key, phone A can no longer sign a request.
        deviceKeys.delete(alias)
        val gone = assertFailsWith<InksealException.Storage> { phoneA.status(key.keyId) }
        assertTrue("device key store (sign)" in gone.detail && "no device key" in gone.detail, gone.detail)
    }

    r.test("the app's store only sees wrapped blobs; a tampered blob is refused") {
        val blob = File(Flow.blobDir, "${Flow.keyId}.share")
        val bytes = blob.readBytes()
        val text = String(bytes, Charsets.ISO_8859_1)
        assertFalse("secret" in text || Flow.keyId in text || "customer-kotlin" in text, "the blob is not plaintext")
        // A fresh client (no cached share) unwraps it through the JNI key store.
        val fresh = InksealClient.create(
            server, PlatformKey.javaKeystoreFile(Flow.keyStore, "test-store-password"), FileBlobStore(Flow.blobDir), Flow.deviceKeys,
        )
        assertNotNull(fresh.certificate(Flow.keyId))
        val tampered = bytes.copyOf().also { it[bytes.size / 2] = (it[bytes.size / 2].toInt() xor 1).toByte() }
        blob.writeBytes(tampered)
        val again = InksealClient.create(server, Flow.platformKey, FileBlobStore(Flow.blobDir), Flow.deviceKeys)
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
        val client = InksealClient.create(server, Flow.platformKey, failing, Flow.deviceKeys)
        val e = assertFailsWith<InksealException.Storage> { client.enroll(ticket("customer-broken-store"), PIN) }
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
        val client = InksealClient.create(server, Flow.platformKey, FileBlobStore(Flow.blobDir), Flow.deviceKeys)
        val key = client.enroll(ticket("customer-forgetful"), PIN)
        val left = (1..4).map {
            assertFailsWith<InksealException.WrongPin> { client.requestCertificate(key.keyId, "000000") }.attemptsLeft
        }
        assertEquals(listOf(4, 3, 2, 1), left)
        assertFailsWith<InksealException.Locked> { client.requestCertificate(key.keyId, "000000") }
        assertFailsWith<InksealException.Locked> { client.requestCertificate(key.keyId, PIN) }
        val status = client.status(key.keyId)
        assertTrue(status.locked && !status.revoked)
        assertFailsWith<InksealException.UnknownKey> { client.status("no-such-key") }
    }

    r.test("changePin: the old PIN counts, weak new PINs are refused, then only the new PIN signs") {
        val client = phone("pin-change", Flow.deviceKeys)
        val key = client.enroll(ticket("customer-new-pin"), PIN).keyId
        val caPem = pem(client.requestCertificate(key, PIN).caCertificateDer)
        assertEquals(4, assertFailsWith<InksealException.WrongPin> { client.changePin(key, "975310", NEW_PIN) }.attemptsLeft)
        assertFailsWith<InksealException.PinRejected> { client.changePin(key, PIN, "123456") }
        client.changePin(key, PIN, NEW_PIN)
        assertEquals(0u, client.status(key).pinFailures, "the right old PIN reset the count")
        assertEquals(4, assertFailsWith<InksealException.WrongPin> { client.signPdf(key, PIN, fixture, File(work, "old-pin.pdf"), options()) }.attemptsLeft)
        assertFalse(File(work, "old-pin.pdf").exists())
        val out = File(work, "new-pin.pdf")
        client.signPdf(key, NEW_PIN, fixture, out, options())
        assertTrue(Inkseal.verifyPdf(out, listOf(caPem)).allValid)
    }

    r.test("revoke: the key is forgotten here, a copy elsewhere gets Revoked, so does a key the bank revoked") {
        val deviceKeysFile = File(work, "revoke-keys.p12")
        val deviceKeys = JvmDeviceKeys.pkcs12File(deviceKeysFile, DEVICE_KEYS_PASSWORD)
        val client = phone("revoke", deviceKeys)
        val (key, aliases) = newAliases(deviceKeys) { client.enroll(ticket("customer-revoke"), PIN) }
        client.requestCertificate(key.keyId, PIN)
        // A backup of the phone's state (shares and device keys), taken before revocation.
        File(work, "revoke-shares").copyRecursively(File(work, "revoke-backup-shares"))
        deviceKeysFile.copyTo(File(work, "revoke-backup-keys.p12"))
        assertFailsWith<InksealException.WrongPin> { client.revoke(key.keyId, "975310", RevokeReason.KEY_COMPROMISE) }
        client.revoke(key.keyId, PIN, RevokeReason.KEY_COMPROMISE)
        assertTrue(aliases.none { it in deviceKeys.aliases() }, "the device key was deleted")
        assertFailsWith<InksealException.UnknownKey> { client.status(key.keyId) }
        assertTrue(Operator.flag(operator.keyStatus(key.keyId), "revoked"), "the server marked it revoked")
        val backup = phone("revoke-backup", JvmDeviceKeys.pkcs12File(File(work, "revoke-backup-keys.p12"), DEVICE_KEYS_PASSWORD))
        assertFailsWith<InksealException.Revoked> { backup.signPdf(key.keyId, PIN, fixture, File(work, "revoked.pdf"), options()) }
        assertFalse(File(work, "revoked.pdf").exists())

        // Revoked by the bank (operator API) while the phone still holds the key.
        val other = client.enroll(ticket("customer-bank-revokes"), PIN).keyId
        client.requestCertificate(other, PIN)
        operator.revoke(other)
        assertFailsWith<InksealException.Revoked> { client.signPdf(other, PIN, fixture, File(work, "revoked.pdf"), options()) }
        assertFailsWith<InksealException.Revoked> { client.changePin(other, PIN, NEW_PIN) }
    }

    r.test("forget removes the share and the device key from this device only") {
        val deviceKeys = JvmDeviceKeys.inMemory()
        val client = phone("forget", deviceKeys)
        val (key, aliases) = newAliases(deviceKeys) { client.enroll(ticket("customer-forget"), PIN) }
        assertEquals(1, aliases.size)
        client.forget(key.keyId)
        assertEquals(emptySet(), deviceKeys.aliases())
        assertFailsWith<InksealException.UnknownKey> { client.status(key.keyId) }
        assertFalse(Operator.flag(operator.keyStatus(key.keyId), "revoked"), "the server still has the key")
    }

    r.test("the logger heard the library and never a PIN, a ticket secret or the API key") {
        Inkseal.clearLogger()
        assertTrue(logLines.isNotEmpty())
        val secrets = listOf(PIN, NEW_PIN, "test-store-password", DEVICE_KEYS_PASSWORD, apiKey.substringAfter('.')) + ticketSecrets
        assertTrue(ticketSecrets.size >= 10, "tickets were issued: ${ticketSecrets.size}")
        for (secret in secrets) assertTrue(logLines.none { secret in it }, "a secret reached the log")
    }

    r.runAll()
}
