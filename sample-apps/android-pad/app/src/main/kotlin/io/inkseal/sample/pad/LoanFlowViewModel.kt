package io.inkseal.sample.pad

import android.app.Application
import android.graphics.Bitmap
import android.os.Build
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import io.inkseal.android.AndroidLabelFont
import io.inkseal.CaptureAction
import io.inkseal.EvidenceInfo
import io.inkseal.FileBlobStore
import io.inkseal.Inkseal
import io.inkseal.InksealClient
import io.inkseal.InksealException
import io.inkseal.PdfSignOptions
import io.inkseal.PdfVerification
import io.inkseal.Placement
import io.inkseal.PlatformKey
import io.inkseal.android.AndroidKeystoreDeviceKeys
import java.io.File
import java.time.LocalDate
import java.time.ZoneId
import java.util.Base64
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/** Where the counter flow is. */
sealed interface Step {
    /**
     * The server and the customer's enrollment ticket: the bank's backend issues it after its
     * own checks (KYC, the loan application) and hands it to the tablet as a deep link
     * (inkseal://enroll?ticket=et-…) or a QR code the officer scans; it can also be pasted.
     */
    data object Login : Step
    /** The customer chooses a PIN: a split key and an Android Keystore device key are created. */
    data object Enroll : Step
    /** Identity proofing: ID card and face liveness through the camera hooks; the server decides. */
    data object Capture : Step
    /** Contract preview, handwritten signature, PIN. */
    data object Sign : Step
    /** A liveness capture bound to the prepared contract, then the co-signature. */
    data object Confirm : Step
    /** The signed contract and its verification. */
    data class Done(val signed: File, val verification: PdfVerification, val ink: Bitmap?, val page: Bitmap?) : Step
}

data class UiState(
    val step: Step = Step.Login,
    val serverUrl: String = "https://cosign.example.com",
    /** The enrollment ticket received (deep link, QR code, pasted); used once. */
    val ticket: String = "",
    /** From the enrollment: the bank's user id and the name on the certificate. */
    val userId: String = "",
    val customerName: String = "",
    val keyId: String? = null,
    val evidence: EvidenceInfo? = null,
    val busy: Boolean = false,
    /** A notice for the officer (network down, locked key, …). */
    val message: String? = null,
    /** Wrong PIN: how many attempts are left. */
    val pinError: String? = null,
    /** Why the last capture was refused, shown on the capture screen. */
    val captureError: String? = null,
    /** The PIN was refused as too weak (enrollment). */
    val enrollError: String? = null,
)

/**
 * The counter flow: one client per customer (shares wrapped by the Android Keystore, stored
 * under noBackupFilesDir; device keys in the Android Keystore, attested at enrollment), typed
 * errors turned into the screen the officer needs.
 */
class LoanFlowViewModel(app: Application) : AndroidViewModel(app) {
    private val _state = MutableStateFlow(UiState())
    val state: StateFlow<UiState> = _state.asStateFlow()

    /** Hands the library's capture requests to the camera screens. */
    val capture = CaptureCoordinator()
    /** The signature pad survives configuration changes with the view model. */
    val pad = SignaturePadState()

    private var client: InksealClient? = null
    private var caPem: String? = null

    private val contract: File by lazy { assetFile(CONTRACT_ASSET) }
    private val institutionPem: String by lazy {
        runCatching { app.assets.open(INSTITUTION_KEY_ASSET).use { String(it.readBytes()) } }
            .getOrElse { throw IllegalStateException("put the institution's public key in app/src/main/assets/$INSTITUTION_KEY_ASSET") }
    }

    companion object {
        const val CONTRACT_ASSET = "loan-contract-zh.pdf"
        const val INSTITUTION_KEY_ASSET = "institution.pub.pem"
        const val KEYWORD = "借款人（签字）："
        const val KEYWORD_PAGE = 3
    }

    /**
     * A ticket arrived from the bank's backend: a deep link (MainActivity), a scanned QR code
     * or a pasted text. The link may name the server too.
     */
    fun receiveTicket(ticket: String, serverUrl: String? = null) {
        _state.update { it.copy(ticket = ticket.trim(), serverUrl = serverUrl ?: it.serverUrl, step = Step.Login) }
    }

