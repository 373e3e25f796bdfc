// The hand-written Kotlin façade over the generated bindings (io.inkseal.ffi): suspend
// functions that run on Dispatchers.IO, one sealed exception hierarchy, and the helpers an
// Android app needs (a no-backup file store for wrapped shares, the Android Keystore key).
//
// The files directly in io/inkseal/ use no Android API, so scripts/bindings.sh test-kotlin and
// scripts/desktop-sample.sh compile and run them on a desktop JVM (JvmDeviceKeys.kt is the
// desktop device key store); what needs the Android SDK (Context, KeyGenParameterSpec) lives
// in io/inkseal/android/, which only Gradle compiles.
package io.inkseal

import io.inkseal.ffi.DeviceKeys
import io.inkseal.ffi.HookException
import io.inkseal.ffi.Logger
import io.inkseal.ffi.ProgressListener
import io.inkseal.ffi.ShareStorage
import java.io.File
import java.io.IOException
import java.nio.file.Files
import java.nio.file.StandardCopyOption
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import io.inkseal.ffi.Handwriting as FfiHandwriting
import io.inkseal.ffi.InkPad as FfiInkPad
import io.inkseal.ffi.InksealClient as FfiClient
import io.inkseal.ffi.InksealException as FfiException
import io.inkseal.ffi.PlatformKey as FfiPlatformKey
import io.inkseal.ffi.PreparedPdf as FfiPreparedPdf

/** A finished enrollment: the key id (chosen by the server), user id and certificate name. */
typealias EnrollmentInfo = io.inkseal.ffi.EnrollmentInfo
/** A certificate (DER) and its CA's certificate (DER). */
typealias CertificateInfo = io.inkseal.ffi.CertificateInfo
/** The server's view of a key: PIN failures, lock, revocation, certificate. */
typealias KeyStatusInfo = io.inkseal.ffi.KeyStatusInfo
/** How to sign a PDF. */
typealias PdfSignOptions = io.inkseal.ffi.PdfSignOptions
/** The app's font engine, drawing signature labels as outlines ([JvmLabelFont], io.inkseal.android.AndroidLabelFont). */
typealias LabelFont = io.inkseal.ffi.LabelFont
/** A line of text as outlines, in ems, y up. */
typealias TextOutline = io.inkseal.ffi.TextOutline
/** One piece of a [TextOutline] (build one with io.inkseal.ffi.OutlineSegment.MoveTo etc.: a typealias cannot name nested classes). */
typealias OutlineSegment = io.inkseal.ffi.OutlineSegment
/** PAdES baseline level of a co-signed PDF: BASIC (B-B), TIME_STAMPED (B-T), LONG_TERM (B-LT), LONG_TERM_ARCHIVE (B-LTA). */
typealias PadesLevel = io.inkseal.ffi.PadesLevel
/** Where the signature goes; build one with [Placement]. */
typealias SignaturePlacement = io.inkseal.ffi.SignaturePlacement
/** The verdict on a PDF. */
typealias PdfVerification = io.inkseal.ffi.PdfVerification
/** A transaction the user approves ([InksealClient.signTransaction]). */
typealias TransactionDetails = io.inkseal.ffi.TransactionDetails
/** One side of a [TransactionDetails]. */
typealias TransactionParty = io.inkseal.ffi.TransactionParty
/** A verified transaction signature and what was approved ([Inkseal.verifyTransaction]). */
typealias VerifiedTransactionInfo = io.inkseal.ffi.VerifiedTransactionInfo
/** A login challenge the institution's backend obtained from the server ([InksealClient.login]). */
typealias LoginChallengeInfo = io.inkseal.ffi.LoginChallengeInfo
/** A digital envelope's plaintext ([InksealClient.openEnvelope]). */
typealias OpenedEnvelope = io.inkseal.ffi.OpenedEnvelope
/** The verdict on one signature. */
typealias SignatureVerification = io.inkseal.ffi.SignatureVerification
/** One touch or stylus sample. */
typealias InkPoint = io.inkseal.ffi.InkPoint
/** A smoothed piece of ink to draw. */
typealias InkSegment = io.inkseal.ffi.InkSegment
/** What the quality check measured. */
typealias InkQuality = io.inkseal.ffi.InkQuality
/** A handwritten signature sealed for the institution, for PdfSignOptions.handwriting. */
typealias SealedInk = io.inkseal.ffi.SealedInk
/** Storage for wrapped shares that the app provides. */
typealias SecureBlobStore = io.inkseal.ffi.SecureBlobStore
/** Log levels. */
typealias LogLevel = io.inkseal.ffi.LogLevel
/** The app's own HTTP stack (OkHttp, a gateway...) in place of the built-in client. */
typealias HttpTransport = io.inkseal.ffi.HttpTransport
/** A request for an [HttpTransport]. */
typealias HttpRequestInfo = io.inkseal.ffi.HttpRequestInfo
/** One header of an [HttpRequestInfo]: send it exactly as given. */
typealias HttpHeader = io.inkseal.ffi.HttpHeader
/** What an [HttpTransport] returns. */
typealias HttpResponseInfo = io.inkseal.ffi.HttpResponseInfo
/**
 * The device key store: P-256 keys that sign every request about a key. Implemented by
 * [JvmDeviceKeys] (desktop, tests) and io.inkseal.android.AndroidKeystoreDeviceKeys (phones).
 */
