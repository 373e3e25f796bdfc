package io.inkseal.sample.desktop

import io.inkseal.JvmLabelFont
import io.inkseal.CertificateInfo
import io.inkseal.Inkseal
import io.inkseal.InksealClient
import io.inkseal.CaptureAction
import io.inkseal.InksealException
import io.inkseal.JvmDeviceKeys
import io.inkseal.PdfSignOptions
import io.inkseal.PdfVerification
import io.inkseal.Placement
import java.awt.BorderLayout
import java.awt.Component
import java.awt.Dimension
import java.awt.FlowLayout
import java.awt.Font
import java.awt.GridBagConstraints
import java.awt.GridBagLayout
import java.awt.Insets
import java.awt.image.BufferedImage
import java.io.File
import java.time.Instant
import java.time.LocalDate
import java.time.LocalTime
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.util.Base64
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO
import javax.swing.BorderFactory
import javax.swing.Box
import javax.swing.BoxLayout
import javax.swing.JButton
import javax.swing.JComponent
import javax.swing.JFrame
import javax.swing.JLabel
import javax.swing.JPanel
import javax.swing.JPasswordField
import javax.swing.JScrollPane
import javax.swing.JTextArea
import javax.swing.JTextField
import javax.swing.SwingUtilities
import javax.swing.WindowConstants
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/** The contract signed and checked, as shown in the window. */
data class SignedContract(val file: File, val pageImage: File, val verification: PdfVerification, val valid: Boolean)

/**
 * The loan officer's window. Each step is a suspend function running on the EDT ([Edt]); the
 * façade's calls hop to Dispatchers.IO and back. The buttons launch the steps; the scripted
 * mode calls the same functions in order.
 */
