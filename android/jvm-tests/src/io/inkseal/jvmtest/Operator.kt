// The institution's backend, as far as the tests need it: enrollment tickets, signing policies
// and revocation through the operator API (`/v1/admin/...`, an API key), over java.net.http.
package io.inkseal.jvmtest

import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration

/** A ticket as the backend receives it; `ticket` goes to the phone (deep link, QR code). */
data class Ticket(val ticket: String, val ticketId: String, val userId: String, val certificateName: String)

class Operator(private val base: String, private val apiKey: String) {
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()

    /** `POST /v1/admin/tickets`: a one-time enrollment ticket for [userId]. */
    fun ticket(
        userId: String,
        certificateName: String = "张三",
        idNumber: String? = null,
        purpose: String = "signing",
    ): Ticket {
        val body = buildString {
            append("{\"user_id\":").append(json(userId))
            append(",\"certificate_name\":").append(json(certificateName))
            if (idNumber != null) append(",\"id_number\":").append(json(idNumber))
            append(",\"purpose\":").append(json(purpose))
            append('}')
        }
        val (status, answer) = call("POST", "/v1/admin/tickets", body)
        check(status == 201) { "ticket: HTTP $status $answer" }
        return Ticket(field(answer, "ticket"), field(answer, "ticket_id"), field(answer, "user_id"), field(answer, "certificate_name"))
    }

    /** `PUT /v1/admin/keys/{keyId}/policy`. */
    fun requireLiveness(keyId: String, maxEvidenceAgeSecs: Int = 600) {
        val (status, answer) = call("PUT", "/v1/admin/keys/$keyId/policy", "{\"require_liveness\":true,\"max_evidence_age_secs\":$maxEvidenceAgeSecs}")
        check(status == 200) { "policy: HTTP $status $answer" }
    }

    /** `POST /v1/admin/keys/{keyId}/revoke` (the bank revokes, e.g. the customer called in). */
    fun revoke(keyId: String) {
        val (status, answer) = call("POST", "/v1/admin/keys/$keyId/revoke", "{\"reason\":\"key_compromise\",\"note\":\"jvm test\"}")
        check(status == 200) { "revoke: HTTP $status $answer" }
    }

    /** `POST /v1/admin/login/challenges`: a login challenge for [relyingParty]. */
    fun loginChallenge(relyingParty: String, ttlSecs: Int = 120): io.inkseal.LoginChallengeInfo {
        val (status, answer) = call("POST", "/v1/admin/login/challenges", "{\"relying_party\":${json(relyingParty)},\"ttl_secs\":$ttlSecs}")
        check(status == 201) { "login challenge: HTTP $status $answer" }
        fun number(name: String): ULong =
            Regex("\"${Regex.escape(name)}\"\\s*:\\s*(\\d+)").find(answer)?.groupValues?.get(1)?.toULong()
                ?: error("no \"$name\" in $answer")
        return io.inkseal.LoginChallengeInfo(
            challengeId = field(answer, "challenge_id"),
            nonce = field(answer, "nonce"),
            relyingParty = field(answer, "relying_party"),
            issuedAt = number("issued_at"),
            expiresAt = number("expires_at"),
        )
    }

    /** `POST /v1/admin/login/verify`: status and body (who logged in, or a typed refusal). */
    fun verifyLogin(assertionDer: ByteArray, relyingParty: String): Pair<Int, String> {
        val hex = assertionDer.joinToString("") { "%02x".format(it) }
        return call("POST", "/v1/admin/login/verify", "{\"assertion_der_hex\":\"$hex\",\"relying_party\":${json(relyingParty)}}")
    }

    /** `GET /v1/admin/keys/{keyId}`: the raw JSON. */
    fun keyStatus(keyId: String): String {
        val (status, answer) = call("GET", "/v1/admin/keys/$keyId", null)
        check(status == 200) { "key status: HTTP $status $answer" }
        return answer
    }

    /** Any call (status and body), for tests of the operator API itself. */
    fun call(method: String, path: String, body: String?, bearer: String? = apiKey): Pair<Int, String> {
        val request = HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .apply { if (bearer != null) header("Authorization", "Bearer $bearer") }
            .apply { if (body != null) header("Content-Type", "application/json") }
            .method(method, body?.let { HttpRequest.BodyPublishers.ofString(it) } ?: HttpRequest.BodyPublishers.noBody())
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    companion object {
        fun json(s: String): String = buildString {
            append('"')
            for (c in s) {
                when {
                    c == '"' || c == '\\' -> append('\\').append(c)
                    c < ' ' -> append("\\u%04x".format(c.code))
                    else -> append(c)
                }
            }
            append('"')
        }

        /** A string field of a flat JSON object (the answers here have no escapes in them). */
        fun field(json: String, name: String): String =
            Regex("\"${Regex.escape(name)}\"\\s*:\\s*\"([^\"\\\\]*)\"").find(json)?.groupValues?.get(1)
                ?: error("no \"$name\" in $json")

        /** A boolean field of a flat JSON object. */
        fun flag(json: String, name: String): Boolean =
            Regex("\"${Regex.escape(name)}\"\\s*:\\s*(true|false)").find(json)?.groupValues?.get(1)?.toBooleanStrict()
                ?: error("no \"$name\" in $json")
    }
}