typealias DeviceKeyStore = io.inkseal.ffi.DeviceKeyStore
/** A new device key's public half (SPKI DER) and its attestation. */
typealias DeviceKeyInfo = io.inkseal.ffi.DeviceKeyInfo
/** A platform attestation of a device key. */
typealias DeviceAttestationInfo = io.inkseal.ffi.DeviceAttestationInfo
/** Which platform attestation a device key carries. */
typealias AttestationKind = io.inkseal.ffi.AttestationKind
/** What to do after [InksealException.CaptureRejected]. */
typealias CaptureAction = io.inkseal.ffi.CaptureAction
/** Why a key is revoked. */
typealias RevokeReason = io.inkseal.ffi.RevokeReason
/** Identity evidence the server judged: its head goes into PdfSignOptions.evidenceHeadHex. */
typealias EvidenceInfo = io.inkseal.ffi.EvidenceInfo
/** Face liveness, implemented by the app or a vendor SDK (camera work). */
typealias FaceLivenessHook = io.inkseal.ffi.FaceLivenessHook
/** ID-card capture (photos + OCR), implemented by the app or a vendor SDK. */
typealias IdCardHook = io.inkseal.ffi.IdCardHook
/** The server's one-time liveness challenge, as a FaceLivenessHook receives it. */
typealias LivenessChallengeInfo = io.inkseal.ffi.LivenessChallengeInfo
/** What a FaceLivenessHook returns. */
typealias LivenessCaptureResult = io.inkseal.ffi.LivenessCaptureResult
/** What an IdCardHook returns. */
typealias IdCardCaptureResult = io.inkseal.ffi.IdCardCaptureResult

/** The [SignaturePlacement]s (Kotlin cannot reach a sealed class's cases through a typealias). */
object Placement {
    /** No visible widget. */
    val invisible: SignaturePlacement = io.inkseal.ffi.SignaturePlacement.Invisible

    /** A rectangle on a 1-based [page], in PDF points from the bottom-left corner. */
    fun rect(page: Int, x: Double, y: Double, width: Double, height: Double): SignaturePlacement =
        io.inkseal.ffi.SignaturePlacement.Rect(page.toUInt(), x, y, width, height)

    /** Right after the first occurrence of [text] (e.g. 借款人（签字）：), on [page] or any page. */
    fun keyword(text: String, width: Double, height: Double, page: Int? = null): SignaturePlacement =
        io.inkseal.ffi.SignaturePlacement.Keyword(text, page?.toUInt(), width, height)

    /** An existing, unsigned signature field, by its full name. */
    fun field(name: String): SignaturePlacement = io.inkseal.ffi.SignaturePlacement.Field(name)
}

/**
 * Everything that can go wrong, as what the app should do about it. Thrown by every call of
 * this package (cancellation excepted: a cancelled coroutine throws CancellationException).
 */
