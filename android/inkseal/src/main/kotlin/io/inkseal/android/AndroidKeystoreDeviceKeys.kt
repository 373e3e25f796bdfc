// The Android device key store: P-256 keys in the Android Keystore, attested with the
// enrollment ticket's id. Needs android.security.keystore, so only Gradle compiles this file
// (the desktop JVM tests compile io/inkseal/*.kt, not io/inkseal/android/).
package io.inkseal.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import io.inkseal.AttestationKind
import io.inkseal.DeviceAttestationInfo
import io.inkseal.DeviceKeyInfo
import io.inkseal.DeviceKeyStore
import io.inkseal.ffi.HookException
import java.security.GeneralSecurityException
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.ProviderException
import java.security.Signature
import java.security.spec.ECGenParameterSpec

/**
 * A [DeviceKeyStore] in the Android Keystore: each device key is an EC P-256 signing key
 * (`PURPOSE_SIGN`, `DIGEST_SHA256`) generated inside the key store (TEE, or StrongBox with
 * [preferStrongBox] where the device has one) with the server's attestation challenge, so the
 * server can check the Android Key Attestation chain it returns. The private key never leaves
 * the key store; signatures are `SHA256withECDSA` (DER).
 *
 * Aliases are prefixed with [aliasPrefix] so the app's other keys are never touched.
 */
class AndroidKeystoreDeviceKeys(
    private val aliasPrefix: String = "inkseal-device-",
    private val preferStrongBox: Boolean = false,
) : DeviceKeyStore {
    private fun keyStore(): KeyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }

    private fun name(alias: String): String {
        if (!ALIAS.matches(alias)) throw HookException.Failed("bad device key alias")
        return aliasPrefix + alias
    }

    override fun create(alias: String, attestationChallenge: ByteArray): DeviceKeyInfo {
        val name = name(alias)
        return guarded("create") {
            val keyStore = keyStore()
            if (keyStore.containsAlias(name)) keyStore.deleteEntry(name)
            // StrongBox first when asked for, then the TEE; a device that cannot attest (a
            // ProviderException) still gets a device key, without attestation: a server that
            // requires attestation refuses it at enrollment.
            val attempts = listOfNotNull(
                (attestationChallenge to true).takeIf { preferStrongBox && Build.VERSION.SDK_INT >= 28 },
                attestationChallenge to false,
                null to false,
            )
            var failure: ProviderException? = null
            val pair = attempts.firstNotNullOfOrNull { (challenge, strongBox) ->
                try {
                    generate(name, challenge, strongBox)
                } catch (e: ProviderException) { // StrongBoxUnavailableException is one
                    failure = e
                    null
                }
            } ?: throw failure!!
            val chain = keyStore.getCertificateChain(name)?.map { it.encoded }.orEmpty()
            DeviceKeyInfo(
                publicKeySpkiDer = pair.public.encoded,
                attestation = chain.takeIf { it.size > 1 }?.let {
                    DeviceAttestationInfo(kind = AttestationKind.ANDROID_KEY, parts = it)
                },
            )
        }
    }

    private fun generate(name: String, challenge: ByteArray?, strongBox: Boolean) =
        KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, PROVIDER).run {
            val spec = KeyGenParameterSpec.Builder(name, KeyProperties.PURPOSE_SIGN)
                .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
                .setDigests(KeyProperties.DIGEST_SHA256)
                .apply { if (challenge != null) setAttestationChallenge(challenge) }
                .apply { if (strongBox && Build.VERSION.SDK_INT >= 28) setIsStrongBoxBacked(true) }
                .build()
            initialize(spec)
            generateKeyPair()
        }

    override fun sign(alias: String, message: ByteArray): ByteArray {
        val name = name(alias)
        return guarded("sign") {
            val key = keyStore().getKey(name, null) as? PrivateKey
                ?: throw HookException.Failed("no device key \"$alias\" in the Android Keystore")
            Signature.getInstance("SHA256withECDSA").run {
                initSign(key)
                update(message)
                sign()
            }
        }
    }

    override fun delete(alias: String) {
        val name = name(alias)
        guarded("delete") {
            val keyStore = keyStore()
            if (keyStore.containsAlias(name)) keyStore.deleteEntry(name)
        }
    }

    private inline fun <T> guarded(what: String, block: () -> T): T =
        try {
            block()
        } catch (e: HookException) {
            throw e
        } catch (e: GeneralSecurityException) {
            throw HookException.Failed("Android Keystore $what: ${e.javaClass.simpleName}: ${e.message}")
        } catch (e: ProviderException) {
            throw HookException.Failed("Android Keystore $what: ${e.javaClass.simpleName}: ${e.message}")
        }

    private companion object {
        const val PROVIDER = "AndroidKeyStore"
        val ALIAS = Regex("[A-Za-z0-9_-]{1,64}")
    }
}