class LoanOfficerWindow(
    private val config: SampleConfig,
    padWidth: Int,
    padHeight: Int,
    padDpi: Float,
) : JFrame("inkseal · 借款合同签署 · loan officer desktop sample") {
    private val scope = CoroutineScope(SupervisorJob() + Edt)
    private val institutionPem = config.institutionKey.readText()

    private val serverField = JTextField(config.serverUrl, 28)
    // The one-time enrollment ticket from the bank's backend (on a phone: a deep link or QR
    // code). A secret until used: shown masked.
    private val ticketField = JPasswordField(config.ticket.orEmpty(), 28)
    private val nameField = JTextField(config.customerName, 28)
    private val pinField = JPasswordField(config.pin, 28)
    private val enrollButton = JButton("① 开户  Enroll")
    private val captureButton = JButton("② 核验身份  Verify identity")
    private val undoButton = JButton("撤销 Undo")
    private val clearButton = JButton("清除 Clear")
    private val signButton = JButton("③ 签署合同  Sign contract")
    private val keyLabel = JLabel("not enrolled")
    private val evidenceLabel = JLabel("identity not verified")
    private val padLabel = JLabel(" ")
    private val logArea = JTextArea()
    private val result = ResultPanel()
    val pad = SignaturePad(padWidth, padHeight, padDpi) { message -> padChanged(message) }

    private var client: InksealClient? = null
    private var keyId: String? = null
    /** Identity proofing (no document): presented with the certificate request. */
    private var evidence: CaptureOutcome? = null
    /** The liveness capture bound to the prepared contract: presented with its signature. */
    private var signingEvidence: CaptureOutcome? = null
    private var caPem: String? = null
    private var certifiedKey: String? = null

    init {
        defaultCloseOperation = WindowConstants.DISPOSE_ON_CLOSE
        val left = JPanel()
        left.layout = BoxLayout(left, BoxLayout.Y_AXIS)
        left.border = BorderFactory.createEmptyBorder(10, 12, 10, 6)
        left.add(JLabel("inkseal · 借款合同签署").apply { font = font.deriveFont(Font.BOLD, 20f) }.leftAligned())
        left.add(JLabel("${config.contract.name} · 第 ${config.page} 页 · ${config.keyword}").leftAligned())
        left.add(Box.createVerticalStrut(6))

        val form = section("开户 · enrollment", GridBagLayout())
        formRow(form, 0, "Server URL", serverField)
        formRow(form, 1, "开户票据 ticket", ticketField)
        formRow(form, 2, "姓名 name", nameField)
        formRow(form, 3, "PIN", pinField)
        form.add(
            JPanel(FlowLayout(FlowLayout.LEFT, 0, 0)).apply { add(enrollButton); add(Box.createHorizontalStrut(12)); add(keyLabel) },
            GridBagConstraints().apply { gridx = 1; gridy = 4; anchor = GridBagConstraints.WEST; insets = Insets(4, 4, 2, 4) },
        )
        left.add(form)

        val identity = section("身份核验 · identity (ID card + face liveness)", FlowLayout(FlowLayout.LEFT, 6, 2))
        identity.add(captureButton)
        identity.add(evidenceLabel)
        left.add(identity)

        val signing = section("客户签名 · the customer signs here", BorderLayout(0, 4))
        signing.add(JPanel(FlowLayout(FlowLayout.LEFT, 0, 0)).apply { add(pad.apply { border = BorderFactory.createLineBorder(Palette.GUIDE) }) }, BorderLayout.CENTER)
        signing.add(JPanel(FlowLayout(FlowLayout.LEFT, 6, 0)).apply { add(undoButton); add(clearButton); add(padLabel) }, BorderLayout.SOUTH)
        left.add(signing)
        left.add(Box.createVerticalStrut(6))
        signButton.font = signButton.font.deriveFont(Font.BOLD, 16f)
        left.add(JPanel(FlowLayout(FlowLayout.LEFT, 0, 0)).apply { add(signButton) }.leftAligned())
        left.add(Box.createVerticalStrut(6))
        logArea.isEditable = false
        logArea.font = Font(Font.MONOSPACED, Font.PLAIN, 12)
        left.add(JScrollPane(logArea).apply { preferredSize = Dimension(640, 200) }.leftAligned())
        left.preferredSize = Dimension(660, 10)

        contentPane.layout = BorderLayout()
        contentPane.add(left, BorderLayout.WEST)
        contentPane.add(result, BorderLayout.CENTER)

        enrollButton.addActionListener { launchStep { enroll() } }
        captureButton.addActionListener { launchStep { verifyIdentity() } }
        signButton.addActionListener { launchStep { signContract() } }
        undoButton.addActionListener { pad.undo() }
        clearButton.addActionListener { pad.clear() }
        padChanged(null)
        log("server ${config.serverUrl}; output in ${config.outDir}")
    }

    // --- the steps ------------------------------------------------------------------------

    /**
     * Creates the customer's split key with the bank's enrollment ticket: the device share
     * under OUT/device-shares, the device key (which signs every request) in the PKCS12 file
     * OUT/device-keys.p12. A used or expired ticket is InksealException.TicketInvalid.
     */
    suspend fun enroll() = withContext(Edt) {
        val pin = String(pinField.password)
        val ticket = String(ticketField.password).trim()
        if (ticket.isEmpty()) throw SampleFailure("paste the enrollment ticket the bank's backend issued (et-…)")
        client?.close()
        // A desktop JVM has no hardware key store: the sample's device keys sit in a PKCS12
        // file (a real desktop app would keep its password in the OS keychain).
        val deviceKeys = withContext(Dispatchers.IO) {
            JvmDeviceKeys.pkcs12File(File(config.outDir, "device-keys.p12"), DEVICE_KEYS_PASSWORD)
        }
        val c = InksealClient.withShareDirectory(serverField.text.trim(), File(config.outDir, "device-shares"), deviceKeys)
        client = c
        keyId = null
        evidence = null
        signingEvidence = null
        caPem = null
        log("enrolling with ticket ${ticket.substringBefore('.')} …")
        val info = c.enroll(ticket, pin)
        keyId = info.keyId
        ticketField.text = ""
        if (nameField.text.isBlank()) nameField.text = info.certificateName
        keyLabel.text = "key ${info.keyId.take(12)}… · ${info.userId}"
        evidenceLabel.text = "identity not verified"
        log("enrolled ${info.userId} (${info.certificateName}): key ${info.keyId} chosen by the server, " +
            "joint SM2 public key ${info.publicKeyHex.take(18)}…, device key in device-keys.p12")
    }

    /**
     * Identity proofing (before the certificate): the server's one-time challenge, the
     * file-based hooks reading a sample folder (ID card front/back/fields, face frames), the
     * server's verdict (the card's number checked against the one the bank bound to the ticket).
     */
    suspend fun verifyIdentity() = withContext(Edt) {
        val c = client ?: throw SampleFailure("enroll the customer first")
        val key = keyId ?: throw SampleFailure("enroll the customer first")
        val folder = captureFolder()
        log("identity capture: challenge → ID card → face liveness → server verdict …")
        val outcome = captureIdentity(c, key, folder)
        if (!outcome.passed) {
            evidenceLabel.text = "rejected: ${outcome.reason}"
            throw SampleFailure("identity capture rejected: ${outcome.reason}")
        }
        evidence = outcome
        val until = Instant.ofEpochMilli(outcome.validUntilMs).atZone(ZoneId.systemDefault()).toLocalTime().withNano(0)
        evidenceLabel.text = "✔ ${outcome.idNumberMasked ?: "face"} · valid until $until"
        log("identity verified: ID ${outcome.idNumberMasked ?: "-"}, evidence head ${outcome.headHex.take(16)}…, valid until $until")
    }

    /** The sample capture folder (the file-based hooks' camera), written on first use. */
    private suspend fun captureFolder(): File {
        val folder = File(config.outDir, "capture-sample")
        if (!File(folder, "id_fields.json").isFile) {
            withContext(Dispatchers.IO) { writeSampleCaptureFolder(folder) }
            log("wrote the sample capture folder $folder")
        }
        return folder
    }

    /**
     * Seals the handwriting to the institution, gets the certificate if needed (presenting the
     * identity proofing), prepares the contract's signature at the keyword, captures liveness
     * bound to its digest, co-signs it with that evidence, verifies it, renders the page and
     * shows the verdict.
     */
    suspend fun signContract(): SignedContract = withContext(Edt) {
        val c = client ?: throw SampleFailure("enroll the customer first")
        val key = keyId ?: throw SampleFailure("enroll the customer first")
        val pin = String(pinField.password)
        val expired = evidence?.let { it.validUntilMs in 1 until System.currentTimeMillis() } == true
        if (expired) {
            evidence = null
            log("the identity evidence expired: verify the customer's identity again")
        }

        val handwriting = pad.finish("inkseal desktop sample; Swing; ${System.getProperty("os.name")} ${System.getProperty("os.arch")}")
        val quality = handwriting.quality
        val sealed = handwriting.use { it.sealForInstitution(institutionPem) }
        log("handwriting accepted: ${quality.strokes} strokes, ${quality.points} points, ${quality.durationMs} ms, " +
            "${"%.0f".format(quality.bboxWidthMm)} × ${"%.0f".format(quality.bboxHeightMm)} mm; record sealed to the institution")
        File(config.outDir, "handwriting.sealed").writeBytes(sealed.sealedRecord())

        val anchor = certificate(c, key, pin)
        val options = PdfSignOptions(
            placement = Placement.keyword(config.keyword, width = 150.0, height = 60.0, page = config.page),
            reason = "借款合同签署",
            location = "上海",
            labelLines = listOf(nameField.text.trim(), LocalDate.now(ZoneId.of("Asia/Shanghai")).toString()),
            labelFont = JvmLabelFont.system(),
            handwriting = sealed,
        )
        val out = File(config.outDir, "contract-signed.pdf")
        // Two steps so that the liveness evidence binds this exact signature revision: prepare
        // (no network), capture with its digest, co-sign the prepared revision.
        c.preparePdf(key, config.contract, options).use { prepared ->
            log("prepared the signature of ${config.contract.name} at “${config.keyword}” on page ${config.page}: " +
                "document digest ${prepared.documentDigestHex.take(16)}…")
            log("liveness capture bound to the contract: challenge → ID card → face → server verdict …")
            val bound = captureIdentity(c, key, captureFolder(), listOf(prepared.documentDigestHex))
            signingEvidence = bound
            log("co-signing with evidence ${bound.headHex.take(12)}…")
            c.signPreparedPdf(pin, prepared, out, bound.headHex) { stage, _ ->
                SwingUtilities.invokeLater { log("  signPreparedPdf: $stage") }
            }
        }

        val report = Inkseal.verifyPdf(out, listOf(anchor))
        val png = File(config.outDir, "contract-signed-page${config.page}.png")
        val image = withContext(Dispatchers.IO) { renderPage(out, config.page, png) }
        val valid = report.allValid && report.signatures.all { it.trusted == true && it.inkBinding == true }
        val sig = report.signatures.lastOrNull()
        val lines = buildList {
            add(if (valid) "签名有效 · the signature is valid" else "签名无效 · NOT valid")
            add("")
            add("file: ${out.path}")
            add("revisions: ${report.revisions}, signatures: ${report.signatures.size}")
            if (sig != null) {
                add("field: ${sig.field}")
                add("signer: ${sig.signer ?: "?"}")
                add("algorithm: ${sig.algorithm ?: "?"}")
                add("signing time: ${sig.signingTime ?: "?"}")
                add("covers the whole file: ${yes(sig.coversWholeDocument)}")
                add("chain to the server's CA: ${sig.trusted?.let(::yes) ?: "not judged"}")
                add("handwriting record bound: ${sig.inkBinding?.let(::yes) ?: "none"}")
                add("problems: ${if (sig.problems.isEmpty()) "none" else sig.problems.joinToString("; ")}")
            }
            add("")
            add(evidence?.let { "identity proofing: ${it.headHex.take(24)}… (ID ${it.idNumberMasked ?: "-"})" }
                ?: "identity proofing: none")
            add(signingEvidence?.let { "liveness bound to the contract: ${it.headHex.take(24)}…" } ?: "liveness for the contract: none")
            add("handwriting: ${quality.strokes} strokes, ${quality.points} points, ${quality.durationMs} ms")
            add("page image: ${png.name} (pdftoppm)")
        }
        val verdict = if (valid) "✔ 验证通过 · VALID" else "✘ 验证失败 · INVALID"
        result.show(image, valid, verdict, lines)
        log("verified: ${if (valid) "VALID" else "INVALID"}${sig?.problems?.takeIf { it.isNotEmpty() }?.let { " $it" } ?: ""}; page $png")
        SignedContract(out, png, report, valid)
    }

    /**
     * The key's certificate (once per key), the request presenting the identity evidence (a
     * --require-liveness server refuses the CSR's co-signature without it: identity proofing
     * precedes the certificate); returns the CA certificate as the trust anchor.
     */
    private suspend fun certificate(c: InksealClient, key: String, pin: String): String {
        caPem?.takeIf { certifiedKey == key }?.let { return it }
        log("requesting the certificate (a co-signed CSR) …")
        val cert: CertificateInfo = c.requestCertificate(key, pin, evidenceHeadHex = evidence?.headHex)
        val pem = pem(cert.caCertificateDer)
        caPem = pem
        certifiedKey = key
        log("certificate issued (${cert.certificateDer.size} bytes DER) by the server's CA")
        return pem
    }

    // --- helpers -----------------------------------------------------------------------------

    /** A failed step as the officer should read it: what happened and what to do. */
    fun explain(e: Throwable): String = when (e) {
        is InksealException.WrongPin -> "PIN 错误 · wrong PIN: ${e.attemptsLeft} attempt(s) left before the key locks"
        is InksealException.Locked -> "密钥已锁定 · the key is locked after too many wrong PINs: verify the customer and enroll again"
        is InksealException.EvidenceRequired -> "需要身份核验 · the server requires a fresh identity check bound to this signature: " +
            "press “Verify identity”, then sign again (${e.detail})"
        is InksealException.CaptureRejected -> "身份核验未通过 · capture rejected: ${e.reason}. " + when (e.action) {
            CaptureAction.RETAKE_FACE -> "Film the face again."
            CaptureAction.RETAKE_ID_CARD -> "Photograph the ID card again."
            CaptureAction.USE_VALID_ID_CARD -> "This card is not valid: use another document."
            CaptureAction.NEW_CHALLENGE -> "Start the capture again."
            CaptureAction.RERECORD_INTENT -> "Record the statement again."
            CaptureAction.RETRY -> "Try again in a moment."
        }
        is InksealException.TicketInvalid -> "开户票据无效 · the enrollment ticket is used or expired: ask the bank for a new one (${e.detail})"
        is InksealException.PinRejected -> "PIN 过于简单 · choose another PIN: ${e.detail}"
        is InksealException.Unauthenticated -> "设备未被识别 · this device is not recognised for the key: enroll again (${e.detail})"
        is InksealException.Revoked -> "密钥已吊销 · the key is revoked: enroll again with a new ticket"
        is InksealException.ClockSkew -> "设备时间不准 · set this computer's clock (automatic time), then retry"
        is InksealException.RateLimited -> "请求过于频繁 · too many requests: retry in ${e.retryAfterSecs} s"
        is InksealException.HandwritingRejected -> "请重新签名 · please sign again: ${e.reason}"
        is InksealException.Network -> "无法连接服务器 · the server cannot be reached: ${e.detail}"
        is InksealException.UnknownKey -> "unknown key: enroll again (${e.detail})"
        is InksealException -> e.message ?: e.toString()
        is SampleFailure -> e.message ?: "failed"
        else -> "${e::class.java.simpleName}: ${e.message}"
    }

    private fun launchStep(step: suspend () -> Unit) {
        scope.launch {
            setBusy(true)
            try {
                step()
            } catch (e: CancellationException) {
                throw e
            } catch (e: Throwable) {
                val text = explain(e)
                log("✘ $text")
                result.showFailure(text)
                if (e is InksealException.EvidenceRequired || e is InksealException.CaptureRejected) captureButton.requestFocusInWindow()
            } finally {
                setBusy(false)
            }
        }
    }

    private fun setBusy(busy: Boolean) {
        for (b in listOf(enrollButton, captureButton, signButton, undoButton, clearButton)) b.isEnabled = !busy
    }

    private fun padChanged(message: String?) {
        message?.let { log(it) }
        padLabel.text = "${pad.strokeCount} strokes · ${pad.segmentCount} segments"
    }

    fun log(line: String) {
        val time = LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss"))
        logArea.append("$time  $line\n")
        logArea.caretPosition = logArea.document.length
        println("[desktop-sample] $line")
    }

    fun close() {
        scope.launch { client?.close() }
        dispose()
    }

    private fun section(title: String, layout: java.awt.LayoutManager): JPanel = JPanel(layout).apply {
        border = BorderFactory.createCompoundBorder(
            BorderFactory.createTitledBorder(title),
            BorderFactory.createEmptyBorder(2, 4, 4, 4),
        )
        alignmentX = Component.LEFT_ALIGNMENT
    }

    private fun formRow(panel: JPanel, row: Int, label: String, field: JComponent) {
        panel.add(JLabel(label), GridBagConstraints().apply { gridx = 0; gridy = row; anchor = GridBagConstraints.EAST; insets = Insets(2, 4, 2, 6) })
        panel.add(field, GridBagConstraints().apply { gridx = 1; gridy = row; anchor = GridBagConstraints.WEST; fill = GridBagConstraints.HORIZONTAL; weightx = 1.0; insets = Insets(2, 4, 2, 4) })
    }

    private fun <T : JComponent> T.leftAligned(): T = apply { alignmentX = Component.LEFT_ALIGNMENT }
}