sealed class InksealException(message: String) : Exception(message) {
    /** Wrong PIN: ask again; the key locks when [attemptsLeft] reaches zero. */
    class WrongPin(val attemptsLeft: Int) : InksealException("wrong PIN ($attemptsLeft attempt(s) left)")
    /** The new PIN breaks the PIN policy (too short, 123456, 000000...): ask for another. */
    class PinRejected(val detail: String) : InksealException("PIN refused: $detail")
    /** Locked after too many wrong PINs: the user must be verified again or enroll anew. */
    class Locked : InksealException("the key is locked")
    /** The key is revoked and never signs again: enroll anew (with a new ticket). */
    class Revoked : InksealException("the key is revoked")
    /** The server or this device does not know the key: enroll again. */
    class UnknownKey(val detail: String) : InksealException("unknown key: $detail")
    /**
     * The server does not accept this device's signature for the key (device key lost or
     * replaced, the key removed, or an HTTP stack that dropped the signature headers).
     */
    class Unauthenticated(val detail: String) : InksealException("this device is not recognised for the key: $detail")
    /** The device clock is too far from the server's ([serverTimeUnix]): set the clock, retry. */
    class ClockSkew(val serverTimeUnix: Long) : InksealException("the device clock is off (server time $serverTimeUnix)")
    /** The enrollment ticket is unknown, already used or expired: get a new one from the institution. */
    class TicketInvalid(val detail: String) : InksealException("enrollment ticket refused: $detail")
    /** Too many requests: wait [retryAfterSecs] seconds, then retry. */
    class RateLimited(val retryAfterSecs: Long) : InksealException("too many requests; retry in $retryAfterSecs s")
    /** The server could not be reached: retry later. */
    class Network(val detail: String) : InksealException("network error: $detail")
    /** The server broke the protocol; nothing was signed. Report it, do not retry blindly. */
    class ServerMisbehaved(val detail: String) : InksealException("the server misbehaved: $detail")
    /** The server refused (policy, conflict, internal error). */
    class Refused(val detail: String) : InksealException("refused: $detail")
    /** Policy requires fresh evidence (liveness) bound to this signature: capture, then sign. */
    class EvidenceRequired(val detail: String) : InksealException("evidence required: $detail")
    /** A capture failed a check: show [reason] and do what [action] says. */
    class CaptureRejected(val reason: String, val action: CaptureAction) : InksealException("capture rejected: $reason")
    /** The handwriting breaks a quality rule: ask the signer to write again. */
    class HandwritingRejected(val reason: String) : InksealException("handwriting rejected: $reason")
    /** The app passed something invalid. */
    class InvalidInput(val detail: String) : InksealException("invalid input: $detail")
    /** The document cannot be signed or verified. */
    class BadDocument(val detail: String) : InksealException("bad document: $detail")
    /** Local storage failed: the share store (SecureBlobStore, platform key) or the output file. */
    class Storage(val detail: String) : InksealException("storage: $detail")
    /** A hook of the app (progress listener, logger, capture hook) threw. */
    class Hook(val detail: String) : InksealException("an app hook failed: $detail")
    /** A hook asked to stop (a progress listener threw HookException.Cancelled()). */
    class Cancelled : InksealException("cancelled")
}

internal fun FfiException.toPublic(): InksealException {
    val mapped = when (this) {
        is FfiException.WrongPin -> InksealException.WrongPin(attemptsLeft.toInt())
        is FfiException.PinRejected -> InksealException.PinRejected(detail)
        is FfiException.Locked -> InksealException.Locked()
        is FfiException.Revoked -> InksealException.Revoked()
        is FfiException.UnknownKey -> InksealException.UnknownKey(detail)
        is FfiException.Unauthenticated -> InksealException.Unauthenticated(detail)
        is FfiException.ClockSkew -> InksealException.ClockSkew(serverTimeUnix.toLong())
        is FfiException.TicketInvalid -> InksealException.TicketInvalid(detail)
        is FfiException.RateLimited -> InksealException.RateLimited(retryAfterSecs.toLong())
        is FfiException.Network -> InksealException.Network(detail)
        is FfiException.ServerMisbehaved -> InksealException.ServerMisbehaved(detail)
        is FfiException.Refused -> InksealException.Refused(detail)
        is FfiException.EvidenceRequired -> InksealException.EvidenceRequired(detail)
        is FfiException.CaptureRejected -> InksealException.CaptureRejected(reason, action)
        is FfiException.HandwritingRejected -> InksealException.HandwritingRejected(reason)
        is FfiException.InvalidInput -> InksealException.InvalidInput(detail)
        is FfiException.BadDocument -> InksealException.BadDocument(detail)
        is FfiException.Storage -> InksealException.Storage(detail)
        is FfiException.Hook -> InksealException.Hook(detail)
        is FfiException.Cancelled -> InksealException.Cancelled()
    }
    mapped.initCause(this)
    return mapped
}