    fun login(serverUrl: String, ticket: String) = step {
        client?.close()
        // Inkseal.androidClient(context, serverUrl) from io.inkseal.android does the same in one call.
        val newClient = withContext(Dispatchers.IO) {
            Inkseal.init()
            val key = PlatformKey.androidKeystore()
            key.check()
            val blobs = FileBlobStore(File(getApplication<Application>().noBackupFilesDir, "inkseal-shares"))
            InksealClient.create(serverUrl, key, blobs, AndroidKeystoreDeviceKeys())
        }
        client = newClient
        caPem = null
        _state.update { it.copy(serverUrl = serverUrl, ticket = ticket, keyId = null, evidence = null, step = Step.Enroll) }
    }

    /** The ticket and the customer's PIN make the key; the bank's records name the customer. */
    fun enroll(pin: String) = step {
        _state.update { it.copy(enrollError = null) }
        val info = requireClient().enroll(state.value.ticket, pin)
        _state.update {
            it.copy(ticket = "", keyId = info.keyId, userId = info.userId, customerName = info.certificateName, step = Step.Capture)
        }
    }

    /** Identity proofing (before the certificate): ID card, then face liveness, then the verdict. */
    fun captureIdentity() = step {
        _state.update { it.copy(captureError = null) }
        val evidence = requireClient().captureEvidence(requireKey(), CameraFaceLivenessHook(capture), CameraIdCardHook(capture))
        _state.update { it.copy(evidence = evidence, step = Step.Sign) }
    }

    /**
     * Seals the handwriting, gets the certificate (once, presenting the identity proofing),
     * prepares the contract's signature, films the customer once more bound to its digest
     * (the liveness policy), co-signs the prepared contract with that evidence, verifies it.
     */
    fun sign(pin: String) = step {
        val c = requireClient()
        val key = requireKey()
        val device = "${Build.MANUFACTURER} ${Build.MODEL}; Android ${Build.VERSION.RELEASE}"
        val inkPreview = pad.preview()
        val sealed = pad.finish(device).use { it.sealForInstitution(institutionPem) }
        val anchor = caPem ?: run {
            // Identity proofing precedes the certificate (the server checks the evidence).
            val cert = c.requestCertificate(key, pin, evidenceHeadHex = state.value.evidence?.headHex)
            pem(cert.caCertificateDer).also { caPem = it }
        }
        val options = PdfSignOptions(
            placement = Placement.keyword(KEYWORD, width = 150.0, height = 60.0, page = KEYWORD_PAGE),
            reason = "借款合同签署",
            location = "网点柜面",
            labelLines = listOf(state.value.customerName, LocalDate.now(ZoneId.of("Asia/Shanghai")).toString()),
            labelFont = AndroidLabelFont(),
            handwriting = sealed,
        )
        val out = File(getApplication<Application>().filesDir, "signed/contract-${System.currentTimeMillis()}.pdf")
        out.parentFile?.mkdirs()
        // The evidence must bind this exact signature revision: prepare it, capture with its
        // digest (the Confirm screen shows the camera the hook asks for), then co-sign it.
        c.preparePdf(key, contractFile(), options).use { prepared ->
            _state.update { it.copy(step = Step.Confirm, captureError = null) }
            val bound = c.captureEvidence(key, CameraFaceLivenessHook(capture), documentDigestsHex = listOf(prepared.documentDigestHex))
            c.signPreparedPdf(pin, prepared, out, bound.headHex)
        }
        val verification = Inkseal.verifyPdf(out, listOf(anchor))
        val page = PdfPages.render(out, widthPx = 1200, pages = KEYWORD_PAGE..KEYWORD_PAGE).firstOrNull()
        pad.clear()
        _state.update { it.copy(step = Step.Done(out, verification, inkPreview, page), pinError = null) }
    }

    /** The contract as a file (copied out of the assets once), for the preview. */
    suspend fun contractFile(): File = withContext(Dispatchers.IO) { contract }

    fun dismissMessage() = _state.update { it.copy(message = null) }

    /** A new customer. */
    fun restart() {
        pad.clear()
        _state.update { UiState(serverUrl = it.serverUrl) }
    }

