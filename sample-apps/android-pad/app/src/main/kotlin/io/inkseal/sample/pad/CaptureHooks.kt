package io.inkseal.sample.pad

import io.inkseal.ffi.FaceLivenessHook
import io.inkseal.ffi.HookException
import io.inkseal.ffi.IdCardCaptureResult
import io.inkseal.ffi.IdCardHook
import io.inkseal.ffi.LivenessCaptureResult
import io.inkseal.ffi.LivenessChallengeInfo
import java.security.MessageDigest
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.json.JSONArray
import org.json.JSONObject

/** The Chinese prompt for each action a liveness challenge can ask for. */
val ACTION_PROMPTS: Map<String, String> = mapOf(
    "blink" to "请眨眼",
    "turn_left" to "请向左转头",
    "turn_right" to "请向右转头",
    "nod" to "请点头",
    "open_mouth" to "请张嘴",
)

/**
 * Bridges the library's hook calls to the Compose camera screens. The library calls a hook on
 * one of its own threads and waits for the answer; the hook publishes a [Request], the screen
 * shown for it completes [Request.reply], and the hook returns that.
 */
class CaptureCoordinator {
    sealed interface Request {
        class IdCard(val reply: CompletableDeferred<IdCardCaptureResult>) : Request
        class Liveness(val challenge: LivenessChallengeInfo, val reply: CompletableDeferred<LivenessCaptureResult>) : Request
    }

    private val _request = MutableStateFlow<Request?>(null)
    /** What the capture screen should show now (null: nothing asked). */
    val request: StateFlow<Request?> = _request.asStateFlow()

    /**
     * Called on the library's capture thread (never the main thread): shows the request and
     * blocks until the screen answers, the officer cancels (HookException.Cancelled), or
     * [timeoutMs] passes; anything else that goes wrong is HookException.Failed.
     */
    internal fun <T> ask(timeoutMs: Long, make: (CompletableDeferred<T>) -> Request): T {
        val reply = CompletableDeferred<T>()
        val request = make(reply)
        _request.value = request
        return try {
            runBlocking { withTimeout(timeoutMs) { reply.await() } }
        } catch (e: TimeoutCancellationException) {
            throw HookException.Failed("the capture timed out")
        } catch (e: CancellationException) {
            // The officer cancelled: the library stops the capture (InksealException.Cancelled).
            throw HookException.Cancelled()
        } catch (e: Exception) {
            throw HookException.Failed("capture failed: ${e.message}")
        } finally {
            _request.compareAndSet(request, null)
        }
    }

    /** The officer gave up: the pending hook call fails and the library's capture ends. */
    fun cancel() {
        when (val r = _request.value) {
            is Request.IdCard -> r.reply.cancel()
            is Request.Liveness -> r.reply.cancel()
            null -> Unit
        }
    }
}

/** Face liveness with CameraX: one frame facing the camera, then one per challenged action. */
class CameraFaceLivenessHook(private val ui: CaptureCoordinator) : FaceLivenessHook {
    override fun capture(challenge: LivenessChallengeInfo): LivenessCaptureResult {
        val untilExpiry = challenge.expiresAtMs.toLong() - System.currentTimeMillis()
        return ui.ask(untilExpiry.coerceIn(10_000, 300_000)) { CaptureCoordinator.Request.Liveness(challenge, it) }
    }
}

/** The ID card with CameraX (front and back), the fields confirmed by the officer. */
class CameraIdCardHook(private val ui: CaptureCoordinator) : IdCardHook {
    override fun capture(): IdCardCaptureResult = ui.ask(600_000) { CaptureCoordinator.Request.IdCard(it) }
}