internal inline fun <T> mapErrors(block: () -> T): T =
    try {
        block()
    } catch (e: FfiException) {
        throw e.toPublic()
    }

/** Runs [block] on Dispatchers.IO (the library blocks while it reads files and stores shares). */
internal suspend fun <T> onIo(block: suspend () -> T): T =
    withContext(Dispatchers.IO) {
        try {
            block()
        } catch (e: FfiException) {
            throw e.toPublic()
        }
    }

/** Library-wide set-up, logging and verification. */
object Inkseal {
    /** The native library's name: libinkseal_ffi.so. */
    const val LIBRARY: String = "inkseal_ffi"

    @Volatile private var loaded = false

    /**
     * Loads the native library with System.loadLibrary so that its JNI_OnLoad runs and the
     * Android Keystore can be used (JNA, which the generated bindings use, loads the same
     * library without running it). Call once at start-up; later calls do nothing.
     */
    @JvmStatic
    fun init() {
        synchronized(this) {
            if (!loaded) {
                System.loadLibrary(LIBRARY)
                loaded = true
            }
        }
    }

    /** [init] from an explicit file (desktop JVMs, tests). */
    @JvmStatic
    fun init(library: File) {
        synchronized(this) {
            if (!loaded) {
                System.load(library.absolutePath)
                loaded = true
            }
        }
    }

    /**
     * Writes a valid sample capture folder (synthetic face frames, a fictitious ID card) for
     * [InksealClient.captureEvidenceFromFolder]: demos, desktop samples, tests.
     */
    fun writeSampleCaptureFolder(folder: File) = mapErrors { io.inkseal.ffi.writeSampleCaptureFolder(folder.path) }

    /** Whether the library knows the JVM, i.e. Java key stores can be used. */
    val isJavaKeyStoreAvailable: Boolean
        get() = io.inkseal.ffi.javaVmAvailable()

    /**
     * Sends the library's log events at [level] and below to [sink] (called on any thread;
     * what it throws is ignored). Nothing logged contains a PIN or a share.
     */
    fun setLogger(level: LogLevel, sink: (level: LogLevel, target: String, message: String) -> Unit) {
        val logger = object : Logger {
            override fun log(level: LogLevel, target: String, message: String) = sink(level, target, message)
        }
        mapErrors { io.inkseal.ffi.setLogger(logger, level) }
    }

    /** Stops forwarding log events. */
    fun clearLogger() = io.inkseal.ffi.clearLogger()

    /** Verifies every signature of [file]; chains are judged against [trustAnchorsPem]. */
    suspend fun verifyPdf(file: File, trustAnchorsPem: List<String> = emptyList()): PdfVerification =
        onIo { io.inkseal.ffi.verifyPdf(file.path, trustAnchorsPem) }

    /**
     * Verifies a transaction SignedData ([InksealClient.signTransaction]'s result) against
     * [trustAnchorsDer] (certificates, DER) and returns what was approved; anything wrong is
     * [InksealException.BadDocument].
     */
    suspend fun verifyTransaction(signedDer: ByteArray, trustAnchorsDer: List<ByteArray>): VerifiedTransactionInfo =
        onIo { io.inkseal.ffi.verifyTransaction(signedDer, trustAnchorsDer) }

}

/**
 * A key in the platform's key store that wraps device shares before the [SecureBlobStore]
 * sees them. Its key material never leaves the key store.
 */