    /** Runs a step; typed errors decide where the officer goes next. */
    private fun step(block: suspend () -> Unit) {
        if (state.value.busy) return
        viewModelScope.launch {
            _state.update { it.copy(busy = true, message = null) }
            try {
                block()
            } catch (e: CancellationException) {
                throw e
            } catch (e: InksealException) {
                _state.update { it.afterError(e) }
            } catch (e: Exception) {
                _state.update { it.copy(message = e.message ?: e.toString()) }
            } finally {
                _state.update { it.copy(busy = false) }
            }
        }
    }

    private fun UiState.afterError(e: InksealException): UiState = when (e) {
        is InksealException.WrongPin -> copy(step = if (step == Step.Confirm) Step.Sign else step, pinError = "PIN 错误，还可尝试 ${e.attemptsLeft} 次")
        is InksealException.PinRejected -> copy(enrollError = "PIN 过于简单（如 123456、000000），请换一个：${e.detail}")
        is InksealException.TicketInvalid -> copy(step = Step.Login, ticket = "", message = "开户票据无效或已使用，请向后台重新申请：${e.detail}")
        is InksealException.Locked -> copy(step = Step.Login, keyId = null, message = "密钥已锁定（PIN 错误次数过多）。请重新核验客户身份后重新开户。")
        is InksealException.Revoked -> copy(step = Step.Login, keyId = null, message = "该密钥已吊销，请重新申请开户票据")
        is InksealException.Unauthenticated -> copy(step = Step.Login, keyId = null, message = "本机设备密钥未被服务器认可，请重新开户：${e.detail}")
        is InksealException.ClockSkew -> copy(message = "平板时间不准确，请开启自动设置时间后重试")
        is InksealException.RateLimited -> copy(message = "请求过于频繁，请 ${e.retryAfterSecs} 秒后重试")
        // A refused capture: what to do comes with it (retake the face, the card, …).
        is InksealException.CaptureRejected -> copy(
            step = if (step == Step.Confirm) Step.Sign else Step.Capture,
            captureError = "${e.reason}（${actionPrompt(e.action)}）",
            pinError = if (step == Step.Confirm) "活体核验未通过：${e.reason}，请重新确认签署" else pinError,
        )
        // Back to capture: the server wants fresh identity evidence.
        is InksealException.EvidenceRequired -> copy(step = Step.Capture, evidence = null, captureError = "需要重新核验身份：${e.detail}")
        is InksealException.HandwritingRejected -> copy(message = "请客户重新签名：${e.reason}")
        is InksealException.UnknownKey -> copy(step = Step.Enroll, keyId = null, message = "本机没有该客户的密钥，请重新开户")
        is InksealException.Network -> copy(message = "无法连接签名服务器：${e.detail}")
        // The officer cancelled the capture: back to where it started, nothing to explain.
        is InksealException.Cancelled -> if (step == Step.Confirm) copy(step = Step.Sign) else this
        else -> copy(message = e.message)
    }

    private fun requireClient(): InksealClient = client ?: throw IllegalStateException("log in first")

    private fun requireKey(): String = state.value.keyId ?: throw IllegalStateException("enroll the customer first")

    /** An asset copied to a file (PdfRenderer and signPdf need a path). */
    private fun assetFile(name: String): File {
        val app = getApplication<Application>()
        val file = File(app.filesDir, name)
        if (!file.isFile) app.assets.open(name).use { input -> file.outputStream().use { input.copyTo(it) } }
        return file
    }

    override fun onCleared() {
        client?.close()
        pad.close()
    }
}

/** What the officer should do after a refused capture. */
fun actionPrompt(action: CaptureAction): String = when (action) {
    CaptureAction.RETAKE_FACE -> "请重新拍摄人脸"
    CaptureAction.RETAKE_ID_CARD -> "请重新拍摄身份证"
    CaptureAction.USE_VALID_ID_CARD -> "证件已过期或未生效，请使用有效证件"
    CaptureAction.NEW_CHALLENGE -> "请重新开始核验"
    CaptureAction.RERECORD_INTENT -> "请重新录制意愿声明"
    CaptureAction.RETRY -> "请稍后重试"
}

fun pem(der: ByteArray): String =
    "-----BEGIN CERTIFICATE-----\n" +
        Base64.getMimeEncoder(64, "\n".toByteArray()).encodeToString(der) +
        "\n-----END CERTIFICATE-----\n"
