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
 * A capture from a folder: the server's one-time challenge, the hooks reading [folder] (ID card
 * required), the [documentDigestsHex] bound in (none for identity proofing before the
 * certificate; the prepared contract's digest before signing), the server's verdict. A failed
 * verdict throws InksealException.CaptureRejected (with the CaptureAction to take).
 */
suspend fun captureIdentity(
    client: InksealClient,
    keyId: String,
    folder: File,
    documentDigestsHex: List<String> = emptyList(),
): CaptureOutcome {
    val info: EvidenceInfo = client.captureEvidenceFromFolder(keyId, folder, requireIdCard = true, documentDigestsHex = documentDigestsHex)
    return CaptureOutcome(
        headHex = info.headHex,
        passed = info.passed,
        reason = info.reason,
        validUntilMs = info.validUntilMs.toLong(),
        idNumberMasked = info.idNumberMasked,
    )
}