class PlatformKey private constructor(internal val ffi: FfiPlatformKey) : AutoCloseable {
    companion object {
        /** The default alias of the wrapping key. */
        const val DEFAULT_ALIAS: String = "inkseal-share-wrap"

        /**
         * An AES-256 key in the Android Keystore (hardware-backed where available), created on
         * first use. With [userAuthValiditySeconds], the key works only that long after the
         * user unlocked the device. Loads the library with [Inkseal.init].
         */
        fun androidKeystore(alias: String = DEFAULT_ALIAS, userAuthValiditySeconds: Int? = null): PlatformKey {
            Inkseal.init()
            return mapErrors { PlatformKey(FfiPlatformKey.androidKeystore(alias, userAuthValiditySeconds?.toUInt())) }
        }

        /**
         * An AES-256 key in a password-protected PKCS12 file, through the same JNI code as the
         * Android Keystore: desktop JVMs and tests, never phones. Needs [Inkseal.init] first.
         */
        fun javaKeystoreFile(file: File, password: String, alias: String = DEFAULT_ALIAS): PlatformKey =
            mapErrors { PlatformKey(FfiPlatformKey.javaKeystoreFile(file.path, password, alias)) }
    }

    /** Wraps and unwraps a random probe: a start-up check that the key store works. */
    fun check() = mapErrors { ffi.check() }

    override fun toString(): String = ffi.describe()

    override fun close() = ffi.close()
}

/**
 * A [SecureBlobStore] keeping each wrapped share in its own file under [directory]: on
 * Android, a directory under Context.getNoBackupFilesDir() so that the blobs are never backed
 * up (the key that opens them cannot be restored anyway). Writes are atomic.
 */
class FileBlobStore(private val directory: File) : SecureBlobStore {
    private val keyId = Regex("[A-Za-z0-9_-]{1,64}")

    private fun fileOf(keyId: String): File {
        if (!this.keyId.matches(keyId)) throw HookException.Failed("bad key id")
        return File(directory, "$keyId.share")
    }

    override fun put(keyId: String, blob: ByteArray) {
        val target = fileOf(keyId)
        if (!directory.isDirectory && !directory.mkdirs()) throw HookException.Failed("cannot create $directory")
        val tmp = File.createTempFile(".$keyId", ".tmp", directory)
        try {
            tmp.writeBytes(blob)
            Files.move(tmp.toPath(), target.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
        } catch (e: IOException) {
            tmp.delete()
            throw HookException.Failed("writing $target: ${e.message}")
        }
    }

    override fun get(keyId: String): ByteArray? {
        val file = fileOf(keyId)
        return if (file.isFile) file.readBytes() else null
    }

    override fun delete(keyId: String) {
        fileOf(keyId).delete()
    }
}

/**
 * Talks to the co-signing server for this device. Every network call is a suspend function
 * running on Dispatchers.IO; cancelling the coroutine abandons the call (nothing is signed or
 * written if the server had not answered yet; a signed file is either written whole or not at
 * all).
 *
 * Every request about a key is signed by the key's device key, kept in the [DeviceKeyStore]
 * the client was made with: the Android Keystore on phones
 * (io.inkseal.android.AndroidKeystoreDeviceKeys), [JvmDeviceKeys] on desktops.
 *
 * PINs cross as Strings (UniFFI has no char arrays): do not keep them longer than the call.
 */
class InksealClient private constructor(private val ffi: FfiClient) : AutoCloseable {
    companion object {
        /** On phones: shares wrapped by [platformKey], stored in [blobStore]; device keys in [deviceKeys]. */
        fun create(
            serverUrl: String,
            platformKey: PlatformKey,
            blobStore: SecureBlobStore,
            deviceKeys: DeviceKeyStore,
            pinnedServerCertsPem: List<String>? = null,
            transport: HttpTransport? = null,
        ): InksealClient =
            mapErrors {
                InksealClient(
                    FfiClient(
                        serverUrl,
                        ShareStorage.Platform(platformKey.ffi, blobStore),
                        DeviceKeys.Platform(deviceKeys),
                        pinnedServerCertsPem,
                        transport,
                    ),
                )
            }

        /**
         * Desktop and tests only: shares in owner-only files under [directory], unwrapped;
         * device keys in [deviceKeys] (e.g. [JvmDeviceKeys]).
         */
        fun withShareDirectory(
            serverUrl: String,
            directory: File,
            deviceKeys: DeviceKeyStore,
            pinnedServerCertsPem: List<String>? = null,
            transport: HttpTransport? = null,
        ): InksealClient =
            mapErrors {
                InksealClient(
                    FfiClient(serverUrl, ShareStorage.Directory(directory.path), DeviceKeys.Platform(deviceKeys), pinnedServerCertsPem, transport),
                )
            }

        /**
         * Desktop and tests only: shares and device keys both as owner-only files (under
         * [shareDirectory] and [deviceKeyDirectory]), kept by the library itself.
         */
        fun withDirectories(
            serverUrl: String,
            shareDirectory: File,
            deviceKeyDirectory: File,
            pinnedServerCertsPem: List<String>? = null,
            transport: HttpTransport? = null,
        ): InksealClient =
            mapErrors {
                InksealClient(
                    FfiClient(
                        serverUrl,
                        ShareStorage.Directory(shareDirectory.path),
                        DeviceKeys.Directory(deviceKeyDirectory.path),
                        pinnedServerCertsPem,
                        transport,
                    ),
                )
            }
    }