private fun yes(b: Boolean) = if (b) "yes" else "NO"

/** The sample's PKCS12 device key file password ($INKSEAL_DEVICE_KEYS_PASSWORD, else a fixed demo one). */
private val DEVICE_KEYS_PASSWORD: String = System.getenv("INKSEAL_DEVICE_KEYS_PASSWORD") ?: "inkseal-desktop-sample"

fun pem(der: ByteArray): String =
    "-----BEGIN CERTIFICATE-----\n" +
        Base64.getMimeEncoder(64, "\n".toByteArray()).encodeToString(der) +
        "\n-----END CERTIFICATE-----\n"

/** Renders one page of [pdf] to [png] with poppler's pdftoppm (144 dpi) and reads it. */
fun renderPage(pdf: File, page: Int, png: File): BufferedImage {
    val prefix = File(png.parentFile, png.name.removeSuffix(".png"))
    png.delete()
    val process = try {
        ProcessBuilder("pdftoppm", "-f", "$page", "-l", "$page", "-r", "144", "-png", "-singlefile", pdf.path, prefix.path)
            .redirectErrorStream(true)
            .start()
    } catch (e: java.io.IOException) {
        throw SampleFailure("cannot run pdftoppm (apt-get install poppler-utils): ${e.message}")
    }
    val output = process.inputStream.bufferedReader().readText()
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly()
        throw SampleFailure("pdftoppm did not finish within 60 s")
    }
    if (process.exitValue() != 0 || !png.isFile) throw SampleFailure("pdftoppm failed (${process.exitValue()}): $output")
    return ImageIO.read(png) ?: throw SampleFailure("$png is not a readable PNG")
}