// ─── VENDOR SDK PLUG POINT: face liveness ───────────────────────────────────────────────────────
//
// Production replaces LivenessVendor with the liveness vendor's SDK: Tencent Cloud FaceID (腾讯云
// 慧眼), Alibaba Cloud 实人认证, FaceTec, iProov, … Those SDKs usually run their own camera UI:
// start them from the Liveness request screen (instead of LivenessCapture's CameraX loop) with
// the challenge's nonce as the SDK's nonce / extra data, then answer the hook with the frames
// the SDK hands back (its best frames), its order or request id as vendorReference, and its
// opaque result package as vendorPackage. The inkseal server's vendor adapter for that vendor
// checks the package with the vendor's API; the phone never decides "passed".

/** What a liveness vendor returns for the server's adapter. */
class VendorResult(val reference: String, val packageBytes: ByteArray)

interface LivenessVendor {
    /** The vendor name the server's adapter is registered under. */
    val name: String

    fun packageFor(challenge: LivenessChallengeInfo, frames: List<ByteArray>, actionsPerformed: List<String>): VendorResult
}

/**
 * DEVELOPMENT ONLY: the package of the server's deterministic test vendor
 * (`inkseal-test-vendor`, core/capture/src/test_vendor.rs), which binds the nonce, the frames'
 * SHA-256 and the actions but analyses no face. A development server accepts it; a production
 * server has no test vendor and refuses it.
 */
object DevelopmentTestVendor : LivenessVendor {
    override val name = "inkseal-test-vendor"

    override fun packageFor(challenge: LivenessChallengeInfo, frames: List<ByteArray>, actionsPerformed: List<String>): VendorResult {
        val json = JSONObject()
            .put("vendor", name)
            .put("challenge_id", challenge.challengeId)
            .put("nonce_hex", challenge.nonceHex)
            .put("actions_performed", JSONArray(actionsPerformed))
            .put("frame_sha256_hex", JSONArray(frames.map { sha256Hex(it) }))
            .put("verdict_hint", "live")
        return VendorResult(reference = "dev-${challenge.challengeId}", packageBytes = json.toString().toByteArray())
    }

    private fun sha256Hex(bytes: ByteArray): String =
        MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }
}

// ─── VENDOR SDK PLUG POINT: ID-card OCR ────────────────────────────────────────────────────────
//
// Production reads the card with an OCR SDK or API (Tencent Cloud IDCardOCR, Baidu OCR, a
// bank-internal service, or the NFC chip through a licensed reader) and pre-fills the form;
// the officer still confirms. The library re-checks the fields (GB 11643 check character,
// birth date against the number, validity dates) and the server checks them again.

interface IdCardReader {
    suspend fun read(front: ByteArray, back: ByteArray): IdCardForm
}

/** The placeholder: reads nothing; the officer types the fields from the card. */
object ManualEntry : IdCardReader {
    override suspend fun read(front: ByteArray, back: ByteArray) = IdCardForm()
}

/** The ID card's fields as the officer confirms them; [toJson] is the library's IdCardFields. */
data class IdCardForm(
    val name: String = "",
    /** 男 / 女, may stay empty. */
    val sex: String = "",
    val ethnicity: String = "",
    /** YYYY-MM-DD, may stay empty (it is inside the number). */
    val birthDate: String = "",
    val address: String = "",
    val idNumber: String = "",
    val issuingAuthority: String = "",
    /** YYYY-MM-DD or YYYY.MM.DD. */
    val validFrom: String = "",
    /** YYYY-MM-DD, YYYY.MM.DD or 长期. */
    val validUntil: String = "",
) {
    val complete: Boolean
        get() = name.isNotBlank() && idNumber.length == 18 && validFrom.isNotBlank() && validUntil.isNotBlank()

    fun toJson(): String = JSONObject().apply {
        put("name", name.trim())
        if (sex.isNotBlank()) put("sex", sex.trim())
        put("ethnicity", ethnicity.trim())
        if (birthDate.isNotBlank()) put("birth_date", birthDate.trim())
        put("address", address.trim())
        put("id_number", idNumber.trim().uppercase())
        put("issuing_authority", issuingAuthority.trim())
        put("valid_from", validFrom.trim())
        put("valid_until", validUntil.trim())
    }.toString()
}