    /**
     * Creates a split key with the one-time enrollment [ticket] the institution's backend
     * issued (`et-...`, e.g. from a deep link or a QR code), protected by [pin] (6 to 32
     * characters, not a weak one such as 123456: [InksealException.PinRejected]). A new device
     * key is made in the device key store. A used or expired ticket is
     * [InksealException.TicketInvalid]. The server chooses the key id.
     */
    suspend fun enroll(ticket: String, pin: String): EnrollmentInfo = onIo { ffi.enroll(ticket, pin) }

    /**
     * Creates a split encryption key (opens digital envelopes, signs nothing but its own
     * certificate request) with its own enrollment [ticket]; call [requestCertificate] next:
     * senders seal to that certificate.
     */
    suspend fun enrollEncryptionKey(ticket: String, pin: String): EnrollmentInfo =
        onIo { ffi.enrollEncryptionKey(ticket, pin) }

    /**
     * Opens a digital envelope (DER CMS EnvelopedData) addressed to the encryption key's
     * certificate, with the server (one PIN use, one round trip, audited): all of the
     * plaintext or nothing. Not addressed to the key: [InksealException.InvalidInput];
     * malformed or altered: [InksealException.BadDocument]. The returned content is the
     * app's to clear ([java.util.Arrays.fill]) when done; `signed` content is a SignedData to
     * verify before use.
     */
    suspend fun openEnvelope(keyId: String, pin: String, envelope: ByteArray): OpenedEnvelope =
        onIo { ffi.openEnvelope(keyId, pin, envelope) }

    /**
     * Obtains the key's certificate (the request is co-signed: one PIN use). When the key's
     * policy requires liveness, pass the [EvidenceInfo.headHex] of a fresh identity-proofing
     * capture (one without documents).
     */
    suspend fun requestCertificate(keyId: String, pin: String, evidenceHeadHex: String? = null): CertificateInfo =
        onIo { ffi.requestCertificate(keyId, pin, evidenceHeadHex) }

    /**
     * [enroll] for a two-party **P-256** key (ECDSA with SHA-256, what Adobe Reader and
     * verifiers outside China check): two round trips, each to any server replica. The
     * server must run with `--enable-unaudited-p256-cosign` (otherwise
     * [InksealException.Refused]); [EnrollmentInfo.publicKeyHex] is SEC1 uncompressed. Then
     * [requestCertificateP256], and sign PDFs with the same [preparePdf]/[signPreparedPdf] or
     * [signPdf] (ecdsa-with-SHA256).
     */
    suspend fun enrollP256(ticket: String, pin: String): EnrollmentInfo = onIo { ffi.enrollP256(ticket, pin) }

    /** [requestCertificate] for a key from [enrollP256]: an ecdsa-with-SHA256 certificate from the server CA's P-256 root. */
    suspend fun requestCertificateP256(keyId: String, pin: String, evidenceHeadHex: String? = null): CertificateInfo =
        onIo { ffi.requestCertificateP256(keyId, pin, evidenceHeadHex) }

