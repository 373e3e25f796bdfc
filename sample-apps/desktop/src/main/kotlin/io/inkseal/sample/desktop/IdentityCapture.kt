package io.inkseal.sample.desktop

import io.inkseal.EvidenceInfo
import io.inkseal.Inkseal
import io.inkseal.InksealClient
import java.io.File

/** What the identity capture returned (the bindings' EvidenceInfo, in the sample's terms). */
data class CaptureOutcome(
    val headHex: String,
    val passed: Boolean,
    val reason: String,
    val validUntilMs: Long,
    val idNumberMasked: String?,
)

/**
 * Writes a valid sample folder for the file-based capture hooks (face frames, ID card
 * front/back and its fields) into [folder]. Blocking: call off the EDT.
 */
fun writeSampleCaptureFolder(folder: File) = Inkseal.writeSampleCaptureFolder(folder)

/**
 * Identity proofing from a capture folder: the server's one-time challenge, the hooks reading
 * [folder] (ID card required), [document]'s digest bound in, the server's verdict. A failed
 * verdict throws InksealException.CaptureRejected.
 */
suspend fun captureIdentity(client: InksealClient, keyId: String, folder: File, document: File): CaptureOutcome {
    val info: EvidenceInfo = client.captureEvidenceFromFolder(keyId, folder, requireIdCard = true, document = document)
    return CaptureOutcome(
        headHex = info.headHex,
        passed = info.passed,
        reason = info.reason,
        validUntilMs = info.validUntilMs.toLong(),
        idNumberMasked = info.idNumberMasked,
    )
}
