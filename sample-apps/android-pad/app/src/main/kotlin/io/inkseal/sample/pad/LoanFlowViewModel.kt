package io.inkseal.sample.pad

import android.app.Application
import android.graphics.Bitmap
import android.os.Build
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import io.inkseal.EvidenceInfo
import io.inkseal.FileBlobStore
import io.inkseal.Inkseal
import io.inkseal.InksealClient
import io.inkseal.InksealException
import io.inkseal.PdfSignOptions
import io.inkseal.PdfVerification
import io.inkseal.Placement
import io.inkseal.PlatformKey
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
// A star import on purpose: the capture calls (captureEvidence) are declared by the façade as
// extension functions of InksealClient in package io.inkseal, which need importing by name
// only while they are extensions; the star import compiles either way.
import io.inkseal.*

/** Where the counter flow is. */
sealed interface Step {
    /** The officer enters the server and the customer's id. */
    data object Login : Step
    /** The customer chooses a PIN: a split key is created. */
    data object Enroll : Step
    /** ID card and face liveness through the camera hooks; the server decides. */
    data object Capture : Step
    /** Contract preview, handwritten signature, PIN, co-signing. */
    data object Sign : Step
    /** The signed contract and its verification. */
    data class Done(val signed: File, val verification: PdfVerification, val ink: Bitmap?, val page: Bitmap?) : Step
}

data class UiState(
    val step: Step = Step.Login,
    val serverUrl: String = "https://cosign.example.com",
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
)

/**
 * The counter flow: one client per officer session (shares wrapped by the Android Keystore,
 * stored under noBackupFilesDir), typed errors turned into the screen the officer needs.
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

    fun login(serverUrl: String, userId: String, customerName: String) = step {
        client?.close()
        // Inkseal.androidClient(context, serverUrl) from io.inkseal.android does the same in one call.
        val newClient = withContext(Dispatchers.IO) {
            Inkseal.init()
            val key = PlatformKey.androidKeystore()
            key.check()
            InksealClient.create(serverUrl, key, FileBlobStore(File(getApplication<Application>().noBackupFilesDir, "inkseal-shares")))
        }
        client = newClient
        caPem = null
        _state.update { it.copy(serverUrl = serverUrl, userId = userId, customerName = customerName, keyId = null, evidence = null, step = Step.Enroll) }
    }

    fun enroll(pin: String) = step {
        val info = requireClient().enroll(state.value.userId, pin)
        _state.update { it.copy(keyId = info.keyId, step = Step.Capture) }
    }

    /** Identity proofing bound to the contract: ID card, then face liveness, then the verdict. */
    fun captureIdentity() = step {
        _state.update { it.copy(captureError = null) }
        val document = contractFile()
        val evidence = requireClient().captureEvidence(
            requireKey(),
            CameraFaceLivenessHook(capture),
            CameraIdCardHook(capture),
            document,
        )
        if (!evidence.passed) throw InksealException.CaptureRejected(evidence.reason)
        _state.update { it.copy(evidence = evidence, step = Step.Sign) }
    }

    /** Seals the handwriting, co-signs the contract with the evidence, verifies it. */
    fun sign(pin: String) = step {
        val c = requireClient()
        val key = requireKey()
        val device = "${Build.MANUFACTURER} ${Build.MODEL}; Android ${Build.VERSION.RELEASE}"
        val inkPreview = pad.preview()
        val sealed = pad.finish(device).use { it.sealForInstitution(institutionPem) }
        val anchor = caPem ?: run {
            // Identity proofing precedes the certificate. NOTE: under a liveness policy the
            // server wants the evidence on this co-signature too; the capture contract's
            // requestCertificate takes none yet (see sample-apps/README.md).
            val cert = c.requestCertificate(key, pin)
            pem(cert.caCertificateDer).also { caPem = it }
        }
        val options = PdfSignOptions(
            placement = Placement.keyword(KEYWORD, width = 150.0, height = 60.0, page = KEYWORD_PAGE),
            reason = "借款合同签署",
            location = "网点柜面",
            labelLines = listOf(state.value.customerName, LocalDate.now(ZoneId.of("Asia/Shanghai")).toString()),
            handwriting = sealed,
            evidenceHeadHex = state.value.evidence?.headHex,
        )
        val out = File(getApplication<Application>().filesDir, "signed/contract-${System.currentTimeMillis()}.pdf")
        out.parentFile?.mkdirs()
        c.signPdf(key, pin, contractFile(), out, options)
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
        is InksealException.WrongPin -> copy(pinError = "PIN 错误，还可尝试 ${e.attemptsLeft} 次")
        is InksealException.Locked -> copy(step = Step.Login, keyId = null, message = "密钥已锁定（PIN 错误次数过多）。请重新核验客户身份后重新开户。")
        is InksealException.CaptureRejected -> copy(step = Step.Capture, captureError = e.reason)
        // Back to capture: the server wants fresh evidence bound to this signature.
        is InksealException.EvidenceRequired -> copy(step = Step.Capture, evidence = null, captureError = "需要重新核验身份：${e.detail}")
        is InksealException.HandwritingRejected -> copy(message = "请客户重新签名：${e.reason}")
        is InksealException.UnknownKey -> copy(step = Step.Enroll, keyId = null, message = "本机没有该客户的密钥，请重新开户")
        is InksealException.Network -> copy(message = "无法连接签名服务器：${e.detail}")
        // The officer cancelled the capture: stay where we are, nothing to explain.
        is InksealException.Cancelled -> this
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

fun pem(der: ByteArray): String =
    "-----BEGIN CERTIFICATE-----\n" +
        Base64.getMimeEncoder(64, "\n".toByteArray()).encodeToString(der) +
        "\n-----END CERTIFICATE-----\n"