    /**
     * Identity evidence through the app's hooks: a server challenge, the ID card (when
     * [idCard] is given), face liveness, local checks, the documents about to be signed
     * ([documentDigestsHex]: each [PreparedPdf.documentDigestHex]; none for identity proofing)
     * bound in, and the server's verdict. Throws [InksealException.CaptureRejected] with the
     * reason to show and the [CaptureAction] to take. The hooks run on a background thread and
     * may block while the camera UI runs.
     */
    suspend fun captureEvidence(
        keyId: String,
        liveness: FaceLivenessHook,
        idCard: IdCardHook? = null,
        documentDigestsHex: List<String> = emptyList(),
    ): EvidenceInfo = onIo { ffi.captureEvidence(keyId, liveness, idCard, documentDigestsHex) }

    /** [captureEvidence] from a folder of captures (see [Inkseal.writeSampleCaptureFolder]). */
    suspend fun captureEvidenceFromFolder(
        keyId: String,
        folder: File,
        requireIdCard: Boolean = true,
        documentDigestsHex: List<String> = emptyList(),
    ): EvidenceInfo = onIo { ffi.captureEvidenceFromFolder(keyId, folder.path, requireIdCard, documentDigestsHex) }

    /**
     * Step 1 of signing under a liveness policy: builds the signature revision of [input] (no
     * network). Capture with `documentDigestsHex = listOf(prepared.documentDigestHex)`, then
     * [signPreparedPdf] with that evidence's head.
     */
    suspend fun preparePdf(keyId: String, input: File, options: PdfSignOptions): PreparedPdf =
        onIo { PreparedPdf(ffi.preparePdf(keyId, input.path, options)) }

    /**
     * Step 2: co-signs [prepared] (once) and writes the signed file to [output] atomically.
     * [evidenceHeadHex]: the head of the evidence that bound [PreparedPdf.documentDigestHex].
     * [onProgress] hears `signing`, `writing`, `done`, as for [signPdf].
     */
    suspend fun signPreparedPdf(
        pin: String,
        prepared: PreparedPdf,
        output: File,
        evidenceHeadHex: String? = null,
        onProgress: ((stage: String, fraction: Double) -> Unit)? = null,
    ) {
        val listener = onProgress?.let(::progressListener)
        onIo { ffi.signPreparedPdf(pin, prepared.ffi, output.path, evidenceHeadHex, listener) }
    }

    /**
     * Signs [input] into [output] in one step (atomically; they may be the same file), for
     * keys without a liveness policy. [onProgress] hears the stages `reading`, `signing`,
     * `writing`, `done`; if it throws, signing stops with [InksealException.Hook], or
     * [InksealException.Cancelled] for `io.inkseal.ffi.HookException.Cancelled()`
     * (a cancel button; cancelling the coroutine works too).
     */
    suspend fun signPdf(
        keyId: String,
        pin: String,
        input: File,
        output: File,
        options: PdfSignOptions,
        onProgress: ((stage: String, fraction: Double) -> Unit)? = null,
    ) {
        val listener = onProgress?.let(::progressListener)
        onIo { ffi.signPdf(keyId, pin, input.path, output.path, options, listener) }
    }

    /**
     * Co-signs [transaction] (one PIN use, one round trip): the DER CMS SignedData whose content
     * is the transaction. The server decodes and audits it before co-signing; a transaction
     * outside the limits is [InksealException.InvalidInput]. With a liveness policy,
     * [evidenceHeadHex] names evidence that bound SM3 of the transaction's DER.
     */
    suspend fun signTransaction(
        keyId: String,
        pin: String,
        transaction: TransactionDetails,
        evidenceHeadHex: String? = null,
    ): ByteArray = onIo { ffi.signTransaction(keyId, pin, transaction, evidenceHeadHex) }

    /**
     * Co-signs a login assertion over [challenge] (one PIN use, one round trip): the DER CMS
     * SignedData the app hands back to its backend, which verifies it with the server. The
     * server refuses an unknown, expired, used or mismatched challenge
     * ([InksealException.Refused]). [channel] (1 to 64 bytes) binds the login to a channel.
     */
    suspend fun login(
        keyId: String,
        pin: String,
        challenge: LoginChallengeInfo,
        channel: ByteArray? = null,
        evidenceHeadHex: String? = null,
    ): ByteArray = onIo { ffi.login(keyId, pin, challenge, channel, evidenceHeadHex) }

