// The desktop JVM's device key store: P-256 keys from java.security, kept in a
// password-protected PKCS12 file (or only in memory), no attestation. Plain JVM APIs only, so
// the desktop sample and scripts/bindings.sh test-kotlin compile it; phones use
// io.inkseal.android.AndroidKeystoreDeviceKeys instead.
package io.inkseal

import io.inkseal.ffi.HookException
import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.io.File
import java.io.IOException
import java.nio.file.Files
import java.nio.file.StandardCopyOption
import java.nio.file.attribute.PosixFilePermissions
import java.security.GeneralSecurityException
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.SecureRandom
import java.security.Signature
import java.security.cert.Certificate
import java.security.cert.CertificateFactory
import java.security.spec.ECGenParameterSpec

/**
 * A [DeviceKeyStore] for desktop JVMs and tests: each device key is an EC P-256 key pair made
 * by `KeyPairGenerator("EC")`, kept with a self-signed placeholder certificate (PKCS12 needs
 * one) in a PKCS12 key store protected by a password. The file is rewritten atomically and is
 * owner-only where the file system allows. Signatures are `SHA256withECDSA` (DER).
 *
 * This is not a hardware key store: whoever has the file and the password has the keys. On
 * Android use io.inkseal.android.AndroidKeystoreDeviceKeys.
 */
class JvmDeviceKeys private constructor(private val file: File?, password: String) : DeviceKeyStore {
    companion object {
        /** Keys in the PKCS12 file [file] (created on first use), protected by [password]. */
        fun pkcs12File(file: File, password: String): JvmDeviceKeys = JvmDeviceKeys(file, password)

        /** Keys in memory only: gone with the object (tests). */
        fun inMemory(): JvmDeviceKeys = JvmDeviceKeys(null, "in-memory")

        private val ALIAS = Regex("[A-Za-z0-9_-]{1,64}")
    }

    private val password = password.toCharArray()
    private val lock = Any()
    private val keyStore: KeyStore = KeyStore.getInstance("PKCS12").apply {
        if (file != null && file.isFile) {
            try {
                file.inputStream().use { load(it, this@JvmDeviceKeys.password) }
            } catch (e: IOException) {
                throw IllegalArgumentException("cannot open the device key store $file: ${e.message}", e)
            }
        } else {
            load(null, null)
        }
    }

    /** The aliases of the keys held (names only; nothing secret). */
    fun aliases(): Set<String> = synchronized(lock) { keyStore.aliases().toList().toSet() }

    override fun create(alias: String, attestationChallenge: ByteArray): DeviceKeyInfo {
        checkAlias(alias)
        return guarded("create") {
            val generator = KeyPairGenerator.getInstance("EC")
            generator.initialize(ECGenParameterSpec("secp256r1"), SecureRandom())
            val pair = generator.generateKeyPair()
            val certificate = SelfSigned.certificate(pair.private, pair.public.encoded)
            synchronized(lock) {
                keyStore.setKeyEntry(alias, pair.private, password, arrayOf(certificate))
                save()
            }
            // No attestation: a desktop JVM has no key attestation to offer.
            DeviceKeyInfo(publicKeySpkiDer = pair.public.encoded, attestation = null)
        }
    }

    override fun sign(alias: String, message: ByteArray): ByteArray {
        checkAlias(alias)
        return guarded("sign") {
            val key = synchronized(lock) { keyStore.getKey(alias, password) as? PrivateKey }
                ?: throw HookException.Failed("no device key \"$alias\" in this store")
            Signature.getInstance("SHA256withECDSA").run {
                initSign(key)
                update(message)
                sign()
            }
        }
    }

    override fun delete(alias: String) {
        checkAlias(alias)
        guarded("delete") {
            synchronized(lock) {
                if (keyStore.containsAlias(alias)) {
                    keyStore.deleteEntry(alias)
                    save()
                }
            }
        }
    }

    private fun checkAlias(alias: String) {
        if (!ALIAS.matches(alias)) throw HookException.Failed("bad device key alias")
    }

    /** Java exceptions as the hook error the library expects (no secret in the message). */
    private inline fun <T> guarded(what: String, block: () -> T): T =
        try {
            block()
        } catch (e: HookException) {
            throw e
        } catch (e: GeneralSecurityException) {
            throw HookException.Failed("$what: ${e.javaClass.simpleName}: ${e.message}")
        } catch (e: IOException) {
            throw HookException.Failed("$what: ${e.javaClass.simpleName}: ${e.message}")
        }

    /** Writes the key store to [file] atomically (a temporary file, then a rename). */
    private fun save() {
        val target = file ?: return
        val dir = target.absoluteFile.parentFile
        if (!dir.isDirectory && !dir.mkdirs()) throw IOException("cannot create $dir")
        val bytes = ByteArrayOutputStream().also { keyStore.store(it, password) }.toByteArray()
        val tmp = File.createTempFile(".${target.name}", ".tmp", dir)
        try {
            runCatching { Files.setPosixFilePermissions(tmp.toPath(), PosixFilePermissions.fromString("rw-------")) }
            tmp.writeBytes(bytes)
            Files.move(tmp.toPath(), target.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
        } finally {
            tmp.delete()
        }
    }
}

/**
 * The smallest X.509 v1 certificate a PKCS12 private key entry needs: self-signed
 * (ecdsa-with-SHA256), subject and issuer CN=inkseal device key. Nothing ever trusts it; the
 * server registers the device key's bare public key.
 */
internal object SelfSigned {
    private const val SEQUENCE = 0x30
    private const val SET = 0x31

    fun certificate(privateKey: PrivateKey, spki: ByteArray): Certificate {
        val ecdsaWithSha256 = der(SEQUENCE, oid(byteArrayOf(0x2A, 0x86.toByte(), 0x48, 0xCE.toByte(), 0x3D, 0x04, 0x03, 0x02)))
        val name = der(
            SEQUENCE,
            der(SET, der(SEQUENCE, oid(byteArrayOf(0x55, 0x04, 0x03)), der(0x0C, "inkseal device key".toByteArray()))),
        )
        val validity = der(SEQUENCE, der(0x17, "250101000000Z".toByteArray()), der(0x17, "491231235959Z".toByteArray()))
        val serial = ByteArray(8).also { SecureRandom().nextBytes(it); it[0] = (it[0].toInt() and 0x7F or 0x01).toByte() }
        val tbs = der(SEQUENCE, der(0x02, serial), ecdsaWithSha256, name, validity, name, spki)
        val signature = Signature.getInstance("SHA256withECDSA").run {
            initSign(privateKey)
            update(tbs)
            sign()
        }
        val cert = der(SEQUENCE, tbs, ecdsaWithSha256, der(0x03, byteArrayOf(0) + signature))
        return CertificateFactory.getInstance("X.509").generateCertificate(ByteArrayInputStream(cert))
    }

    private fun oid(body: ByteArray) = der(0x06, body)

    private fun der(tag: Int, vararg parts: ByteArray): ByteArray {
        val body = parts.fold(ByteArray(0)) { acc, p -> acc + p }
        val n = body.size
        val length = when {
            n < 0x80 -> byteArrayOf(n.toByte())
            n < 0x100 -> byteArrayOf(0x81.toByte(), n.toByte())
            else -> byteArrayOf(0x82.toByte(), (n shr 8).toByte(), n.toByte())
        }
        return byteArrayOf(tag.toByte()) + length + body
    }
}