    /** The server's view of the key. */
    suspend fun status(keyId: String): KeyStatusInfo = onIo { ffi.status(keyId) }

    /**
     * Changes the PIN: [oldPin] counts as a PIN attempt ([InksealException.WrongPin]);
     * [newPin] must meet the PIN policy ([InksealException.PinRejected]).
     */
    suspend fun changePin(keyId: String, oldPin: String, newPin: String) = onIo { ffi.changePin(keyId, oldPin, newPin) }

    /**
     * Revokes the key (PIN required): it never signs again ([InksealException.Revoked]) and
     * its certificate goes on the CA's CRL. The share and device key are forgotten here.
     */
    suspend fun revoke(keyId: String, pin: String, reason: RevokeReason = RevokeReason.UNSPECIFIED) =
        onIo { ffi.revoke(keyId, pin, reason) }

    /** Forgets the key on this device (share and device key); the server keeps it until revoked. */
    suspend fun forget(keyId: String) = onIo { ffi.forget(keyId) }

    /** The certificate (DER) of a key held on this device, if issued. */
    fun certificate(keyId: String): ByteArray? = mapErrors { ffi.certificate(keyId) }

    override fun close() = ffi.close()
}

private fun progressListener(f: (stage: String, fraction: Double) -> Unit): ProgressListener =
    object : ProgressListener {
        override fun onProgress(stage: String, fraction: Double) = f(stage, fraction)
    }

/**
 * A PDF signature revision built by [InksealClient.preparePdf], waiting for its co-signature:
 * it signs once.
 */
class PreparedPdf internal constructor(internal val ffi: FfiPreparedPdf) : AutoCloseable {
    /** SM3 of the signed byte ranges, hex: what a liveness capture must bind. */
    val documentDigestHex: String = ffi.documentDigestHex()

    override fun close() = ffi.close()
}

/** A signature pad: feed it touch samples, draw the segments it returns. Thread-safe. */
class InkPad(width: Float, height: Float, dpi: Float) : AutoCloseable {
    private val ffi: FfiInkPad = mapErrors { FfiInkPad(width, height, dpi) }

    /** Pen down. */
    fun beginStroke() = mapErrors { ffi.beginStroke() }

    /** A batch of samples (e.g. a MotionEvent's history); returns segments to draw now. */
    fun addPoints(points: List<InkPoint>): List<InkSegment> = mapErrors { ffi.addPoints(points) }

    /** Pen up; returns the stroke's last segments. */
    fun endStroke(): List<InkSegment> = mapErrors { ffi.endStroke() }

    /** Removes the last stroke; whether there was one. */
    fun undo(): Boolean = mapErrors { ffi.undo() }

    /** Removes all ink. */
    fun clear() = mapErrors { ffi.clear() }

    /** Strokes recorded. */
    val strokeCount: Int
        get() = mapErrors { ffi.strokeCount().toInt() }

    /** A PNG preview of the ink in colour ([r], [g], [b]), [widthPx] wide. */
    fun toPng(widthPx: Int, r: Int = 0, g: Int = 0, b: Int = 0x80): ByteArray =
        mapErrors { ffi.toPng(widthPx.toUInt(), r.toUByte(), g.toUByte(), b.toUByte()) }

    /** Checks the signature's quality and returns it; throws HandwritingRejected otherwise. */
    fun finish(device: String, capturedAtMs: Long = System.currentTimeMillis()): Handwriting =
        mapErrors { Handwriting(ffi.finish(device, capturedAtMs.toULong())) }

    override fun close() = ffi.close()
}

/** A quality-checked handwritten signature; its raw record never leaves the library unencrypted. */
class Handwriting internal constructor(private val ffi: FfiHandwriting) : AutoCloseable {
    /** What the quality check measured. */
    val quality: InkQuality
        get() = ffi.quality()

    /** Encrypts the biometric record to the institution's public key (SM2 or P-256 PEM). */
    fun sealForInstitution(publicKeyPem: String): SealedInk = mapErrors { ffi.sealForInstitution(publicKeyPem) }

    override fun close() = ffi.close()
}
